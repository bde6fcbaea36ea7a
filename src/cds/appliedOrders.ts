// What a hook call records for "accepted is not applied" (src/store/applied.ts): the order each update suggestion of a
// card intends, and the drafts the call shows. Both are read by the draft reader (`toOrder`), so a dose written the
// way a suggestion writes it reads the same when the EHR sends it back.
import type { MedicationRequest } from 'fhir/r4';
import type { IntendedOrder, OrderSnapshot } from '../domain/applied.js';
import { RXNORM_SYSTEM, type DrugDictionary } from '../domain/drugs.js';
import { toOrder, type DraftOrder } from './orders.js';
import type { Card, HookRequest } from './protocol.js';

function isMedicationRequest(r: unknown): r is MedicationRequest {
  return typeof r === 'object' && r !== null && (r as { resourceType?: unknown }).resourceType === 'MedicationRequest';
}

/**
 * Order ref, RxNorm codes of medicationCodeableConcept and dose per administration; undefined without a valid id.
 * `order` is the resource as toOrder reads it, when the caller has it already.
 */
export function orderSnapshot(resource: MedicationRequest, dict: DrugDictionary, order: DraftOrder = toOrder(resource, dict)): OrderSnapshot | undefined {
  if (!order.ref) return undefined;
  const codings = Array.isArray(resource.medicationCodeableConcept?.coding) ? resource.medicationCodeableConcept.coding : [];
  const rxnorm = [...new Set(codings.filter((c) => c?.system === RXNORM_SYSTEM && typeof c.code === 'string').map((c) => c.code!))].sort();
  const d = order.currentDose;
  const dose = d ? { value: d.value, unit: d.unit, ...(d.frequencyPerDay !== undefined ? { frequencyPerDay: d.frequencyPerDay } : {}) } : undefined;
  return { orderRef: order.ref, rxnorm, ...(dose ? { dose } : {}) };
}

/** One intended order per (suggestion, MedicationRequest) of the card's `update` actions. */
export function intendedOrdersOf(card: Card, dict: DrugDictionary): IntendedOrder[] {
  const out: IntendedOrder[] = [];
  const seen = new Set<string>();
  for (const s of card.suggestions ?? []) {
    if (!s.uuid) continue;
    for (const a of s.actions ?? []) {
      if (a.type !== 'update' || !isMedicationRequest(a.resource)) continue;
      const snap = orderSnapshot(a.resource, dict);
      if (!snap || seen.has(`${s.uuid} ${snap.orderRef}`)) continue;
      seen.add(`${s.uuid} ${snap.orderRef}`);
      out.push({ suggestionUuid: s.uuid, ...snap });
    }
  }
  return out;
}

/**
 * The drafts the call shows as they are now: every draft of order-select (selected or not) and order-sign, the
 * medications of medication-prescribe; other hooks show none. One per order ref (the first). `known`: drafts of this
 * request already read by toOrder (the orders in scope), not read a second time.
 */
export function seenOrdersOf(req: HookRequest, dict: DrugDictionary, known: readonly DraftOrder[] = []): OrderSnapshot[] {
  const bundle = req.hook === 'order-select' || req.hook === 'order-sign' ? req.context.draftOrders : req.hook === 'medication-prescribe' ? req.context.medications : undefined;
  const entries = Array.isArray(bundle?.entry) ? bundle.entry : [];
  const read = new Map<unknown, DraftOrder>();
  for (const o of known) read.set(o.resource, o);
  const out = new Map<string, OrderSnapshot>();
  for (const e of entries) {
    if (!isMedicationRequest(e?.resource)) continue;
    const snap = orderSnapshot(e.resource, dict, read.get(e.resource));
    if (snap && !out.has(snap.orderRef)) out.set(snap.orderRef, snap);
  }
  return [...out.values()];
}
