// "Accepted is not applied": hook records with update suggestions and later calls that show the draft, and a small
// table of cases whose report figures the tests spell out.
import { randomUUID } from 'node:crypto';
import type { OrderDose, OrderSnapshot } from '../../src/domain/applied.js';
import type { HookRecord, Store } from '../../src/store/store.js';
import { overridden, recommendation } from './helpers.js';

export const EHR = 'https://ehr.test.local';
export const OTHER_EHR = 'https://other-ehr.test.local';
export const FHIR = 'https://ehr.test.local/fhir';

const WARFARIN_5MG_TAB = '855332';
const GABAPENTIN_300MG_CAP = '310431';

export const dose = (value: number, frequencyPerDay = 1): OrderDose => ({ value, unit: 'mg', frequencyPerDay });

/** A call that returned one card whose one suggestion updates `orderRef` to `intended`. */
export function cardWithUpdate(o: { drug: string; patientId: string; at: string; intended: Omit<OrderSnapshot, 'orderRef'> & { orderRef: string }; clientIss?: string; fhirServer?: string }) {
  const rec = recommendation({ drug: o.drug, kind: 'dose', severity: 'warning' });
  const card = randomUUID();
  const suggestion = randomUUID();
  const r: HookRecord = {
    hookInstance: randomUUID(),
    serviceId: 'dosing-order-select',
    hook: 'order-select',
    clientIss: o.clientIss ?? EHR,
    ...(o.fhirServer ? { fhirServer: o.fhirServer } : {}),
    patientId: o.patientId,
    orderedDrugs: [o.drug],
    outcome: 'cards',
    recommendations: [rec],
    cards: [{ uuid: card, recommendationId: rec.id, suggestionUuids: [suggestion], kind: 'dose', indicator: 'warning', genes: [], intendedOrders: [{ suggestionUuid: suggestion, ...o.intended }] }],
    timings: { fhirMs: 1, evaluateMs: 1, totalMs: 2 },
    at: o.at,
  };
  return { record: r, card, suggestion };
}

/** A later call for the same patient that shows `seen` (no card of its own, as when the order is now fine). */
export function observingCall(o: { patientId: string; at: string; seen: OrderSnapshot[]; clientIss?: string; fhirServer?: string; hook?: string }): HookRecord {
  const hook = o.hook ?? 'order-sign';
  return {
    hookInstance: randomUUID(),
    serviceId: `dosing-${hook}`,
    hook,
    clientIss: o.clientIss ?? EHR,
    ...(o.fhirServer ? { fhirServer: o.fhirServer } : {}),
    patientId: o.patientId,
    orderedDrugs: [],
    outcome: 'no-card',
    recommendations: [],
    cards: [],
    timings: { fhirMs: 1, evaluateMs: 1, totalMs: 2 },
    at: o.at,
    seenOrders: o.seen,
  };
}

export const acceptedSuggestion = (card: string, suggestion: string, ts: string) => ({ card, outcome: 'accepted' as const, acceptedSuggestions: [{ id: suggestion }], outcomeTimestamp: ts });

const T_CARD = '2026-06-01T10:00:00.000Z';
const T_FEEDBACK = '2026-06-01T10:01:00.000Z';
const T_NEXT = '2026-06-01T10:02:00.000Z';
const T_LATER = '2026-06-01T10:05:00.000Z';

/**
 * The table of cases (one patient and order each, all from EHR unless said):
 * 1 warfarin   accepted; next call shows the suggested order                         → applied
 * 2 warfarin   accepted; next call shows the old draft (sandbox: product, no dose)   → not applied
 * 3 warfarin   accepted; never seen again                                            → not seen again
 * 4 warfarin   accepted; the same order id shown by another client, by the same client from another FHIR server,
 *              and for another patient                                               → not seen again
 * 5 gabapentin overridden; next call shows the suggested order                       → not counted (no resolution)
 * 6 gabapentin accepted; next call within 1e-6 mg → applied; a later call with the old draft changes nothing
 * 7 gabapentin accepted; next call: same mg per dose, twice instead of three times a day → not applied
 * 8 clopidogrel accepted; its suggestion updated no order (nothing to apply)          → accepted only
 * 9 clopidogrel no feedback
 * Expected: cards 9, feedback 8, accepted 7, overridden 1, applied 2, not applied 2, not seen again 2, rate 0.5.
 */
