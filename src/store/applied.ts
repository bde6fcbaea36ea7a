// "Accepted and applied?": compares the order an accepted update suggestion intended with the draft a later hook call
// shows, and classifies accepted cards for the report. Pure: the stores fetch the candidates and record the result.
import type { AppliedOutcome, AppliedResolution, AppliedStatus, IntendedOrder, OrderDose, OrderSnapshot } from '../domain/applied.js';
import type { HookRecord } from './store.js';

/** Doses per administration (mg) and frequencies per day closer than this are the same. */
export const DOSE_TOLERANCE = 1e-6;

/** Hooks whose drafts can show whether an accepted suggestion was applied (not patient-view: active orders only). */
export const OBSERVING_HOOKS: ReadonlySet<string> = new Set(['order-select', 'order-sign', 'medication-prescribe']);

function near(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return Math.abs(a - b) <= DOSE_TOLERANCE;
}

/** Same dose per administration (same unit, within 1e-6) and same frequency per day; two unreadable doses are the same. */
export function sameDose(intended: OrderDose | undefined, seen: OrderDose | undefined): boolean {
  if (!intended || !seen) return !intended && !seen;
  return intended.unit === seen.unit && near(intended.value, seen.value) && near(intended.frequencyPerDay, seen.frequencyPerDay);
}

/** Same RxNorm code set, or the suggestion named no RxNorm code (then any product counts). */
export function sameProduct(intended: string[], seen: string[]): boolean {
  if (intended.length === 0) return true;
  const s = new Set(seen);
  return new Set(intended).size === s.size && intended.every((c) => s.has(c));
}

export function compareWithIntended(intended: OrderSnapshot, seen: OrderSnapshot): AppliedOutcome {
  return sameDose(intended.dose, seen.dose) && sameProduct(intended.rxnorm, seen.rxnorm) ? 'applied' : 'not-applied';
}

/** An unresolved intended order of an accepted card that a later call may resolve (what the stores' query returns). */
export interface OpenIntendedOrder {
  /** the store's row id */
  id: string;
  intended: IntendedOrder;
  /** suggestion uuids of the card's latest feedback (outcome "accepted") */
  acceptedSuggestions: string[];
}

/**
 * What `record` shows about `open` (candidates already restricted by client, FHIR server, patient, order ref, time and
 * the card's latest feedback being "accepted"): one resolution per accepted suggestion's intended order whose order
 * the call shows. Candidates of suggestions that were not accepted are left alone.
 */
export function resolveOpen(open: OpenIntendedOrder[], record: Pick<HookRecord, 'hookInstance' | 'seenOrders'> & { at: string }): { id: string; resolution: AppliedResolution }[] {
  const seenByRef = new Map<string, OrderSnapshot>();
  for (const s of record.seenOrders ?? []) if (!seenByRef.has(s.orderRef)) seenByRef.set(s.orderRef, s);
  const out: { id: string; resolution: AppliedResolution }[] = [];
  for (const o of open) {
    if (!o.acceptedSuggestions.includes(o.intended.suggestionUuid)) continue;
    const seen = seenByRef.get(o.intended.orderRef);
    if (!seen) continue;
    out.push({ id: o.id, resolution: { outcome: compareWithIntended(o.intended, seen), at: record.at, hookInstance: record.hookInstance, seen } });
  }
  return out;
}

/** Order refs a record can resolve (none for hooks that do not show drafts). */
export function observedRefs(r: Pick<HookRecord, 'hook' | 'seenOrders'>): string[] {
  if (!OBSERVING_HOOKS.has(r.hook)) return [];
  return [...new Set((r.seenOrders ?? []).map((s) => s.orderRef))];
}

/** One spelling per FHIR server (src/domain/tenant.ts), re-exported for the stores. */
export { normalizeFhirServer } from '../domain/tenant.js';

/**
 * A card's status for the report, from its latest feedback's accepted suggestions and its intended orders: "applied"
 * when any accepted suggestion's order was applied; else "not-applied" when any was seen not applied; else
 * "not-seen-again". Undefined when no accepted suggestion intended an order (e.g. a create or delete suggestion).
 */
export function appliedStatusOf(acceptedSuggestions: string[], intended: { suggestionUuid: string; outcome?: AppliedOutcome | null }[]): AppliedStatus | undefined {
  const mine = intended.filter((i) => acceptedSuggestions.includes(i.suggestionUuid));
  if (mine.length === 0) return undefined;
  if (mine.some((i) => i.outcome === 'applied')) return 'applied';
  if (mine.some((i) => i.outcome === 'not-applied')) return 'not-applied';
  return 'not-seen-again';
}
