// Kidney-function dose bands end to end: the real service (signed JWTs, SQLite) and the real FHIR server process.
// Each patient has a recent creatinine; ages and dates are relative to today so the expectations never go stale.
import type { Condition, FhirResource, MedicationRequest, Procedure } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { draftOrder, ORAL, orderSelectCall } from '../fixtures/orders.js';
import { patient, prefetchFrom, vital } from '../fixtures/synthetic-patients.js';
import { useFhirAndService } from '../support/service.js';

const TOKEN = 'ehr-access-token-renal';

const now = new Date();
const daysAgo = (d: number) => new Date(now.getTime() - d * 86400000).toISOString().slice(0, 10);
/** born on 1 January, so the age in whole years is the same on every day of the year */
const bornYearsAgo = (years: number) => `${now.getUTCFullYear() - years}-01-01`;

function condition(id: string, patientId: string, system: string, code: string, display: string): Condition {
  return {
    resourceType: 'Condition',
    id,
    clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
    code: { coding: [{ system, code, display }], text: display },
    subject: { reference: `Patient/${patientId}` },
    recordedDate: daysAgo(100),
  };
}

function procedure(id: string, patientId: string, system: string, code: string, display: string, performed: string): Procedure {
  return { resourceType: 'Procedure', id, status: 'completed', code: { coding: [{ system, code, display }], text: display }, subject: { reference: `Patient/${patientId}` }, performedDateTime: performed };
}

/**
 * - ren-gaba: man, 80 y, 60 kg, creatinine 2.0 mg/dL → CG (60 × 60)/(72 × 2.0) = 25.0 mL/min (gabapentin 15–29 band)
 * - ren-af:   man, 80 y, 60 kg, creatinine 1.25 mg/dL → CG 40.0 mL/min, atrial fibrillation (SNOMED 49436004)
 * - ren-met:  woman, 70 y, 65 kg, creatinine 2.1 mg/dL → CKD-EPI 2021 eGFR 24.9
 * - ren-ok:   man, 40 y, 80 kg, creatinine 0.9 mg/dL → CG 123.5 mL/min
 * - ren-hd:   man, 60 y, 70 kg, creatinine 7.0 mg/dL, hemodialysis Procedure (SNOMED 302497006) 2 days ago, no dialysis Condition
 * - ren-aki:  same as ren-gaba plus one hemodialysis session (CPT 90935) 90 days ago (outside the 30-day window)
 */
