// One click, a right order, end to end: drafts shaped as the CDS Hooks Sandbox writes them (a count of "{pill}" of an
// RxNorm product) reach the real service and the real FHIR server; every update suggestion is an order a pharmacy can
// fill — the product's strength × units is the proposed dose, and the text says the same.
// Label doses: NEURONTIN 2.4 Table 1, PRADAXA 2.3, ELIQUIS 2.2, LOVENOX 2.3 Table 2; knowledge/renal-bands.json.
import type { Condition, FhirResource, MedicationRequest } from 'fhir/r4';
import { toOrder } from '../../src/cds/orders.js';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { unitsFor } from '../../src/cards/dispense.js';
import { iwpcAgeDecade, iwpcPharmacogenetic } from '../../src/dosing/warfarin/iwpc.js';
import { orderSelectCall } from '../fixtures/orders.js';
import { fullPrefetch, patient, pharmvarGenotype, prefetchFrom, SYNTHETIC, syntheticResources, vital } from '../fixtures/synthetic-patients.js';
import { useFhirAndService } from '../support/service.js';

const TOKEN = 'ehr-access-token-dispense';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';
const dict = DrugDictionary.load();
const now = new Date();
const daysAgo = (d: number) => new Date(now.getTime() - d * 86400000).toISOString().slice(0, 10);
const bornYearsAgo = (years: number) => `${now.getUTCFullYear() - years}-01-01`;
const af = (id: string, p: string): Condition => ({
  resourceType: 'Condition',
  id,
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '49436004', display: 'Atrial fibrillation' }], text: 'Atrial fibrillation' },
  subject: { reference: `Patient/${p}` },
  recordedDate: daysAgo(100),
});

/**
 * - dsp-gaba: man, 80 y, 60 kg, creatinine 2.94 → CG (60 × 60)/(72 × 2.94) = 17.0 mL/min (gabapentin 15–29 band)
 * - dsp-dabi: man, 80 y, 60 kg, creatinine 2.0 → CG 25.0 mL/min, atrial fibrillation (dabigatran 15–30 band)
 * - dsp-apix: woman, 82 y, 55 kg, creatinine 1.0, atrial fibrillation → 2 of 3 criteria (age ≥80, weight ≤60 kg)
 * - dsp-enox: man, 60 y, 82 kg, creatinine 3.2 → CG (80 × 82)/(72 × 3.2) = 28.5 mL/min (enoxaparin below 30)
 * - dsp-tca-im: CYP2D6 *1/*4 (activity score 1.0, intermediate), CYP2C19 *1/*1 → amitriptyline PA166297010: "Consider a
 *   25% reduction of recommended starting dose" (CPIC TCA guideline, Moderate)
 * - dsp-tca-pm: CYP2D6 *4/*4 (poor), CYP2C19 *1/*1 → "… If a TCA is warranted, consider a 50% reduction …"
 */
function resources(): FhirResource[] {
  const cr = (id: string, p: string, mgdl: number) => vital(id, p, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', mgdl, 'mg/dL', 'mg/dL', daysAgo(2));
  const wt = (id: string, p: string, kg: number) => vital(id, p, '29463-7', 'Body weight', kg, 'kg', 'kg', daysAgo(2));
  return [
    ...syntheticResources(),
    patient('dsp-gaba', bornYearsAgo(80), 'male'), wt('dsp-gaba-wt', 'dsp-gaba', 60), cr('dsp-gaba-cr', 'dsp-gaba', 2.94),
    patient('dsp-dabi', bornYearsAgo(80), 'male'), wt('dsp-dabi-wt', 'dsp-dabi', 60), cr('dsp-dabi-cr', 'dsp-dabi', 2.0), af('dsp-dabi-af', 'dsp-dabi'),
    patient('dsp-apix', bornYearsAgo(82), 'female'), wt('dsp-apix-wt', 'dsp-apix', 55), cr('dsp-apix-cr', 'dsp-apix', 1.0), af('dsp-apix-af', 'dsp-apix'),
    patient('dsp-enox', bornYearsAgo(60), 'male'), wt('dsp-enox-wt', 'dsp-enox', 82), cr('dsp-enox-cr', 'dsp-enox', 3.2),
    patient('dsp-tca-im', bornYearsAgo(50), 'female'), pharmvarGenotype('dsp-tca-im-2d6', 'dsp-tca-im', 'HGNC:2625', 'CYP2D6', '*1/*4', daysAgo(300)), pharmvarGenotype('dsp-tca-im-2c19', 'dsp-tca-im', 'HGNC:2621', 'CYP2C19', '*1/*1', daysAgo(300)),
    patient('dsp-tca-pm', bornYearsAgo(50), 'female'), pharmvarGenotype('dsp-tca-pm-2d6', 'dsp-tca-pm', 'HGNC:2625', 'CYP2D6', '*4/*4', daysAgo(300)), pharmvarGenotype('dsp-tca-pm-2c19', 'dsp-tca-pm', 'HGNC:2621', 'CYP2C19', '*1/*1', daysAgo(300)),
  ];
}
const env = useFhirAndService(TOKEN, resources);

/** The sandbox's draft: `count` {pill} of an RxNorm product, `perDay` times a day. */
function sandboxDraft(id: string, patientId: string, rxcui: string, display: string, count: number, perDay: number): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: rxcui, display }], text: display },
    dosageInstruction: [{ timing: { repeat: { frequency: perDay, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: count, system: UCUM, code: '{pill}' } }] }],
  };
}

