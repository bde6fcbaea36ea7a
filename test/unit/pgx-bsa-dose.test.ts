// CPIC thiopurine starting dose per m² (issue 14 leftover 4): which rows carry one, and the dose it gives.
// Source: ../shared/data/cpic/recommendations.tsv, mercaptopurine rows with NUDT15 Poor Metabolizer ("For malignancy,
// initiate dose at 10 mg/m2/day"); Mosteller BSA = √(height cm × weight kg / 3600).
import { bsaDoseOf } from '../../scripts/build-knowledge.js';
import { bsaStartingDose, mostellerBsa } from '../../src/dosing/pgx/bsaDose.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
import type { PatientFacts } from '../../src/domain/facts.js';
import type { DraftOrder } from '../../src/domain/order.js';

const k = loadPgxKnowledge();
const src = { reference: 'Observation/x' };

test('exactly the mercaptopurine NUDT15 Poor Metabolizer rows carry 10 mg/m²/day; the TPMT PM "e.g." example and thioguanine/azathioprine do not', () => {
  const rows = [...k.byDrug.values()].flat().filter((r) => r.startingDosePerM2);
  expect(new Set(rows.map((r) => r.drugs.join()))).toEqual(new Set(['mercaptopurine']));
  expect(rows.every((r) => r.lookup['NUDT15'] === 'Poor Metabolizer' && r.lookup['TPMT'] !== 'Poor Metabolizer' && r.startingDosePerM2!.mgPerM2PerDay === 10)).toBe(true);
  expect(rows.map((r) => r.id).sort()).toEqual(['PA166298225', 'PA166298226', 'PA166298227', 'PA166298228', 'PA166298230']);
});

test.each([
  ['For malignancy, initiate dose at 10 mg/m2/day and adjust dose', 10],
  ['reduce daily dose by 10-fold and reduce frequency to thrice weekly instead of daily, e.g., 10 mg/m2/day given just 3 days/week', undefined],
  ['Reduce starting doses to 25% of normal dose', undefined],
])('bsaDoseOf(%j) = %s', (text, mg) => {
  expect(bsaDoseOf(text)?.mgPerM2PerDay).toBe(mg);
});

const facts = (heightCm?: number, weightKg?: number): PatientFacts =>
  ({ ...(heightCm ? { height: { value: { value: heightCm, unit: 'cm' }, source: src } } : {}), ...(weightKg ? { weight: { value: { value: weightKg, unit: 'kg' }, source: src } } : {}) }) as PatientFacts;
const order = (mg?: number, perDay?: number): DraftOrder => ({ resource: { resourceType: 'MedicationRequest' } as never, drugs: [], ...(mg ? { currentDose: { value: mg, unit: 'mg', ...(perDay ? { frequencyPerDay: perDay } : {}) } } : {}) });
const perM2 = { mgPerM2PerDay: 10, phrase: 'initiate dose at 10 mg/m2/day' };

test.each([
  // height, weight, draft mg, per day → proposed mg/day (undefined: none), note, missing
  [170, 70, 75, 1, 18.2, /10 mg\/m²\/day × 1\.82 m²/, undefined],
  [120, 22, 30, 1, 8.6, /× 0\.86 m²/, undefined],
  [170, 70, 25, 3, undefined, /not dosed once daily \(3 times a day\)/, undefined],
  [170, 70, undefined, undefined, undefined, /no dose in mg/, undefined],
  [undefined, 70, 75, 1, undefined, /no height on file/, ['height (for the 10 mg/m²/day starting dose)']],
  [undefined, undefined, 75, 1, undefined, /no height and no weight on file/, ['height (for the 10 mg/m²/day starting dose)', 'weight (for the 10 mg/m²/day starting dose)']],
] as const)('%s cm, %s kg, draft %s mg ×%s/day → %s mg/day', (h, w, mg, perDay, want, note, missing) => {
  const d = bsaStartingDose(perM2, facts(h, w), order(mg, perDay));
  expect(d.adjustment?.to?.value).toBe(want);
  expect(d.note).toMatch(note);
  expect(d.missing).toEqual(missing);
});

test('Mosteller BSA', () => {
  expect(mostellerBsa(180, 80)).toBeCloseTo(2.0, 2);
});
