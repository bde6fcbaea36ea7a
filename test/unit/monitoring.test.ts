// Monitoring (patient-view) building blocks: which orders are active, which results call for action, what a monitoring
// card looks like, and the facts fingerprint that keeps an overridden card from coming back while nothing changed.
import type { MedicationRequest } from 'fhir/r4';
import { asMonitoringCard, callsForAction, factsFingerprint } from '../../src/cds/monitoring.js';
import { activeOrders, type DraftOrder } from '../../src/cds/orders.js';
import type { Card } from '../../src/cds/protocol.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { Recommendation } from '../../src/domain/recommendation.js';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const dict = DrugDictionary.load();

function mr(id: string, extra: Partial<MedicationRequest> = {}): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'active',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '25480', display: 'gabapentin' }], text: 'gabapentin 300 MG Oral Capsule' },
    ...extra,
  };
}

describe('activeOrders: the orders monitoring re-checks', () => {
  // Source: FHIR R4 MedicationRequest.status / intent / doNotPerform value sets; only an active order is something the
  // prescriber can be asked to change.
  test.each<[string, boolean, MedicationRequest]>([
    ['active order', true, mr('a')],
    ['active original-order', true, mr('a', { intent: 'original-order' })],
    ['active instance-order', true, mr('a', { intent: 'instance-order' })],
    ['on-hold', false, mr('a', { status: 'on-hold' })],
    ['stopped', false, mr('a', { status: 'stopped' })],
    ['completed', false, mr('a', { status: 'completed' })],
    ['draft', false, mr('a', { status: 'draft' })],
    ['entered-in-error', false, mr('a', { status: 'entered-in-error' })],
    ['a plan, not an order', false, mr('a', { intent: 'plan' })],
    ['a proposal', false, mr('a', { intent: 'proposal' })],
    ['do not perform', false, mr('a', { doNotPerform: true })],
    ['another patient', false, mr('a', { subject: { reference: 'Patient/p2' } })],
    ['no subject', false, mr('a', { subject: undefined as never })],
  ])('%s → kept: %s', (_name, kept, resource) => {
    expect(activeOrders([resource], 'p1', dict).length).toBe(kept ? 1 : 0);
  });

  test('one order per id; non-MedicationRequests and junk ignored; drugs identified and the dose read', () => {
    const withDose = mr('g', {
      dosageInstruction: [{ timing: { repeat: { frequency: 3, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 300, unit: 'mg', code: 'mg' } }] }],
    });
    const out = activeOrders([withDose, withDose, { resourceType: 'Observation' }, null, 'x', 42], 'p1', dict);
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ ref: 'MedicationRequest/g', currentDose: { value: 300, unit: 'mg', frequencyPerDay: 3 } });
    expect(out[0]!.drugs.map((d) => d.ingredient)).toEqual(['gabapentin']);
  });
});

function rec(over: Partial<Recommendation> = {}): Recommendation {
  return {
    id: 'r1',
    drug: { name: 'gabapentin' },
    kind: 'dose-adjustment',
    severity: 'warning',
    headline: 'Gabapentin: 900 mg/day exceeds 200–700 mg/day for CrCl 25 mL/min',
    inputs: [
      { key: 'creatinine', label: 'Serum creatinine', value: 2, unit: 'mg/dL', source: { reference: 'Observation/cr2', date: '2026-11-24', via: 'prefetch' } },
      { key: 'weight', label: 'Weight', value: 60, unit: 'kg', source: { reference: 'Observation/wt', date: '2026-11-15' } },
      { key: 'age', label: 'Age', value: 80, unit: 'y' },
    ],
    missing: [],
    method: { id: 'renal-bands', name: 'Label renal bands', version: '1.0.0' },
    evidence: [],
    notes: ['Recheck kidney function.'],
    ...over,
  };
}
const order: DraftOrder = { ref: 'MedicationRequest/g', resource: mr('g'), drugs: [], currentDose: { value: 300, unit: 'mg', frequencyPerDay: 3 } };