async function call(patientId: string, d: MedicationRequest, withPrefetch: boolean) {
  const prefetch = patientId.startsWith('dsp-') ? prefetchFrom(resources(), patientId) : fullPrefetch(patientId);
  const r = await env.svc.hook('dosing-order-select', orderSelectCall(env.fhir.url, TOKEN, patientId, d, withPrefetch ? { prefetch } : {}));
  expect(r.status).toBe(200);
  expect(checkCdsResponse(r.json)).toEqual([]);
  return r.json.cards as any[];
}

/** The update is dispensable: a product of the table that makes `mg` in whole (or, where it may be split, half) units, and the text says the dose, the units and the product. */
function expectDispensable(resource: MedicationRequest, mg: number, perDayText: string): { code: string; count: number } {
  const code = resource.medicationCodeableConcept!.coding![0]!.code!;
  const p = dict.products.get(code)!;
  expect(p).toBeDefined();
  const n = unitsFor(mg, p)!;
  expect(n * p.strengthMg).toBeCloseTo(mg, 9);
  const di = resource.dosageInstruction![0]!;
  expect(di.text).toBe(`${mg} mg (${n === 0.5 ? '½' : n} ${p.unit}${n > 1 ? 's' : ''} of ${p.name}) ${perDayText}`);
  // written in the draft's own unit ({pill}) and read back as the proposed dose
  expect(di.doseAndRate![0]!.doseQuantity).toEqual({ value: n, system: UCUM, code: '{pill}' });
  expect(toOrder(resource, dict).currentDose?.value).toBeCloseTo(mg, 9);
  return { code, count: n };
}

