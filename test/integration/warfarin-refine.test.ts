// Warfarin refinement on day 5 (Lenzini 2010) end to end: the real service (signed JWTs, SQLite) and the real FHIR
// server process; warfarin administrations of days 1–4 and the INR of day 5 in the chart. Dates relative to today.
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { orderSelectCall } from '../fixtures/orders.js';
import { draftWarfarin, prefetchFrom } from '../fixtures/synthetic-patients.js';
import { lenziniPatient, plusDays } from '../fixtures/warfarin-history.js';
import { useFhirAndService } from '../support/service.js';
import { visibleText } from '../support/markdown.js';

const TOKEN = 'ehr-access-token-warfarin-refine';

const today = new Date().toISOString().slice(0, 10);
// born on 1 January 66 years ago: 65 or 66 today (the expected dose is computed for the age the service sees)
const birthYear = new Date().getUTCFullYear() - 66;
const age = new Date().getUTCFullYear() - birthYear;

/**
 * - wr-5:   the Lenzini worked example (VKORC1 G/A, CYP2C9 *1/*1, BSA 1.9 m², White): 5 mg on days 1–4, INR 1.5 on
 *           day 5 (yesterday) → about 34.6 mg/week at 65 y → 5 mg daily
 * - wr-gap: the same, but the dose of day 2 was never recorded → the starting-dose card, saying why no refinement
 */
function resources(): FhirResource[] {
  const day1 = plusDays(today, -5);
  return [
    ...lenziniPatient('wr-5', { day1, birthDate: `${birthYear}-01-01`, doses: [5, 5, 5, 5], inrDay: 5, inr: 1.5 }),
    ...lenziniPatient('wr-gap', { day1, birthDate: `${birthYear}-01-01`, doses: [5, null, 5, 5], inrDay: 5, inr: 1.5 }),
  ];
}

const env = useFhirAndService(TOKEN, resources);

const orderSelect = (patientId: string, d: MedicationRequest, prefetch: Record<string, unknown> | undefined) => orderSelectCall(env.fhir.url, TOKEN, patientId, d, prefetch ? { prefetch } : {});

/** Lenzini 2010 for the worked example at a given age (the reference's 34.6 mg/week is at 65 y). */
const lenziniExample = (years: number) => Math.exp(3.10894 - 0.00767 * years - 0.51611 * Math.log(1.5) - 0.23032 + 0.24597 * 1.9 + 0.26729 * 2.5 + (0.0169 + 0.02018 + 0.01065) * 5);
const expectedWeekly = lenziniExample(age);
const expectedDaily = Math.round(expectedWeekly / 7 / 0.5) * 0.5;

function expectLenziniCard(c: any): void {
  expect(c.source.topic.code).toBe('warfarin-refine');
  expect(c.indicator).toBe('warning');
  expect(c.summary).toBe(`Warfarin ${expectedDaily} mg daily (${expectedDaily * 7} mg/week) refined from the day-5 INR of 1.5 (Lenzini 2010)`);
  expect(c.detail).toContain('| INR (day 5 of therapy) | 1.5 | Observation/wr-5-inr');
  for (const [day, k] of [[3, 2], [2, 3], [1, 4]] as const) expect(c.detail).toContain(`| Warfarin given on day ${day} (${k} days before the INR) | 5 mg | MedicationAdministration/wr-5-dose-${day}`);
  expect(visibleText(c.detail)).toMatch(/\| VKORC1 rs9923231 \(-1639G>A\) \| A\/G \| Observation\/wr-5-vkorc1/);
  expect(visibleText(c.detail)).toMatch(/\| CYP2C9 \| \*1\/\*1 \| Observation\/wr-5-cyp2c9/);
  const action = c.suggestions[0].actions[0];
  expect(action.type).toBe('update');
  expect(action.resource.dosageInstruction[0].doseAndRate[0].doseQuantity.value).toBe(expectedDaily);
}

describe('warfarin Lenzini refinement through the service', () => {
  test('the expected dose: the worked example (34.6 mg/week at 65 y), 5 mg daily at the patient’s age', () => {
    expect(lenziniExample(65)).toBeCloseTo(34.6, 1);
    expect(expectedDaily).toBe(5);
  });

  test('order-select on day 5 with the full prefetch → the Lenzini card (not the starting dose), update to the refined dose', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('wr-5', draftWarfarin('w1', 'wr-5', 7.5), prefetchFrom(resources(), 'wr-5')));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    const warfarinCards = r.json.cards.filter((c: any) => /^warfarin/.test(c.source.topic.code));
    expect(warfarinCards).toHaveLength(1);
    expectLenziniCard(warfarinCards[0]);
    expect(await env.fhir.admin.requests()).toEqual([]);
  });

  test('no prefetch: the service reads the INR, the administrations and the genotypes from the FHIR server itself', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('wr-5', draftWarfarin('w2', 'wr-5', 7.5), undefined));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    const paths = (await env.fhir.admin.requests()).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/MedicationAdministration', '/Observation']));
    const warfarinCards = r.json.cards.filter((c: any) => /^warfarin/.test(c.source.topic.code));
    expect(warfarinCards).toHaveLength(1);
    expectLenziniCard(warfarinCards[0]);
  });

  test('the dose of day 2 not recorded → the starting-dose card says why the refinement was not computed', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('wr-gap', draftWarfarin('w3', 'wr-gap', 7.5), prefetchFrom(resources(), 'wr-gap')));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    const c = r.json.cards.find((x: any) => x.source.topic.code === 'warfarin-dose');
    expect(c).toBeDefined();
    expect(c.detail).toMatch(/INR-based refinement \(Lenzini 2010\) not computed: no completed warfarin dose is recorded for day 2 of therapy \(a missing dose is never assumed\)/);
  });
});
