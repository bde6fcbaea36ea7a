// The ONNX warfarin dose model wired into the hook path: model dose with interval and factors, IWPC for comparison,
// fallback to the IWPC equation (and saying so) when the model must not or cannot be used.
import { randomUUID } from 'node:crypto';
import type { Bundle, FhirResource, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { loadConfig } from '../../src/config.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { defaultRegistry } from '../../src/dosing/registry.js';
import { iwpcAgeDecade, iwpcPharmacogenetic } from '../../src/dosing/warfarin/iwpc.js';
import { loadWarfarinModel, type WarfarinModel, type WarfarinPrediction } from '../../src/model/warfarinModel.js';
import { draftWarfarin, patient, SYNTHETIC, syntheticResources, vital } from '../fixtures/synthetic-patients.js';
import { startTestService, type TestService } from '../support/service.js';
import { visibleText } from '../support/markdown.js';

let model: WarfarinModel;
let svc: TestService;

beforeAll(async () => {
  model = await loadWarfarinModel();
  svc = await startTestService({}, [], { warfarinModel: model });
}, 30000);
afterAll(async () => {
  await svc?.close();
  await model?.close();
});

const searchset = (resources: FhirResource[]): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: resources.map((resource) => ({ resource })) });

function request(patientId: string, resources: FhirResource[], draft: MedicationRequest) {
  const of = (t: string) => resources.filter((r) => r.resourceType === t);
  return {
    hook: 'order-select',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/x', patientId, selections: [`MedicationRequest/${draft.id}`], draftOrders: { resourceType: 'Bundle', entry: [{ resource: draft }] } },
    prefetch: {
      patient: resources.find((r) => r.resourceType === 'Patient' && r.id === patientId),
      weight: searchset(of('Observation').filter((o) => (o as { code: { coding: { code: string }[] } }).code.coding[0]!.code === '29463-7')),
      height: searchset(of('Observation').filter((o) => (o as { code: { coding: { code: string }[] } }).code.coding[0]!.code === '8302-2')),
      renal: null,
      inr: null,
      genomics: searchset(of('Observation').filter((o) => (o as { code: { coding: { code: string }[] } }).code.coding[0]!.code === '84413-4')),
      medicationRequests: searchset(of('MedicationRequest')),
      medicationStatements: null,
      conditions: searchset(of('Condition')),
    },
  };
}

const pgx1 = () => syntheticResources().filter((r) => r.id?.startsWith('pgx-1'));

test('genotyped patient: the card proposes the model dose (same as the ONNX session gives directly), with interval, factors and the IWPC dose', async () => {
  const p = SYNTHETIC['pgx-1'];
  const direct = (await model.predict({ ageYears: p.age(new Date()), sex: 'male', heightCm: p.heightCm, weightKg: p.weightKg, race: 'White', vkorc1: 'A/G', cyp2c9: '*1/*3', amiodarone: true, enzymeInducer: false })) as WarfarinPrediction;
  expect('withheld' in direct).toBe(false);
  const r = await svc.hook('dosing-order-select', request('pgx-1', pgx1(), draftWarfarin('m-1', 'pgx-1')));
  expect(r.status).toBe(200);
  expect(checkCdsResponse(r.json)).toEqual([]);
  const card = r.json.cards[0];
  const daily = Math.round(direct.weeklyDoseMg / 7 / 0.5) * 0.5;
  expect(card.summary).toBe(`Warfarin ${daily} mg daily (${daily * 7} mg/week) suggested by the IWPC-trained dose model`);
  expect(card.suggestions[0].actions[0].resource.dosageInstruction[0].doseAndRate[0].doseQuantity.value).toBe(daily);
  expect(card.detail).toContain(`80% prediction interval for the stable dose: ${Number(direct.interval80.low.toFixed(1))}–${Number(direct.interval80.high.toFixed(1))} mg/wk`);
  const iwpc = iwpcPharmacogenetic({ ageDecade: iwpcAgeDecade(p.age(new Date())), heightCm: p.heightCm, weightKg: p.weightKg, race: 'White', vkorc1: 'A/G', cyp2c9: '*1/*3', amiodarone: true, enzymeInducer: false });
  expect(card.detail).toContain(`IWPC pharmacogenetic equation: ${Number(iwpc.weeklyDoseMg.toFixed(1))} mg/wk`);
  expect(visibleText(card.detail)).toContain(direct.contributions[0]!.label);
  expect(card.detail).toMatch(/Model card warfarin-dose-v2 v\d/);
});

