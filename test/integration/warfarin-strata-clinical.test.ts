/**
 * @jest-environment ./test/support/ort-environment.cjs
 */
// Clinical table by genotype on file (issue 16), asserted through the served path (registry → model or equation →
// evaluator). Expected ranges: the IWPC equation the stratum would otherwise get (Klein et al., N Engl J Med
// 2009;360:753-64, computed here by hand from its published coefficients) ± 25%, and for the fully genotyped
// reference patient the FDA warfarin label's genotype table (Coumadin label 2017, Table 5: VKORC1 GG with CYP2C9
// *1/*1 → 5–7 mg/day = 35–49 mg/week). The 80% interval must contain the dose and stay clinically plausible.
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config.js';
import type { IwpcRace, PatientFacts } from '../../src/domain/facts.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { defaultRegistry } from '../../src/dosing/registry.js';
import { loadWarfarinModel, MODEL_NAME, type WarfarinModel } from '../../src/model/warfarinModel.js';
import { draftWarfarin } from '../fixtures/synthetic-patients.js';

let model: WarfarinModel;
beforeAll(async () => {
  model = await loadWarfarinModel();
}, 30000);
afterAll(async () => {
  await model?.close();
});

interface Patient {
  age: number;
  sex: 'male' | 'female';
  heightCm: number;
  weightKg: number;
  race: IwpcRace;
  vkorc1?: 'G/G' | 'A/G' | 'A/A';
  cyp2c9?: string;
}

const src = { reference: 'Observation/x' };
function facts(p: Patient): PatientFacts {
  return {
    patientId: 'x',
    ageYears: { value: p.age, source: { reference: 'Patient/x' } },
    sex: { value: p.sex, source: { reference: 'Patient/x' } },
    height: { value: { value: p.heightCm, unit: 'cm' }, source: src },
    weight: { value: { value: p.weightKg, unit: 'kg' }, source: src },
    race: { value: p.race, source: { reference: 'Patient/x' } },
    genes: [
      ...(p.cyp2c9 ? [{ gene: 'CYP2C9', diplotype: p.cyp2c9, text: `CYP2C9 ${p.cyp2c9}`, source: src }] : []),
      ...(p.vkorc1 ? [{ gene: 'VKORC1', variant: { rsid: 'rs9923231', genotype: p.vkorc1 }, text: `VKORC1 ${p.vkorc1}`, source: src }] : []),
    ],
    medications: [],
    conditions: [],
    unavailable: [],
    notes: [],
  } as unknown as PatientFacts;
}

async function served(p: Patient, m: WarfarinModel = model): Promise<Recommendation> {
  const drugs = DrugDictionary.load();
  const draft = draftWarfarin(`m-${randomUUID()}`, 'x');
  const recs = await defaultRegistry({ warfarinModel: m }).evaluate({
    facts: facts(p),
    order: { ref: `MedicationRequest/${draft.id}`, resource: draft, drugs: drugs.identifyConcept(draft.medicationCodeableConcept) },
    drug: { ingredient: 'warfarin', rxcui: '11289', matchedBy: 'product-code' },
    drugs,
    config: loadConfig({}),
    newId: randomUUID,
  });
  return recs[0]!;
}

// IWPC equations by hand (NEJM 2009 supplementary appendix), sqrt(mg/week)
const clinical = (p: Patient): number =>
  (4.0376 - 0.2546 * Math.floor(p.age / 10) + 0.0118 * p.heightCm + 0.0134 * p.weightKg + { White: 0, Asian: -0.6752, Black: 0.406, MissingOrMixed: 0.0443 }[p.race]) ** 2;
const pharmacogenetic = (p: Patient): number =>
  (5.6044 - 0.2614 * Math.floor(p.age / 10) + 0.0087 * p.heightCm + 0.0128 * p.weightKg +
    (p.vkorc1 === 'A/G' ? -0.8677 : p.vkorc1 === 'A/A' ? -1.6974 : p.vkorc1 === 'G/G' ? 0 : -0.4854) +
    (p.cyp2c9 === '*1/*1' ? 0 : p.cyp2c9 === undefined ? -0.2188 : NaN) +
    { White: 0, Asian: -0.1092, Black: -0.276, MissingOrMixed: -0.1032 }[p.race]) ** 2;

const TABLE: { name: string; stratum: string; p: Patient; expected: () => [number, number] }[] = [
  {
    name: 'White man 65, 170 cm, 80 kg, VKORC1 G/G, CYP2C9 *1/*1 (FDA label: 5–7 mg/day)',
    stratum: 'CYP2C9 and VKORC1',
    p: { age: 65, sex: 'male', heightCm: 170, weightKg: 80, race: 'White', vkorc1: 'G/G', cyp2c9: '*1/*1' },
    expected: () => [35, 49],
  },
  {
    name: 'White woman 70, 160 cm, 65 kg, VKORC1 A/G, CYP2C9 not tested',
    stratum: 'VKORC1 only',
    p: { age: 70, sex: 'female', heightCm: 160, weightKg: 65, race: 'White', vkorc1: 'A/G' },
    expected: () => [0.75 * pharmacogenetic(TABLE[1]!.p), 1.25 * pharmacogenetic(TABLE[1]!.p)],
  },
  {
    name: 'Black man 55, 180 cm, 95 kg, CYP2C9 *1/*1, VKORC1 not tested',
    stratum: 'CYP2C9 only',
    p: { age: 55, sex: 'male', heightCm: 180, weightKg: 95, race: 'Black', cyp2c9: '*1/*1' },
    expected: () => [0.75 * clinical(TABLE[2]!.p), 1.25 * clinical(TABLE[2]!.p)],
  },
  {
    // issue 16: the clinical equation gives 17.8 mg/week; the old model (warfarin-dose-v1) proposed 24.5
    name: 'Asian woman 76, 155 cm, 60 kg, no genotype',
    stratum: 'none',
    p: { age: 76, sex: 'female', heightCm: 155, weightKg: 60, race: 'Asian' },
    expected: () => [0.75 * 17.8, 1.25 * 17.8],
  },
  {
    name: 'White man 65, 170 cm, 80 kg, no genotype',
    stratum: 'none',
    p: { age: 65, sex: 'male', heightCm: 170, weightKg: 80, race: 'White' },
    expected: () => [0.75 * clinical(TABLE[4]!.p), 1.25 * clinical(TABLE[4]!.p)],
  },
];