describe.each([true, false])('sandbox {pill} drafts (prefetch: %s)', (withPrefetch) => {
  test('gabapentin 1 {pill} of 300 MG capsule three times daily at CrCl 17 → warning, 200 mg once daily as 2 × 100 MG capsules', async () => {
    // 900 mg/day = the low end of the normal range (position 0) → 200 mg/day, the low end of 200–700 mg/day once daily
    const cards = await call('dsp-gaba', sandboxDraft(`g-${withPrefetch}`, 'dsp-gaba', '310431', 'gabapentin 300 MG Oral Capsule', 1, 3), withPrefetch);
    expect(cards).toHaveLength(1);
    const c = cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toBe('Gabapentin: 900 mg/day exceeds 200–700 mg/day for CrCl 17 mL/min');
    expect(c.detail).toContain('The draft order currently says 300 mg (1 × 300 mg capsule) 3× per day.');
    const res = c.suggestions[0].actions[0].resource;
    expect(expectDispensable(res, 200, 'once daily')).toEqual({ code: '310430', count: 2 });
    expect(c.suggestions[0].label).toBe('Change to gabapentin 200 mg once daily (gabapentin 100 MG Oral Capsule)');
  });

  test('dabigatran 1 {pill} of 150 MG capsule twice daily, AF, CrCl 25 → 75 MG capsule twice daily', async () => {
    const cards = await call('dsp-dabi', sandboxDraft(`d-${withPrefetch}`, 'dsp-dabi', '1037045', 'dabigatran etexilate 150 MG Oral Capsule', 1, 2), withPrefetch);
    const c = cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toMatch(/^Dabigatran: CrCl 25 mL\/min — label dose 75 mg twice daily/);
    expect(expectDispensable(c.suggestions[0].actions[0].resource, 75, 'twice daily')).toEqual({ code: '1037179', count: 1 });
  });

  test('apixaban 1 {pill} of 5 MG tablet twice daily, 82 y and 55 kg → 2.5 MG tablet twice daily', async () => {
    const cards = await call('dsp-apix', sandboxDraft(`a-${withPrefetch}`, 'dsp-apix', '1364445', 'apixaban 5 MG Oral Tablet', 1, 2), withPrefetch);
    const c = cards[0];
    expect(c.indicator).toBe('warning');
    expect(expectDispensable(c.suggestions[0].actions[0].resource, 2.5, 'twice daily')).toEqual({ code: '1364435', count: 1 });
  });

  test('enoxaparin 1 {pill} of the 80 mg syringe every 12 h at CrCl 28.5, 82 kg → 1 mg/kg = 82 mg once daily, rounded to the 80 mg syringe', async () => {
    const d = sandboxDraft(`e-${withPrefetch}`, 'dsp-enox', '854241', '0.8 ML enoxaparin sodium 100 MG/ML Prefilled Syringe', 1, 2);
    const cards = await call('dsp-enox', d, withPrefetch);
    const c = cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.detail).toContain('1 mg/kg once daily (SC) = 82 mg for 82 kg, rounded to the nearest syringe: 80 mg (0.8 ML enoxaparin sodium 100 MG/ML Prefilled Syringe)');
    expect(expectDispensable(c.suggestions[0].actions[0].resource, 80, 'once daily (SC)')).toEqual({ code: '854241', count: 1 });
  });

  // pgx-1's IWPC pharmacogenetic dose is 2.5 mg/day: half of the drafted (scored) 5 mg tablet; a quarter of a 10 mg
  // tablet is not dispensable, so that draft switches to the schedule's 2.5 mg tablet
  test.each([
    ['855332', 'warfarin sodium 5 MG Oral Tablet', 5],
    ['855296', 'warfarin sodium 10 MG Oral Tablet', 10],
  ])('warfarin 1 {pill} of %s: read as the tablet strength and graded like a mg draft; the suggestion uses the schedule\'s strength', async (rxcui, display, mgPerTablet) => {
    const p = SYNTHETIC['pgx-1'];
    const weekly = iwpcPharmacogenetic({ ageDecade: iwpcAgeDecade(p.age(new Date())), heightCm: p.heightCm, weightKg: p.weightKg, race: p.race, cyp2c9: p.cyp2c9, vkorc1: p.vkorc1, amiodarone: true, enzymeInducer: false }).weeklyDoseMg;
    const daily = Math.round(weekly / 7 / 0.5) * 0.5;
    const cards = await call('pgx-1', sandboxDraft(`w-${rxcui}-${withPrefetch}`, 'pgx-1', rxcui, display, 1, 1), withPrefetch);
    const c = cards[0];
    expect(c.detail).toContain(`The draft order currently says ${mgPerTablet} mg (1 × ${mgPerTablet} mg tablet) 1× per day.`);
    expect(c.indicator).toBe(Math.abs(mgPerTablet - daily) / daily > 0.2 ? 'warning' : 'info');
    const { code } = expectDispensable(c.suggestions[0].actions[0].resource, daily, 'once daily');
    const strength = dict.products.get(code)!.strengthMg;
    expect(c.detail).toContain(`(${strength} mg tablets)`);
    expect(daily).toBe(2.5); // the fixture's dose (age decade 6 until 2030): the two drafts below depend on it
    expect(strength).toBe(mgPerTablet === 5 ? 5 : 2.5);
  });
});