test('an indication recorded as a Condition (SNOMED atrial fibrillation) reaches the model', async () => {
  const af = { resourceType: 'Condition', id: 'pgx-1-af', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://snomed.info/sct', code: '49436004', display: 'Atrial fibrillation' }] }, subject: { reference: 'Patient/pgx-1' } } as FhirResource;
  const p = SYNTHETIC['pgx-1'];
  const direct = (await model.predict({ ageYears: p.age(new Date()), sex: 'male', heightCm: p.heightCm, weightKg: p.weightKg, race: 'White', vkorc1: 'A/G', cyp2c9: '*1/*3', amiodarone: true, enzymeInducer: false, indications: ['AtrialFibrillation'] })) as WarfarinPrediction;
  const r = await svc.hook('dosing-order-select', request('pgx-1', [...pgx1(), af], draftWarfarin('m-2', 'pgx-1')));
  const daily = Math.round(direct.weeklyDoseMg / 7 / 0.5) * 0.5;
  expect(r.json.cards[0].summary).toContain(`${daily} mg daily`);
  expect(r.json.cards[0].detail).toContain(`(estimate ${Number(direct.weeklyDoseMg.toFixed(1))} mg/wk)`);
  expect(r.json.cards[0].detail).toContain('Indication: atrial fibrillation/flutter');
});

test('inputs outside the model card ranges: the model is withheld and the IWPC equation is used, saying why', async () => {
  const res = [patient('big-1', '1960-05-01', 'male', { code: '2106-3', display: 'White' }), vital('big-1-wt', 'big-1', '29463-7', 'Body weight', 300, 'kg', 'kg', '2026-10-01'), vital('big-1-ht', 'big-1', '8302-2', 'Body height', 180, 'cm', 'cm', '2026-10-01')];
  const r = await svc.hook('dosing-order-select', request('big-1', res, draftWarfarin('m-3', 'big-1')));
  expect(r.status).toBe(200);
  const card = r.json.cards[0];
  expect(card.summary).toMatch(/IWPC clinical equation/);
  expect(card.detail).toMatch(/Dose model not used \(Weight 300 kg is outside the model's range/);
  expect(checkCdsResponse(r.json)).toEqual([]);
});

test('missing weight: no dose even though the model could estimate without it (fail-safe policy)', async () => {
  const res = pgx1().filter((x) => x.id !== 'pgx-1-wt' && x.id !== 'pgx-1-wt-old');
  const r = await svc.hook('dosing-order-select', request('pgx-1', res, draftWarfarin('m-4', 'pgx-1', 5)));
  expect(r.json.cards[0].summary).toMatch(/not personalized: missing body weight/);
  expect(r.json.cards[0].suggestions).toBeUndefined();
});

test('model file missing at start-up: cards fall back to the IWPC equation and say so', async () => {
  const facts = {
    patientId: 'x',
    ageYears: { value: 66, source: { reference: 'Patient/x' } },
    height: { value: { value: 178, unit: 'cm' }, source: { reference: 'Observation/h' } },
    weight: { value: { value: 80, unit: 'kg' }, source: { reference: 'Observation/w' } },
    genes: [],
    medications: [],
    conditions: [],
    unavailable: [],
    notes: [],
  };
  const drugs = DrugDictionary.load();
  const draft = draftWarfarin('m-5', 'x');
  const recs = await defaultRegistry({ warfarinModelUnavailable: 'model file missing or unreadable' }).evaluate({
    facts,
    order: { ref: 'MedicationRequest/m-5', resource: draft, drugs: drugs.identifyConcept(draft.medicationCodeableConcept) },
    drug: { ingredient: 'warfarin', rxcui: '11289', matchedBy: 'product-code' },
    drugs,
    config: loadConfig({}),
    newId: randomUUID,
  });
  expect(recs[0]!.method.id).toBe('iwpc-2009-clinical');
  expect(recs[0]!.notes.join(' ')).toMatch(/Dose model unavailable \(model file missing or unreadable\)/);
});