function resources(): FhirResource[] {
  const cr = (id: string, p: string, mgdl: number) => vital(id, p, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', mgdl, 'mg/dL', 'mg/dL', daysAgo(2));
  const wt = (id: string, p: string, kg: number) => vital(id, p, '29463-7', 'Body weight', kg, 'kg', 'kg', daysAgo(2));
  return [
    patient('ren-gaba', bornYearsAgo(80), 'male'),
    wt('ren-gaba-wt', 'ren-gaba', 60),
    cr('ren-gaba-cr', 'ren-gaba', 2.0),
    patient('ren-af', bornYearsAgo(80), 'male'),
    wt('ren-af-wt', 'ren-af', 60),
    cr('ren-af-cr', 'ren-af', 1.25),
    condition('ren-af-af', 'ren-af', 'http://snomed.info/sct', '49436004', 'Atrial fibrillation'),
    patient('ren-met', bornYearsAgo(70), 'female'),
    wt('ren-met-wt', 'ren-met', 65),
    cr('ren-met-cr', 'ren-met', 2.1),
    patient('ren-ok', bornYearsAgo(40), 'male'),
    wt('ren-ok-wt', 'ren-ok', 80),
    cr('ren-ok-cr', 'ren-ok', 0.9),
    patient('ren-hd', bornYearsAgo(60), 'male'),
    wt('ren-hd-wt', 'ren-hd', 70),
    cr('ren-hd-cr', 'ren-hd', 7.0),
    procedure('ren-hd-hd', 'ren-hd', 'http://snomed.info/sct', '302497006', 'Hemodialysis', daysAgo(2)),
    patient('ren-aki', bornYearsAgo(80), 'male'),
    wt('ren-aki-wt', 'ren-aki', 60),
    cr('ren-aki-cr', 'ren-aki', 2.0),
    procedure('ren-aki-hd', 'ren-aki', 'http://www.ama-assn.org/go/cpt', '90935', 'Hemodialysis procedure with single evaluation', daysAgo(90)),
  ];
}

const env = useFhirAndService(TOKEN, resources);

const prefetch = (patientId: string): Record<string, unknown> => prefetchFrom(resources(), patientId);

const draft = (id: string, patientId: string, rxcui: string, text: string, mg: number, perDay: number): MedicationRequest =>
  draftOrder(id, patientId, { rxcui, text }, { mg, timing: { frequency: perDay, period: 1, periodUnit: 'd' }, route: ORAL, text: `${mg} mg ${perDay}× daily` });

const orderSelect = (patientId: string, d: MedicationRequest, withPrefetch = true) => orderSelectCall(env.fhir.url, TOKEN, patientId, d, withPrefetch ? { prefetch: prefetch(patientId) } : {});

describe('renal dose bands through the service', () => {
  // Band: NEURONTIN label 2.4 Table 1, CrCl 15–29: 200–700 mg/day once daily. Suggested dose (knowledge/renal-bands.json
  // rangeSuggestion, src/dosing/renal/rangeDose.ts): 1800 mg/day sits at (1800−900)/(3600−900) = 33% of the normal
  // range; 200 + 0.33 × 500 = 367 mg/day, rounded down to whole capsules → 300 mg once daily (one 300 MG capsule).
  test('gabapentin 600 mg TID at CrCl 25 → a warning card with the 200–700 mg/day band and 300 mg once daily (300 MG capsule)', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('ren-gaba', draft('g1', 'ren-gaba', '25480', 'gabapentin 600 MG Oral Tablet', 600, 3)));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toMatch(/Gabapentin: 1800 mg\/day exceeds 200–700 mg\/day for CrCl 25 mL\/min/);
    expect(c.detail).toMatch(/200–700 mg\/day once daily/);
    expect(c.detail).toMatch(/Cockcroft-Gault: \(140 − 80\) × 60 kg \/ \(72 × 2 mg\/dL\) = 25 mL\/min/);
    expect(c.detail).toMatch(/Observation\/ren-gaba-cr/);
    expect(c.detail).toMatch(/NEURONTIN/);
    expect(c.detail).toMatch(/Suggested: 300 mg once daily \(300 mg\/day, within 200–700 mg\/day\)/);
    expect(c.suggestions).toHaveLength(1);
    const res = c.suggestions[0].actions[0].resource;
    // the drafted 600 MG tablet cannot make 300 mg: the immediate-release capsule of 300 mg can
    expect(res.medicationCodeableConcept.coding[0]).toMatchObject({ code: '310431', display: 'gabapentin 300 MG Oral Capsule' });
    expect(c.suggestions[0].label).toBe('Change to gabapentin 300 mg once daily (gabapentin 300 MG Oral Capsule)');
    expect(res.dosageInstruction[0].doseAndRate[0].doseQuantity).toMatchObject({ value: 300, code: 'mg' });
    expect(res.dosageInstruction[0].timing.repeat).toEqual({ frequency: 1, period: 1, periodUnit: 'd' });
    expect(res.dosageInstruction[0].text).toBe('300 mg (1 capsule of gabapentin 300 MG Oral Capsule) once daily');
    expect(c.source.topic.code).toBe('renal-dose');
  });

  test.each([true, false])('rivaroxaban 20 mg daily, AF, CrCl 40 → update to 15 mg once daily (prefetch: %s)', async (withPrefetch) => {
    const d = draft('x1', 'ren-af', '1114195', 'rivaroxaban 20 MG Oral Tablet', 20, 1);
    const r = await env.svc.hook('dosing-order-select', orderSelect('ren-af', d, withPrefetch));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toMatch(/Rivaroxaban: CrCl 40 mL\/min — label dose 15 mg once daily/);
    expect(c.detail).toMatch(/The suggestion changes the dose of the draft order, and its product when the drafted product cannot make the dose\./);
    const action = c.suggestions[0].actions[0];
    expect(action.type).toBe('update');
    expect(action.resource.id).toBe('x1');
    expect(action.resource.dosageInstruction).toHaveLength(1);
    expect(action.resource.dosageInstruction[0].doseAndRate[0].doseQuantity).toMatchObject({ value: 15, code: 'mg' });
    expect(action.resource.dosageInstruction[0].timing.repeat).toEqual({ frequency: 1, period: 1, periodUnit: 'd' });
    expect(action.resource.dosageInstruction[0].route.coding[0].code).toBe('26643006');
    if (!withPrefetch) expect((await env.fhir.admin.requests()).length).toBeGreaterThan(0);
  });

  test('metformin at eGFR 24.9 → a critical card (contraindicated) offering to remove the draft', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('ren-met', draft('m1', 'ren-met', '6809', 'metformin hydrochloride 500 MG Oral Tablet', 500, 2)));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.indicator).toBe('critical');
    expect(c.summary).toMatch(/Metformin: contraindicated at eGFR 24\.9/);
    expect(c.detail).toMatch(/CKD-EPI 2021/);
    expect(c.suggestions[0].actions[0]).toMatchObject({ type: 'delete', resourceId: 'MedicationRequest/m1' });
  });

  test('normal kidney function → no card', async () => {
    for (const d of [draft('o1', 'ren-ok', '25480', 'gabapentin 300 MG Oral Capsule', 300, 3), draft('o2', 'ren-ok', '6809', 'metformin 500 MG Oral Tablet', 500, 2)]) {
      const r = await env.svc.hook('dosing-order-select', orderSelect('ren-ok', d));
      expect(r.status).toBe(200);
      expect(checkCdsResponse(r.json)).toEqual([]);
      expect(r.json.cards).toEqual([]);
    }
  });

  test('a brand name in the text is recognised (Xarelto), and an AF patient already on 15 mg gets no card', async () => {
    const d = draft('x2', 'ren-af', '999999999', 'Xarelto 15 MG Oral Tablet', 15, 1);
    const r = await env.svc.hook('dosing-order-select', orderSelect('ren-af', d));
    expect(r.status).toBe(200);
    expect(r.json.cards).toEqual([]);
  });

  test.each([true, false])('hemodialysis Procedure 2 days ago, gabapentin → the dialysis card naming the procedure (prefetch: %s)', async (withPrefetch) => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('ren-hd', draft('hd1', 'ren-hd', '25480', 'gabapentin 300 MG Oral Capsule', 300, 3), withPrefetch));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toMatch(/^Gabapentin: patient on dialysis — dialysis dosing applies: Hemodialysis: maintenance dose by CrCl plus a supplemental/);
    expect(c.detail).toMatch(new RegExp(`Dialysis procedure \\(hemodialysis\\) \\| Hemodialysis \\(completed\\) \\| Procedure/ren-hd-hd, ${daysAgo(2)} \\(2 days ago; counts within 30 days\\)`));
    expect(c.detail).toMatch(/Counted as on dialysis because \| a hemodialysis procedure within the last 30 days/);
    expect(c.detail).toMatch(/not valid on dialysis/);
    expect(c.detail).not.toMatch(/Cockcroft-Gault:/);
    const procedureQueries = (await env.fhir.admin.requests()).filter((q) => q.path === '/Procedure');
    if (withPrefetch) expect(procedureQueries).toEqual([]);
    else {
      expect(procedureQueries).toHaveLength(1);
      const code = String(procedureQueries[0]!.query['code']);
      expect(code).toContain('http://snomed.info/sct|302497006');
      expect(code).toContain('http://www.ama-assn.org/go/cpt|90935');
      expect(code).toContain('http://www.cms.gov/Medicare/Coding/ICD10|5A1D70Z');
      expect(procedureQueries[0]!.query['patient']).toBe('ren-hd');
    }
  });

  test('one hemodialysis session 90 days ago (AKI) → not on dialysis: the creatinine band card, the session shown as not counted', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('ren-aki', draft('aki1', 'ren-aki', '25480', 'gabapentin 600 MG Oral Tablet', 600, 3), false));
    expect(r.status).toBe(200);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.summary).toMatch(/Gabapentin: 1800 mg\/day exceeds 200–700 mg\/day for CrCl 25 mL\/min/);
    expect(c.detail).toMatch(/Procedure\/ren-aki-hd, [0-9-]{10} \(90 days ago: outside the 30-day window, not counted\)/);
  });

  test('an order without a renal drug (warfarin) does not query Procedures', async () => {
    const w = draft('w1', 'ren-hd', '11289', 'warfarin sodium 5 MG Oral Tablet', 5, 1);
    const r = await env.svc.hook('dosing-order-select', orderSelect('ren-hd', w, false));
    expect(r.status).toBe(200);
    const paths = (await env.fhir.admin.requests()).map((q) => q.path);
    expect(paths.length).toBeGreaterThan(0);
    expect(paths).not.toContain('/Procedure');
  });
});