describe('factsFingerprint: same facts → same fingerprint; any change of the facts → a new one', () => {
  const base = factsFingerprint(rec(), order);
  test('stable under what is not a fact: id, wording, notes, input order, dates, how the data arrived', () => {
    const reworded = rec({
      id: 'r2',
      headline: 'other words',
      notes: [],
      inputs: [...rec().inputs].reverse().map((i) => (i.source ? { ...i, label: `${i.label}!`, source: { reference: i.source.reference, date: '2020-01-01', via: 'query' as const } } : i)),
    });
    expect(factsFingerprint(reworded, order)).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });
  test('stored fingerprints stay valid across versions: the canonical form and hash of a fixed recommendation do not change', () => {
    // Golden values computed with the first implementation (v1 canonical JSON); a change here would make every stored
    // override stop matching, so overridden monitoring cards would all come back once after an upgrade.
    const fixed = rec({
      drug: { name: 'Gabapentin' },
      inputs: [
        { key: 'weight', label: 'Weight', value: 60.123456789, unit: 'kg', source: { reference: 'Observation/wt', date: '2026-11-15' } },
        { key: 'creatinine', label: 'Serum creatinine', value: 2, unit: 'mg/dL', source: { reference: 'Observation/cr2' } },
        { key: 'age', label: 'Age', value: 80, unit: 'y' },
        { key: 'dialysisProcedure', label: 'Dialysis procedure (hemodialysis)', value: 'Hemodialysis (completed)', source: { reference: 'Procedure/hd' }, fingerprint: 'label' },
        { key: 'race', label: 'Race', value: 'missing or "mixed"' },
      ],
      genes: [
        { gene: 'CYP2C9', result: '*1/*3', source: { reference: 'Observation/g1' } },
        { gene: 'VKORC1', result: 'A/G' },
      ] as Recommendation['genes'],
      proposedDose: { perDose: { value: 600, unit: 'mg' }, timing: { frequency: 2, period: 1, periodUnit: 'd' } } as Recommendation['proposedDose'],
    });
    expect(factsFingerprint(fixed, order)).toBe('21a54777f51d4fee840ab5062c5a834f1d2ed15fc8f26bf8c70c50b7cfcffe38');
    expect(factsFingerprint({ ...fixed, genes: undefined, proposedDose: undefined } as unknown as Recommendation, undefined)).toBe(
      '311d8e7b1559af0cf185354752ddca936b69f0f35acac79ea1cb66ef6118dd53',
    );
  });
  test('an input marked fingerprint "label" counts by its label: a new dialysis session is the same fact, a new modality is not', () => {
    const session = (ref: string, status: string, label = 'Dialysis procedure (hemodialysis)') =>
      rec({ inputs: [...rec().inputs, { key: 'dialysisProcedure', label, value: `Hemodialysis (${status})`, source: { reference: ref }, fingerprint: 'label' as const }] });
    const monday = factsFingerprint(session('Procedure/hd-mon', 'completed'), order);
    expect(factsFingerprint(session('Procedure/hd-wed', 'in-progress'), order)).toBe(monday);
    expect(factsFingerprint(session('Procedure/crrt-1', 'in-progress', 'Dialysis procedure (continuous renal replacement therapy)'), order)).not.toBe(monday);
    expect(monday).not.toBe(base);
  });
  test('an input marked fingerprint "none" is not counted: an explanation row added in a later version keeps stored overrides valid', () => {
    const explained = rec({ inputs: [...rec().inputs, { key: 'timeZone', label: 'Time zone of the readings', value: "each reading's own UTC offset", fingerprint: 'none' as const }] });
    expect(factsFingerprint(explained, order)).toBe(base);
    // the same row counted by its label (it placed readings) is a new fact
    expect(factsFingerprint(rec({ inputs: [...rec().inputs, { key: 'timeZone', label: 'Time zone of the readings', value: 'America/New_York', fingerprint: 'label' as const }] }), order)).not.toBe(base);
  });
  test.each<[string, Recommendation, DraftOrder]>([
    ['a new creatinine result (another Observation)', rec({ inputs: rec().inputs.map((i) => (i.key === 'creatinine' ? { ...i, source: { reference: 'Observation/cr3' } } : i)) }), order],
    ['a different creatinine value', rec({ inputs: rec().inputs.map((i) => (i.key === 'creatinine' ? { ...i, value: 3 } : i)) }), order],
    ['a new input', rec({ inputs: [...rec().inputs, { key: 'dialysis', label: 'Dialysis', value: true }] }), order],
    ['severity changed', rec({ severity: 'critical' }), order],
    ['kind changed', rec({ kind: 'alternative' }), order],
    ['another drug', rec({ drug: { name: 'pregabalin' } }), order],
    ['the order dose changed', rec(), { ...order, currentDose: { value: 100, unit: 'mg', frequencyPerDay: 3 } }],
    ['another order', rec(), { ...order, ref: 'MedicationRequest/h' }],
    ['a new genotype result', rec({ genes: [{ gene: 'CYP2C19', result: '*2/*2', source: { reference: 'Observation/g1' } }] }), order],
  ])('%s', (_name, r, o) => {
    expect(factsFingerprint(r, o)).not.toBe(base);
  });
});

describe('callsForAction: only warning/critical results that ask for a change interrupt on chart opening', () => {
  const card = (indicator: Card['indicator']): Card => ({ summary: 's', indicator, source: { label: 'x' } });
  test.each<[Recommendation['kind'], Card['indicator'], boolean]>([
    ['dose-adjustment', 'warning', true],
    ['alternative', 'critical', true],
    ['dose', 'warning', true],
    ['dose-adjustment', 'info', false],
    ['info', 'warning', false],
    ['missing-data', 'warning', false],
    ['test-suggested', 'warning', false],
  ])('%s / %s → %s', (kind, indicator, shown) => {
    expect(callsForAction(rec({ kind }), card(indicator))).toBe(shown);
  });
});

describe('asMonitoringCard', () => {
  const orderCard: Card = {
    uuid: 'c1',
    summary: 'Gabapentin: 900 mg/day exceeds 200–700 mg/day',
    detail: 'The draft order currently says 300 mg 3× per day.\n\nSource: label. The suggestion changes only the dose of the draft order.',
    indicator: 'warning',
    source: { label: 'Personalized Dosing Service' },
    suggestions: [{ label: 'Change', uuid: 's1', actions: [{ type: 'update', description: 'x', resource: mr('g') }] }],
    selectionBehavior: 'at-most-one',
    overrideReasons: [{ code: 'clinical-judgement', display: 'Clinical judgement' }],
  };
  const out = asMonitoringCard(orderCard, order);
  test('no inline change of an active order; override reasons kept; the input card untouched', () => {
    expect(out.suggestions).toBeUndefined();
    expect(out.selectionBehavior).toBeUndefined();
    expect(out.overrideReasons).toEqual(orderCard.overrideReasons);
    expect(orderCard.suggestions).toHaveLength(1);
  });
  test('speaks of the active order and says why it is shown', () => {
    expect(out.detail).toMatch(/^The active order currently says 300 mg 3× per day\./);
    expect(out.detail).not.toMatch(/draft|The suggestion/);
    expect(out.detail).toMatch(/active order MedicationRequest\/g/);
    expect(out.detail).toMatch(/not shown again until the facts behind it change/);
  });
});
