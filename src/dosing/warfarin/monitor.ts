// Warfarin monitoring of an ACTIVE order (patient-view, mode "monitor"), pure: the newest INR against the target range
// (a rule table: data, not code), and the Lenzini refinement on day 4/5 when it differs from the active dose.
import type { DraftOrder } from '../../cds/orders.js';
import type { DrugDictionary } from '../../domain/drugs.js';
import type { PatientFacts } from '../../domain/facts.js';
import type { Recommendation, RecommendationInput, Severity } from '../../domain/recommendation.js';
import { WARFARIN_METHOD_VERSION } from './evaluator.js';
import { deviceNote } from '../../fhir/devices.js';
import { INR_MAX_AGE_DAYS, newestInr, prostheticValveCondition, type RefinementOutcome } from './refine.js';

/** CHEST/ACCP antithrombotic guidelines (9th ed., 2012): target INR 2.0–3.0 for most indications; management of out-of-range INRs. */
export const ACCP_WARFARIN = {
  citation:
    'Holbrook A et al. Evidence-based management of anticoagulant therapy: Antithrombotic Therapy and Prevention of Thrombosis, 9th ed: American College of Chest Physicians Evidence-Based Clinical Practice Guidelines. Chest 2012;141(2 Suppl):e152S-e184S',
  url: 'https://doi.org/10.1378/chest.11-2295',
};

/** The INR target range the rules are checked against (CHEST/ACCP: 2.0–3.0 for most warfarin indications). */
export const INR_TARGET_RANGE = { low: 2, high: 3 } as const;

export interface InrRule {
  id: string;
  /** the rule applies when low ≤ INR < high (low < INR with lowExclusive; an absent bound is open) */
  low?: number;
  lowExclusive?: boolean;
  high?: number;
  severity: Extract<Severity, 'warning' | 'critical'>;
  direction: 'above' | 'below';
}

/**
 * INR outside the target range, newest INR at most INR_MAX_AGE_DAYS old. Thresholds: the 2–3 range is CHEST/ACCP's for
 * most indications; the "critical at 5 or more" split is this service's alerting rule (issue #8), not a guideline
 * number. First match wins.
 */
export function inrRules(range: { low: number; high: number } = INR_TARGET_RANGE): InrRule[] {
  return [
    { id: 'inr-very-high', low: 5, severity: 'critical', direction: 'above' },
    { id: 'inr-high', low: range.high, lowExclusive: true, high: 5, severity: 'warning', direction: 'above' },
    { id: 'inr-low', high: range.low, severity: 'warning', direction: 'below' },
  ];
}
export const INR_RULES: readonly InrRule[] = inrRules();

/**
 * With a prosthetic heart valve the target is 2.5–3.5 or 2.0–3.0 depending on the valve: only what is outside every
 * CHEST/ACCP target range (below 2, above 3.5) is flagged.
 */
export const INR_VALVE_ENVELOPE = { low: 2, high: 3.5 } as const;

export function inrRuleFor(inr: number, range: { low: number; high: number } = INR_TARGET_RANGE): InrRule | undefined {
  return inrRules(range).find((r) => (r.low === undefined || (r.lowExclusive ? inr > r.low : inr >= r.low)) && (r.high === undefined || inr < r.high));
}

export interface MonitorOptions {
  newId: () => string;
  now: Date;
}

function fmt(v: number, digits = 1): string {
  return Number(v.toFixed(digits)).toString();
}

