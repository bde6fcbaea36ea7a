// Hostile input (issue #7), absurd clinical values in prefetch: random and extreme weights, heights, creatinine, INR,
// dates and birth dates, with and without the warfarin dose model. Out-of-range values are set aside (the card says
// what is missing) and every proposed dose stays within 0.5–15 mg/day (test/support/hostile-input.ts).
//
// Reproduce a failure: FC_SEED=<seed printed in the failure> FC_RUNS=<n> (FC_SHRINK=1 to shrink the counterexample).
import fc from 'fast-check';
import type { FhirResource, Observation, Patient } from 'fhir/r4';
import { draftWarfarin, patient } from '../fixtures/synthetic-patients.js';
import { assertInvariant, callHook, fcParams, SEED, useHostileInputServices } from '../support/hostile-input.js';
import { fullPrefetch, orderSelectBody, proposedDoses, writeJson } from '../support/robustness.js';

const env = useHostileInputServices({ model: true });

describe('absurd clinical values', () => {
  const P = 'abs-1';
  const UCUM = 'http://unitsofmeasure.org';
  const LOINC = 'http://loinc.org';
  const obs = (id: string, loinc: string, value: unknown, code: unknown, date: unknown, status: unknown = 'final'): Observation =>
    ({
      resourceType: 'Observation',
      id,
      status,
      code: { coding: [{ system: LOINC, code: loinc }] },
      subject: { reference: `Patient/${P}` },
      ...(date !== undefined ? { effectiveDateTime: date } : {}),
      valueQuantity: { value, ...(code !== undefined ? { code, system: UCUM, unit: String(code) } : {}) },
    }) as Observation;
  const bundle = (rs: FhirResource[]) => ({ resourceType: 'Bundle', type: 'searchset', entry: rs.map((resource) => ({ resource })) });
  const bodyFor = (pt: Patient, weights: Observation[], heights: Observation[], renal: Observation[] = [], inr: Observation[] = []) => {
    const pre = fullPrefetch('pgx-1');
    return orderSelectBody(env.stub.url, {
      patientId: P,
      draft: draftWarfarin('mr-abs', P, 5),
      prefetch: { ...pre, patient: pt, weight: bundle(weights), height: bundle(heights), renal: bundle(renal), inr: bundle(inr), genomics: bundle([]), medicationRequests: bundle([]) },
    });
  };

  const num = fc.oneof(fc.constantFrom<unknown>(0, -0, -1, 0.3, 5000, 1e308, -1e308, 5e-324, 400.0001, 25, 260, '80', 'NaN', null, true, [80], { value: 80 }), fc.double({ min: -1e6, max: 1e6, noNaN: true }));
  const massUnit = fc.constantFrom<unknown>('kg', 'g', '[lb_av]', '[stone_av]', 'mg', '', 'KG', 'kilograms', '%', 5, undefined);
  const lengthUnit = fc.constantFrom<unknown>('cm', 'm', 'mm', '[in_i]', '[ft_i]', 'km', '', 'CM', undefined);
  const date = fc.constantFrom<unknown>('2026-10-01', '2999-01-01', '1800-01-01', 'yesterday', '', '2026-13-45T99:99:99Z', '0000-00-00', 20261001, undefined);
  const birthDate = fc.constantFrom<unknown>('1960-05-01', '2999-01-01', '1800-01-01', '2010-06-01', '1960-02-30', 'garbage', '', '0000', '-0001-01-01', '19600501', 1960, null);
  const status = fc.constantFrom<unknown>('final', 'amended', 'preliminary', 'entered-in-error', 'FINAL', '', null);

  test(`random weights, heights, creatinine, INR, dates and birth dates (seed ${SEED})`, async () => {
    type Raw = { loinc: string; v: unknown; u: unknown; d: unknown; s: unknown };
    const o = (loinc: string, unit: fc.Arbitrary<unknown>): fc.Arbitrary<Raw> => fc.tuple(num, unit, date, status).map(([v, u, d, s]) => ({ loinc, v, u, d, s }));
    await fc.assert(
      fc.asyncProperty(
        birthDate,
        fc.array(o('29463-7', massUnit), { maxLength: 4 }),
        fc.array(o('8302-2', lengthUnit), { maxLength: 4 }),
        fc.array(o('2160-0', fc.constantFrom<unknown>('mg/dL', 'umol/L', 'mmol/L', 'g/L', '')), { maxLength: 2 }),
        fc.array(o('6301-6', fc.constantFrom<unknown>('{INR}', '1', 's', undefined)), { maxLength: 2 }),
        fc.boolean(),
        async (bd, ws, hs, crs, inrs, withModel) => {
          const mk = (xs: Raw[], prefix: string) => xs.map((x, i) => obs(`${prefix}-${i}`, x.loinc, x.v, x.u, x.d, x.s));
          const pt = { ...patient(P, '1960-05-01', 'male'), birthDate: bd } as Patient;
          const body = writeJson(bodyFor(pt, mk(ws, 'w'), mk(hs, 'h'), mk(crs, 'cr'), mk(inrs, 'inr')));
          const r = await callHook(withModel && env.modelSvc ? env.modelSvc : env.svc, body);
          assertInvariant(r, body);
          expect(r.status).toBe(200);
        },
      ),
      fcParams(80),
    );
  }, 120000);

  const good = { w: obs('w', '29463-7', 80, 'kg', '2026-10-01'), h: obs('h', '8302-2', 175, 'cm', '2026-10-01') };
  const pt = (birthDate: string) => patient(P, birthDate, 'male');
  test.each<[string, () => Record<string, unknown>, RegExp]>([
    ['weight 0 kg', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', 0, 'kg', '2026-10-01')], [good.h]), /missing body weight/],
    ['weight 5000 kg', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', 5000, 'kg', '2026-10-01')], [good.h]), /missing body weight/],
    ['weight in an unknown unit', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', 80, '[stone_av]', '2026-10-01')], [good.h]), /missing body weight/],
    ['weight as a string', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', '80', 'kg', '2026-10-01')], [good.h]), /missing body weight/],
    ['weight dated in the future', () => bodyFor(pt('1960-05-01'), [obs('w0', '29463-7', 80, 'kg', '2999-01-01')], [good.h]), /missing body weight/],
    ['height 0', () => bodyFor(pt('1960-05-01'), [good.w], [obs('h0', '8302-2', 0, 'cm', '2026-10-01')]), /missing body height/],
    ['birthDate in the future', () => bodyFor(pt('2999-01-01'), [good.w], [good.h]), /missing age/],
    ['birthDate in 1800', () => bodyFor(pt('1800-01-01'), [good.w], [good.h]), /missing age/],
  ])('%s → no dose, the card says what is missing', async (_n, make, missing) => {
    const body = writeJson(make());
    const r = await callHook(env.svc, body);
    assertInvariant(r, body);
    expect(r.json.cards).toHaveLength(1);
    expect(r.json.cards[0].summary).toMatch(missing);
    expect(proposedDoses(r.json)).toEqual([]);
  });

  test('negative creatinine and an INR of 1e308 are set aside; the dose is still within bounds', async () => {
    const body = writeJson(bodyFor(pt('1960-05-01'), [good.w], [good.h], [obs('cr', '2160-0', -1, 'mg/dL', '2026-10-01')], [obs('inr', '6301-6', 1e308, '{INR}', '2026-10-01')]));
    const r = await callHook(env.svc, body);
    assertInvariant(r, body);
    expect(proposedDoses(r.json)).toHaveLength(1);
  });

  test('extreme but plausible patients are clamped to 0.5–15 mg/day', async () => {
    // 18-year-old 260 cm, 400 kg on an inducer vs a 129-year-old 25 cm 0.3 kg patient on amiodarone
    const inducer = { resourceType: 'MedicationRequest', id: 'carb', status: 'active', intent: 'order', subject: { reference: `Patient/${P}` }, medicationCodeableConcept: { text: 'carbamazepine 200 MG Oral Tablet' } };
    const amio = { ...inducer, id: 'amio', medicationCodeableConcept: { text: 'amiodarone hydrochloride 200 MG Oral Tablet' } };
    const year = new Date().getUTCFullYear();
    for (const s of [env.svc, env.modelSvc ?? env.svc]) {
      for (const [bd, w, h, med] of [[`${year - 19}-01-01`, 400, 260, inducer], [`${year - 129}-01-01`, 0.3, 25, amio]] as const) {
        const b = bodyFor(pt(bd), [obs('w', '29463-7', w, 'kg', '2026-10-01')], [obs('h', '8302-2', h, 'cm', '2026-10-01')]);
        (b['prefetch'] as Record<string, unknown>)['medicationRequests'] = bundle([med as FhirResource]);
        const body = writeJson(b);
        const r = await callHook(s, body);
        assertInvariant(r, body);
        expect(proposedDoses(r.json)).toHaveLength(1);
      }
    }
  });
});