test('the hand-computed clinical equation gives 17.8 mg/week for the Asian woman of 76 (issue 16)', () => {
  expect(clinical(TABLE[3]!.p)).toBeCloseTo(17.8, 1);
});

test.each(TABLE)('$stratum: $name → served dose in the expected range, interval plausible, card names stratum and method', async ({ p, stratum, expected }) => {
  const r = await served(p);
  const [lo, hi] = expected();
  const est = r.proposedDose!.estimate!.value;
  expect(est).toBeGreaterThanOrEqual(lo);
  expect(est).toBeLessThanOrEqual(hi);
  const iv = r.interval!;
  expect(iv.low.value).toBeLessThanOrEqual(est);
  expect(iv.high.value).toBeGreaterThanOrEqual(est);
  // plausible: the lower bound is not a small fraction of the estimate, the upper not several times it
  expect(iv.low.value).toBeGreaterThanOrEqual(0.4 * est);
  expect(iv.high.value).toBeLessThanOrEqual(2.2 * est);
  const servedBy = model.card.servedBy[({ 'CYP2C9 and VKORC1': 'both', 'VKORC1 only': 'vkorc1Only', 'CYP2C9 only': 'cyp2c9Only', none: 'none' } as const)[stratum as 'none']];
  expect(r.notes.join(' ')).toContain(`Genotype on file: ${stratum}; dose from the ${servedBy === 'model' ? 'dose model' : 'IWPC'}`);
  expect(r.method.id).toBe(servedBy === 'model' ? MODEL_NAME : stratum === 'CYP2C9 and VKORC1' || stratum === 'VKORC1 only' ? 'iwpc-2009-pharmacogenetic' : 'iwpc-2009-clinical');
});

test('race carries what the missing VKORC1 genotype would have said: without a genotype the Asian patient gets less than the same White patient', async () => {
  const white = await served({ ...TABLE[3]!.p, race: 'White' });
  const asian = await served(TABLE[3]!.p);
  // clinical equation: Asian −0.6752 on the sqrt scale ≈ 30% lower dose
  expect(asian.proposedDose!.estimate!.value).toBeLessThan(0.85 * white.proposedDose!.estimate!.value);
});

test('the explanation reads against the wild-type reference: VKORC1 A/G lowers the dose', async () => {
  const r = await served(TABLE[1]!.p);
  if (r.method.id !== MODEL_NAME) return expect(r.method.id).toBe('iwpc-2009-pharmacogenetic');
  const vk = r.factors!.find((f) => f.key === 'vkorc1')!;
  expect(vk.label).toBe('VKORC1 A/G');
  expect(vk.contribution).toBeLessThan(-2);
  expect(r.factorBase!.description).toMatch(/reference patient \(60–69 years, 170 cm, 80 kg, White man, CYP2C9 \*1\/\*1, VKORC1 G\/G/);
});

test('a stratum the card gives to the equation is served by the equation, with its calibrated interval, and says so', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'warfarin-served-by-'));
  const card = JSON.parse(readFileSync(path.join('models', `${MODEL_NAME}.card.json`), 'utf8'));
  card.servedBy.none = 'equation';
  writeFileSync(path.join(dir, `${MODEL_NAME}.card.json`), JSON.stringify(card));
  copyFileSync(path.join('models', card.modelFile), path.join(dir, card.modelFile));
  const m = await loadWarfarinModel(dir);
  try {
    const p = TABLE[3]!.p;
    const direct = await m.predict({ ageYears: p.age, sex: p.sex, heightCm: p.heightCm, weightKg: p.weightKg, race: p.race, amiodarone: false, enzymeInducer: false });
    expect('servedBy' in direct && direct.servedBy).toBe('equation');
    const r = await served(p, m);
    expect(r.method.id).toBe('iwpc-2009-clinical');
    expect(r.proposedDose!.estimate!.value).toBeCloseTo(clinical(p), 1);
    expect(r.notes.join(' ')).toContain('Genotype on file: none; dose from the IWPC clinical equation (no genotype on file): the dose model did not beat it in cross-validation');
    expect(r.interval!.low.value).toBeLessThan(r.proposedDose!.estimate!.value);
    expect(r.interval!.high.value).toBeGreaterThan(r.proposedDose!.estimate!.value);
    // the genotyped patient is still served by the model
    expect((await served(TABLE[0]!.p, m)).method.id).toBe(MODEL_NAME);
  } finally {
    await m.close();
  }
});