/** An INR-out-of-range card for an active warfarin order (undefined: no recent INR, or INR within 2–3). */
export function inrOutOfRange(facts: PatientFacts, order: DraftOrder, dict: DrugDictionary, o: MonitorOptions): Recommendation | undefined {
  const inr = newestInr(facts, o.now);
  if (!inr || inr.ageDays === undefined || inr.ageDays > INR_MAX_AGE_DAYS) return undefined;
  const valve = prostheticValveCondition(facts.conditions);
  const bounds = valve ? INR_VALVE_ENVELOPE : INR_TARGET_RANGE;
  const rule = inrRuleFor(inr.value, bounds);
  if (!rule) return undefined;
  const warfarin = dict.ingredient('warfarin');
  const range = `${bounds.low}–${bounds.high}`;
  const inputs: RecommendationInput[] = [
    // a home or point-of-care meter's INR is said as such (the rules are the same: CHEST/ACCP manage a POC INR alike)
    { key: 'inr', label: inr.source.device ? `INR (newest, ${inr.source.device.label})` : 'INR (newest)', value: inr.value, source: inr.source, ...(deviceNote(inr.source) ? { note: deviceNote(inr.source)! } : {}) },
    valve
      ? { key: 'targetRange', label: 'INR range checked', value: range, note: 'prosthetic heart valve: the target (2.5 or 3.0) depends on the valve; only INRs outside every CHEST/ACCP target range are flagged' }
      : { key: 'targetRange', label: 'INR target range', value: range, note: 'CHEST/ACCP range for most warfarin indications' },
    ...(valve ? [{ key: 'valve', label: 'Prosthetic heart valve', value: valve.text || 'on the problem list', source: valve.source }] : []),
  ];
  const c = order.currentDose;
  if (c) inputs.push({ key: 'currentDose', label: 'Current warfarin order', value: `${fmt(c.value, 2)} mg${c.frequencyPerDay !== undefined ? ` ${fmt(c.frequencyPerDay, 2)}× per day` : ''}`, ...(order.ref ? { source: { reference: order.ref, via: 'context' as const } } : {}) });
  const notes = [
    rule.direction === 'above'
      ? `INR ${fmt(inr.value)} is above the ${range} target range${rule.severity === 'critical' ? ' (5 or more)' : ''}: review the warfarin dose per the institution's anticoagulation nomogram, and assess for bleeding and for the cause (interacting drugs, missed or extra doses, diet, illness).`
      : `INR ${fmt(inr.value)} is below the ${range} target range: review the warfarin dose per the institution's anticoagulation nomogram, and check adherence, interacting drugs and diet.`,
    'No dose change is proposed by this service; CHEST/ACCP guidance covers the management of out-of-range INRs.',
    ...(inr.source.device?.pointOfCare ? [`This INR is a point-of-care value (${inr.source.device.label}), not a laboratory result: point-of-care meters can differ from the laboratory, especially at high INRs — confirm a value far outside the range with a venous laboratory INR.`] : []),
  ];
  return {
    id: o.newId(),
    drug: { name: 'warfarin', ...(warfarin ? { rxnorm: warfarin.rxcui } : {}) },
    ...(order.ref ? { orderRef: order.ref } : {}),
    ...(c ? { draftDose: c } : {}),
    kind: 'dose-adjustment',
    severity: rule.severity,
    headline: `Warfarin: INR ${fmt(inr.value)} (${inr.date ?? 'recent'}) is ${rule.direction} the ${range} target range — review the dose`,
    inputs,
    missing: [],
    method: { id: `warfarin-inr-monitoring/${rule.id}`, name: 'INR outside the target range (service rule table)', version: WARFARIN_METHOD_VERSION },
    evidence: [ACCP_WARFARIN],
    notes,
  };
}

/**
 * What an active warfarin order needs now: the Lenzini refinement when it applies (day 4/5) and the active dose is
 * not within REFINEMENT_DIFFERENCE of it (or unknown), and an INR-out-of-range card. Never an initiation dose.
 * On day 4/5 a low INR is expected (the anticoagulant effect is still building up) and is what the refinement answers,
 * so a below-range card is not added then; an above-range INR is always shown.
 */
export function warfarinMonitorRecommendations(refinement: RefinementOutcome, facts: PatientFacts, order: DraftOrder, dict: DrugDictionary, o: MonitorOptions): Recommendation[] {
  const out: Recommendation[] = [];
  if (refinement.status === 'refined' && refinement.differsFromOrder !== false) out.push({ ...refinement.recommendation, severity: 'warning' });
  const inr = inrOutOfRange(facts, order, dict, o);
  if (inr && !(refinement.status === 'refined' && inr.method.id.endsWith('/inr-low'))) out.push(inr);
  return out;
}
