// Orders in scope of a hook call and the draft's current dose (src/cds/orders.ts, src/domain/drugs.ts).
import type { Bundle, FhirResource, MedicationRequest } from 'fhir/r4';
import { currentDoseOf, ordersInScope } from '../../src/cds/orders.js';
import type { HookRequest, SupportedHook } from '../../src/cds/protocol.js';
import { DrugDictionary } from '../../src/domain/drugs.js';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';
const dict = DrugDictionary.load();

function mr(id: string | undefined, extra: Partial<MedicationRequest> = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    ...(id ? { id } : {}),
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '855332', display: 'warfarin sodium 5 MG Oral Tablet' }] },
    ...extra,
  };
}
const bundle = (...resources: FhirResource[]): Bundle => ({ resourceType: 'Bundle', type: 'collection', entry: resources.map((resource) => ({ resource })) });

function req(hook: SupportedHook, ctx: Record<string, unknown>): HookRequest {
  return { hook, hookInstance: 'd1577c69-dfbe-44ad-ba6d-3e05e953b2ea', context: { userId: 'Practitioner/u1', patientId: 'p1', ...ctx } };
}

const drafts = bundle(
  mr('103'),
  mr('104', { medicationCodeableConcept: { coding: [{ system: RXNORM, code: '703', display: 'amiodarone' }] } }),
  { resourceType: 'ServiceRequest', id: '105', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' } } as FhirResource,
  mr(undefined),
);

describe('ordersInScope: which drafts a hook call is about', () => {
  // Source: CDS Hooks library order-select (selections point into draftOrders), order-sign (every draft is being
  // signed), medication-prescribe (context.medications) — reference/cds-hooks-2.0.md "Hook contexts (R4)".
  test.each<[string, HookRequest, string[]]>([
    ['order-select: only the selected draft', req('order-select', { selections: ['MedicationRequest/103'], draftOrders: drafts }), ['MedicationRequest/103']],
    ['order-select: two selections', req('order-select', { selections: ['MedicationRequest/104', 'MedicationRequest/103'], draftOrders: drafts }), ['MedicationRequest/103', 'MedicationRequest/104']],
    ['order-select: selection pointing nowhere → none', req('order-select', { selections: ['MedicationRequest/999'], draftOrders: drafts }), []],
    ['order-select: selection of a non-MedicationRequest → none', req('order-select', { selections: ['ServiceRequest/105'], draftOrders: drafts }), []],
    ['order-select: selection with the wrong type prefix → none', req('order-select', { selections: ['ServiceRequest/103'], draftOrders: drafts }), []],
    ['order-select: empty selections → none', req('order-select', { selections: [], draftOrders: drafts }), []],
    ['order-sign: every MedicationRequest draft (non-MedicationRequest ignored)', req('order-sign', { draftOrders: drafts }), ['MedicationRequest/103', 'MedicationRequest/104', '(no id)']],
    ['order-sign: Bundle without entries → none', req('order-sign', { draftOrders: { resourceType: 'Bundle' } }), []],
    ['medication-prescribe: context.medications', req('medication-prescribe', { medications: bundle(mr('m1'), mr('m2')) }), ['MedicationRequest/m1', 'MedicationRequest/m2']],
    ['medication-prescribe: draftOrders is not read', req('medication-prescribe', { medications: bundle(), draftOrders: drafts }), []],
  ])('%s', (_n, r, refs) => {
    expect(ordersInScope(r, dict).map((o) => o.ref ?? '(no id)')).toEqual(refs);
  });

  test('each order keeps the resource as sent (same object content)', () => {
    const [o] = ordersInScope(req('order-select', { selections: ['MedicationRequest/103'], draftOrders: drafts }), dict);
    expect(o!.resource).toEqual(drafts.entry![0]!.resource);
  });

  test('entries without a resource or with junk are ignored', () => {
    const b = { resourceType: 'Bundle', entry: [{}, { resource: null }, { resource: 'x' }, { fullUrl: 'urn:uuid:1' }, { resource: mr('103') }] } as unknown as Bundle;
    expect(ordersInScope(req('order-sign', { draftOrders: b }), dict).map((o) => o.ref)).toEqual(['MedicationRequest/103']);
  });
});

describe('drug identification of a draft', () => {
  // Source: knowledge/drug-codes.json (RxNorm: 11289 warfarin IN, 855332 warfarin sodium 5 MG Oral Tablet SCD,
  // 703 amiodarone IN); names matched as whole words only when no RxNorm code was recognised.
  const one = (m: MedicationRequest) => ordersInScope(req('order-sign', { draftOrders: bundle(m) }), dict)[0]!;
  test.each<[string, Partial<MedicationRequest>, { ingredient: string; matchedBy: string }[]]>([
    ['product code 855332', {}, [{ ingredient: 'warfarin', matchedBy: 'product-code' }]],
    ['ingredient code 11289', { medicationCodeableConcept: { coding: [{ system: RXNORM, code: '11289' }] } }, [{ ingredient: 'warfarin', matchedBy: 'ingredient-code' }]],
    ['text only "Coumadin 5 mg tablet"', { medicationCodeableConcept: { text: 'Coumadin 5 mg tablet' } }, [{ ingredient: 'warfarin', matchedBy: 'text' }]],
    ['display only "Warfarin Sodium 2 MG"', { medicationCodeableConcept: { coding: [{ display: 'Warfarin Sodium 2 MG' }] } }, [{ ingredient: 'warfarin', matchedBy: 'text' }]],
    ['unknown RxNorm code falls back to text', { medicationCodeableConcept: { coding: [{ system: RXNORM, code: '999999999', display: 'Jantoven 3 MG' }] } }, [{ ingredient: 'warfarin', matchedBy: 'text' }]],
    ['warfarin code in a non-RxNorm system is not a code match', { medicationCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/sid/ndc', code: '11289' }], text: 'warfarin' } }, [{ ingredient: 'warfarin', matchedBy: 'text' }]],
    ['"warfarinX" must not match', { medicationCodeableConcept: { text: 'warfarinX 5 mg' } }, []],
    ['"xwarfarin" must not match', { medicationCodeableConcept: { text: 'xwarfarin' } }, []],
    ['unrelated drug text', { medicationCodeableConcept: { text: 'amlodipine 5 mg' } }, []],
    // metoprolol has DPWG guidance (knowledge/dpwg-recommendations.json, issue 19): recognised by name
    ['metoprolol by name (a DPWG drug)', { medicationCodeableConcept: { text: 'metoprolol 25 mg' } }, [{ ingredient: 'metoprolol', matchedBy: 'text' }]],
    ['contained Medication via "#id"', { medicationCodeableConcept: undefined, medicationReference: { reference: '#med' }, contained: [{ resourceType: 'Medication', id: 'med', code: { coding: [{ system: RXNORM, code: '11289' }] } }] }, [{ ingredient: 'warfarin', matchedBy: 'ingredient-code' }]],
    ['medicationReference display only', { medicationCodeableConcept: undefined, medicationReference: { reference: 'Medication/x', display: 'warfarin 5 mg' } }, [{ ingredient: 'warfarin', matchedBy: 'text' }]],
    ['draft without medication → drugs []', { medicationCodeableConcept: undefined }, []],
    // RxNorm SCD 309362 clopidogrel 75 MG Oral Tablet and SBD 213169 Plavix 75 MG Oral Tablet (knowledge/drug-codes.json)
    ['clopidogrel SCD 309362 (no display)', { medicationCodeableConcept: { coding: [{ system: RXNORM, code: '309362' }] } }, [{ ingredient: 'clopidogrel', matchedBy: 'product-code' }]],
    ['Plavix SBD 213169 (no display)', { medicationCodeableConcept: { coding: [{ system: RXNORM, code: '213169' }] } }, [{ ingredient: 'clopidogrel', matchedBy: 'product-code' }]],
    ['a CPIC drug by display text: "Codeine sulfate 30 MG Oral Tablet"', { medicationCodeableConcept: { coding: [{ system: RXNORM, code: '999999998', display: 'Codeine sulfate 30 MG Oral Tablet' }] } }, [{ ingredient: 'codeine', matchedBy: 'text' }]],
  ])('%s', (_n, extra, expected) => {
    const m = mr('1', extra);
    if ('medicationCodeableConcept' in extra && extra.medicationCodeableConcept === undefined) delete m.medicationCodeableConcept;
    expect(one(m).drugs.map((d) => ({ ingredient: d.ingredient, matchedBy: d.matchedBy }))).toEqual(expected);
    for (const d of one(m).drugs) if (d.ingredient === 'warfarin') expect(d.rxcui).toBe('11289');
  });
});

describe('currentDoseOf', () => {
  // Source: FHIR R4 Dosage: dose at dosageInstruction[0].doseAndRate[0].doseQuantity (UCUM), frequency from
  // timing.repeat frequency/period/periodUnit (UCUM time units h, d, wk). Only mg is a dose the evaluators compare.
  const withDose = (dose: Record<string, unknown> | undefined, repeat?: Record<string, unknown>): MedicationRequest =>
    mr('1', {
      dosageInstruction: [
        {
          ...(repeat ? { timing: { repeat } } : {}),
          ...(dose ? { doseAndRate: [{ doseQuantity: dose }] } : {}),
        },
      ],
    } as Partial<MedicationRequest>);
  const mg = (value: unknown) => ({ value, unit: 'mg', system: UCUM, code: 'mg' });
  test.each<[string, MedicationRequest, ReturnType<typeof currentDoseOf>]>([
    ['5 mg, 1 per 1 d', withDose(mg(5), { frequency: 1, period: 1, periodUnit: 'd' }), { value: 5, unit: 'mg', frequencyPerDay: 1 }],
    ['frequency 2 per 1 d → 2', withDose(mg(2.5), { frequency: 2, period: 1, periodUnit: 'd' }), { value: 2.5, unit: 'mg', frequencyPerDay: 2 }],
    ['1 per 12 h → 2', withDose(mg(5), { frequency: 1, period: 12, periodUnit: 'h' }), { value: 5, unit: 'mg', frequencyPerDay: 2 }],
    ['1 per 8 h → 3', withDose(mg(5), { frequency: 1, period: 8, periodUnit: 'h' }), { value: 5, unit: 'mg', frequencyPerDay: 3 }],
    ['7 per 1 wk → 1', withDose(mg(5), { frequency: 7, period: 1, periodUnit: 'wk' }), { value: 5, unit: 'mg', frequencyPerDay: 1 }],
    ['1 per 2 d → 0.5', withDose(mg(5), { frequency: 1, period: 2, periodUnit: 'd' }), { value: 5, unit: 'mg', frequencyPerDay: 0.5 }],
    ['unit only "mg" (no code)', withDose({ value: 5, unit: 'mg' }, { frequency: 1, period: 1, periodUnit: 'd' }), { value: 5, unit: 'mg', frequencyPerDay: 1 }],
    ['no timing → no frequency', withDose(mg(5)), { value: 5, unit: 'mg' }],
    ['period 0 → no frequency', withDose(mg(5), { frequency: 1, period: 0, periodUnit: 'd' }), { value: 5, unit: 'mg' }],
    ['periodUnit "mo": a month counted as 30 days', withDose(mg(5), { frequency: 1, period: 1, periodUnit: 'mo' }), { value: 5, unit: 'mg', frequencyPerDay: 1 / 30 }],
    ['dose in "g" → mg', withDose({ value: 0.005, unit: 'g', system: UCUM, code: 'g' }, { frequency: 1, period: 1, periodUnit: 'd' }), { value: 5, unit: 'mg', frequencyPerDay: 1 }],
    ['dose in tablets without a dictionary (ingredient unknown) → undefined', withDose({ value: 1, unit: 'tablet', system: UCUM, code: '{tbl}' }), undefined],
    ['dose in ug → mg', withDose({ value: 5000, unit: 'ug', system: UCUM, code: 'ug' }), { value: 5, unit: 'mg' }],
    ['dose 0 → undefined', withDose(mg(0)), undefined],
    ['negative dose → undefined', withDose(mg(-5)), undefined],
    ['NaN dose → undefined', withDose(mg(Number.NaN)), undefined],
    ['string dose → undefined', withDose(mg('5')), undefined],
    ['no doseQuantity → undefined', withDose(undefined, { frequency: 1, period: 1, periodUnit: 'd' }), undefined],
    ['no dosageInstruction → undefined', mr('1'), undefined],
  ])('%s', (_n, m, expected) => {
    expect(currentDoseOf(m)).toEqual(expected);
  });

  test('ordersInScope attaches currentDose only when there is one', () => {
    const orders = ordersInScope(req('order-sign', { draftOrders: bundle(withDose(mg(5), { frequency: 1, period: 1, periodUnit: 'd' }), mr('2')) }), dict);
    expect(orders[0]!.currentDose).toEqual({ value: 5, unit: 'mg', frequencyPerDay: 1 });
    expect('currentDose' in orders[1]!).toBe(false);
  });
});