describe.each([true, false])('PGx dose changes as dispensable orders (prefetch: %s)', (withPrefetch) => {
  test('amitriptyline 50 MG tablet, CYP2D6 poor metabolizer: 50% → 25 mg as the 25 MG tablet, the old text gone', async () => {
    const d = sandboxDraft(`tca-pm-${withPrefetch}`, 'dsp-tca-pm', '856845', 'amitriptyline hydrochloride 50 MG Oral Tablet', 1, 1);
    d.dosageInstruction![0]!.text = '50 mg every day x1';
    const cards = await call('dsp-tca-pm', d, withPrefetch);
    const c = cards.find((x) => x.suggestions?.some((s: any) => s.actions.some((a: any) => a.type === 'update')));
    const s = c.suggestions.find((x: any) => x.actions.some((a: any) => a.type === 'update'));
    expect(s.label).toBe('Reduce amitriptyline to 25 mg per dose (amitriptyline hydrochloride 25 MG Oral Tablet)');
    const res = s.actions.find((a: any) => a.type === 'update').resource;
    expect(res.medicationCodeableConcept.coding[0].code).toBe('856834');
    expect(res.dosageInstruction[0].text).toMatch(/^25 mg \(1 tablet of amitriptyline hydrochloride 25 MG Oral Tablet\) once daily — CPIC: /);
    expect(res.dosageInstruction[0].text).not.toContain('50 mg');
    expect(res.dosageInstruction[0].doseAndRate[0].doseQuantity).toEqual({ value: 1, system: UCUM, code: '{pill}' });
  });

  test('amitriptyline 50 MG tablet, CYP2D6 intermediate: 25% → 37.5 mg, rounded down to 30 mg = 3 × 10 MG tablets, said on the card', async () => {
    const cards = await call('dsp-tca-im', sandboxDraft(`tca-im-${withPrefetch}`, 'dsp-tca-im', '856845', 'amitriptyline hydrochloride 50 MG Oral Tablet', 1, 1), withPrefetch);
    const c = cards.find((x) => x.suggestions?.some((s: any) => s.actions.some((a: any) => a.type === 'update')));
    expect(c.detail).toContain('Suggested dose: 37.5 mg instead of 50 mg per dose (CPIC: "Consider a 25% reduction of recommended starting dose"). Rounded down to 30 mg, the nearest dose whole units of one strength make (the suggestion uses it).');
    const s = c.suggestions.find((x: any) => x.actions.some((a: any) => a.type === 'update'));
    expect(s.label).toBe('Reduce amitriptyline to 30 mg per dose (amitriptyline hydrochloride 10 MG Oral Tablet)');
    const res = s.actions[0].resource;
    expect(res.medicationCodeableConcept.coding[0].code).toBe('856783');
    expect(res.dosageInstruction[0].doseAndRate[0].doseQuantity).toEqual({ value: 3, system: UCUM, code: '{pill}' });
    expect(res.dosageInstruction[0].text).toMatch(/^30 mg \(3 tablets of amitriptyline hydrochloride 10 MG Oral Tablet\) once daily/);
    expect(toOrder(res, dict).currentDose?.value).toBe(30);
  });
});

describe('a dose on the order that cannot be read is said, and graded as a warning', () => {
  test('gabapentin "2 {puff}" at CrCl 17: warning with the band, "could not be read", never "no dose yet"', async () => {
    const d = sandboxDraft('g-puff', 'dsp-gaba', '310431', 'gabapentin 300 MG Oral Capsule', 2, 3);
    d.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity = { value: 2, system: UCUM, code: '{puff}', unit: 'puff' };
    const c = (await call('dsp-gaba', d, true))[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toBe('Gabapentin: CrCl 17 mL/min — draft dose not readable; label range 200–700 mg/day');
    expect(c.detail).toContain('The draft order\'s dose could not be read: the dose unit "{puff}" is not a mass or a tablet/capsule count.');
    expect(c.detail).not.toMatch(/no dose yet/);
  });

  test('warfarin 1 {pill} of an ingredient-only order: the strength is unknown, said on a warning card', async () => {
    const d = sandboxDraft('w-ing', 'pgx-1', '11289', 'warfarin', 1, 1);
    const c = (await call('pgx-1', d, true))[0];
    expect(c.indicator).toBe('warning');
    expect(c.detail).toContain("The draft order's dose could not be read: the dose is 1 pill but the product's strength is not known");
    // the suggestion is still a complete order: the ingredient with the dose in mg (the pharmacy picks the product)
    const res = c.suggestions[0].actions[0].resource;
    expect(res.dosageInstruction[0].doseAndRate[0].doseQuantity).toEqual({ value: 2.5, unit: 'mg', system: UCUM, code: 'mg' });
    expect(res.dosageInstruction[0].text).toBe('2.5 mg once daily');
  });
});