export async function seedAppliedCases(store: Store) {
  const ref = (n: number) => `MedicationRequest/mr-applied-${n}`;
  const warfarin = (n: number, mg: number) => ({ orderRef: ref(n), rxnorm: [WARFARIN_5MG_TAB], dose: dose(mg) });
  const gabapentin = (n: number, mg: number, perDay: number) => ({ orderRef: ref(n), rxnorm: [GABAPENTIN_300MG_CAP], dose: dose(mg, perDay) });
  const c1 = cardWithUpdate({ drug: 'warfarin', patientId: 'pa-1', at: T_CARD, intended: warfarin(1, 2.5), fhirServer: FHIR });
  const c2 = cardWithUpdate({ drug: 'warfarin', patientId: 'pa-2', at: T_CARD, intended: warfarin(2, 2.5) });
  const c3 = cardWithUpdate({ drug: 'warfarin', patientId: 'pa-3', at: T_CARD, intended: warfarin(3, 2.5) });
  const c4 = cardWithUpdate({ drug: 'warfarin', patientId: 'pa-4', at: T_CARD, intended: warfarin(4, 2.5), fhirServer: FHIR });
  const c5 = cardWithUpdate({ drug: 'gabapentin', patientId: 'pa-5', at: T_CARD, intended: gabapentin(5, 300, 1) });
  const c6 = cardWithUpdate({ drug: 'gabapentin', patientId: 'pa-6', at: T_CARD, intended: gabapentin(6, 300, 1) });
  const c7 = cardWithUpdate({ drug: 'gabapentin', patientId: 'pa-7', at: T_CARD, intended: gabapentin(7, 300, 3) });
  const c8 = cardWithUpdate({ drug: 'clopidogrel', patientId: 'pa-8', at: T_CARD, intended: { orderRef: ref(8), rxnorm: [] } });
  c8.record.cards[0]!.intendedOrders = []; // its suggestion replaced the drug (delete + create): no order to apply
  const c9 = cardWithUpdate({ drug: 'clopidogrel', patientId: 'pa-9', at: T_CARD, intended: { orderRef: ref(9), rxnorm: [] } });
  const cases = [c1, c2, c3, c4, c5, c6, c7, c8, c9];
  for (const c of cases) await store.recordHook(c.record);

  await store.recordFeedback('dosing-order-select', EHR, [
    ...[c1, c2, c3, c4, c6, c7, c8].map((c) => acceptedSuggestion(c.card, c.suggestion, T_FEEDBACK)),
    overridden(c5.card, T_FEEDBACK, 'clinical', 'Clinical judgement'),
  ]);

  const next = {
    applied1: observingCall({ patientId: 'pa-1', at: T_NEXT, seen: [warfarin(1, 2.5)], fhirServer: `${FHIR}/` }),
    old2: observingCall({ patientId: 'pa-2', at: T_NEXT, seen: [warfarin(2, 5)] }),
    otherClient4: observingCall({ patientId: 'pa-4', at: T_NEXT, seen: [warfarin(4, 2.5)], clientIss: OTHER_EHR, fhirServer: FHIR }),
    otherServer4: observingCall({ patientId: 'pa-4', at: T_NEXT, seen: [warfarin(4, 2.5)], fhirServer: 'https://elsewhere.test.local/fhir' }),
    otherPatient4: observingCall({ patientId: 'pa-4-other', at: T_NEXT, seen: [warfarin(4, 2.5)], fhirServer: FHIR }),
    overridden5: observingCall({ patientId: 'pa-5', at: T_NEXT, seen: [gabapentin(5, 300, 1)] }),
    applied6: observingCall({ patientId: 'pa-6', at: T_NEXT, seen: [gabapentin(6, 300 + 1e-9, 1)], hook: 'order-select' }),
    old6: observingCall({ patientId: 'pa-6', at: T_LATER, seen: [gabapentin(6, 900, 1)] }),
    frequency7: observingCall({ patientId: 'pa-7', at: T_NEXT, seen: [gabapentin(7, 300, 2)], hook: 'medication-prescribe' }),
  };
  for (const r of Object.values(next)) await store.recordHook(r);
  return { cases: { c1, c2, c3, c4, c5, c6, c7, c8, c9 }, next };
}
