// AUC-guided vancomycin dosing end to end: the real service (signed JWTs, SQLite) and the real FHIR server process,
// with the full prefetch (including vancomycinLevels and medicationAdministrations) built here. Times are relative to now.
import { randomUUID } from 'node:crypto';
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { draftOrder, INTRAVENOUS, orderSelectCall } from '../fixtures/orders.js';
import { patient, prefetchFrom, searchset, vital } from '../fixtures/synthetic-patients.js';
import { vancomycinAdmin, vancomycinLevel } from '../fixtures/vancomycin.js';
import { useFhirAndService } from '../support/service.js';

const TOKEN = 'ehr-access-token-vanco';

const now = new Date();
const daysAgo = (d: number) => new Date(now.getTime() - d * 86400000).toISOString().slice(0, 10);
const bornYearsAgo = (years: number) => `${now.getUTCFullYear() - years}-01-01`;

const admin = (id: string, patientId: string, mg: number, startH: number, endH: number) => vancomycinAdmin(id, patientId, mg, startH, endH, now);
const level = (id: string, patientId: string, loinc: string, mgL: number, hAgo: number) => vancomycinLevel(id, patientId, loinc, mgL, hAgo, now);

/**
 * - van-new:   man, 60 y, 80 kg, creatinine 1.0 → CG 88.9 mL/min; no doses, no levels (first regimen)
 * - van-bayes: same covariates; 1000 mg q12h × 3 (1 h infusions, 40/28/16 h ago), peak 14 h ago and trough 4.5 h ago
 *              far below what the prior predicts (≈ 2× the population clearance)
 * - van-nocr:  man, 60 y, 80 kg, no creatinine
 */
function resources(): FhirResource[] {
  const cr = (id: string, p: string, mgdl: number) => vital(id, p, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', mgdl, 'mg/dL', 'mg/dL', daysAgo(1));
  const wt = (id: string, p: string, kg: number) => vital(id, p, '29463-7', 'Body weight', kg, 'kg', 'kg', daysAgo(1));
  return [
    patient('van-new', bornYearsAgo(60), 'male'),
    wt('van-new-wt', 'van-new', 80),
    cr('van-new-cr', 'van-new', 1.0),
    patient('van-bayes', bornYearsAgo(60), 'male'),
    wt('van-bayes-wt', 'van-bayes', 80),
    cr('van-bayes-cr', 'van-bayes', 1.0),
    admin('van-bayes-d1', 'van-bayes', 1000, 40, 39),
    admin('van-bayes-d2', 'van-bayes', 1000, 28, 27),
    admin('van-bayes-d3', 'van-bayes', 1000, 16, 15),
    level('van-bayes-peak', 'van-bayes', '4089-9', 16, 14),
    level('van-bayes-trough', 'van-bayes', '4090-7', 2.5, 4.5),
    patient('van-nocr', bornYearsAgo(60), 'male'),
    wt('van-nocr-wt', 'van-nocr', 80),
  ];
}

const env = useFhirAndService(TOKEN, resources);

const prefetch = (patientId: string): Record<string, unknown> => prefetchFrom(resources(), patientId);

const draft = (id: string, patientId: string, mg: number, everyH: number): MedicationRequest =>
  draftOrder(id, patientId, { rxcui: '11124', text: 'vancomycin 1 G Injection' }, { mg, timing: { frequency: 1, period: everyH, periodUnit: 'h' }, route: INTRAVENOUS, text: `${mg} mg IV every ${everyH} hours` });

const orderSelect = (patientId: string, d: MedicationRequest) => orderSelectCall(env.fhir.url, TOKEN, patientId, d, { prefetch: prefetch(patientId) });

function updatedDose(c: any): { mg: number; repeat: { frequency: number; period: number; periodUnit: string } } {
  const action = c.suggestions[0].actions[0];
  expect(action.type).toBe('update');
  const di = action.resource.dosageInstruction;
  expect(di).toHaveLength(1);
  expect(di[0].route.coding[0].code).toBe('47625008');
  return { mg: di[0].doseAndRate[0].doseQuantity.value, repeat: di[0].timing.repeat };
}

const aucOf = (text: string, what: RegExp): number => Number(what.exec(text)?.[1]);

describe('vancomycin AUC-guided dosing through the service', () => {
  test('first dose, no levels → population-prior regimen with a loading dose, AUC24 within 400–600', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('van-new', draft('v1', 'van-new', 750, 24)));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.source.topic.code).toBe('vancomycin-dose');
    expect(c.summary.length).toBeLessThan(140);
    expect(c.summary).toMatch(/^Vancomycin: load 2000 mg, then \d+ mg q(8|12|24)h \(predicted AUC24 \d+\)/);
    expect(c.detail).toMatch(/Loading dose: 2000 mg IV over 2 h/);
    expect(c.detail).toMatch(/Population \(prior\) estimate/);
    expect(c.detail).toMatch(/Target AUC24 400–600 mg·h\/L/);
    expect(c.detail).toMatch(/Draft order regimen 750 mg every 24 h: predicted AUC24 \d+ mg·h\/L .* below the target/);
    expect(c.detail).toMatch(/Observation\/van-new-cr/);
    const auc = aucOf(c.detail, /predicted steady-state AUC24 (\d+) mg·h\/L/);
    expect(auc).toBeGreaterThanOrEqual(400);
    expect(auc).toBeLessThanOrEqual(600);
    const u = updatedDose(c);
    expect(u.mg % 250).toBe(0);
    expect([8, 12, 24]).toContain(u.repeat.period);
    expect(u.repeat).toEqual({ frequency: 1, period: u.repeat.period, periodUnit: 'h' });
  });

  test('two levels after the 3rd dose imply a higher clearance → Bayesian, current AUC < 400, warning with a higher daily dose', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('van-bayes', draft('v2', 'van-bayes', 1000, 12)));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary.length).toBeLessThan(140);
    expect(c.detail).toMatch(/Bayesian \(MAP\) estimate from 2 level\(s\) and 3 recorded dose\(s\)/);
    expect(c.detail).not.toMatch(/Loading dose:/);
    expect(c.detail).toMatch(/MedicationAdministration\/van-bayes-d3/);
    expect(c.detail).toMatch(/Observation\/van-bayes-trough/);
    const current = aucOf(c.detail, /regimen 1000 mg every 12 h: predicted AUC24 (\d+) mg·h\/L/);
    expect(current).toBeLessThan(400);
    const u = updatedDose(c);
    expect(u.mg % 250).toBe(0);
    expect((u.mg * 24) / u.repeat.period).toBeGreaterThan(2000);
    const proposed = aucOf(c.detail, /predicted steady-state AUC24 (\d+) mg·h\/L/);
    expect(proposed).toBeGreaterThan(current);
  });

  test('levels and administrations absent from the prefetch are queried from the FHIR server', async () => {
    const body = orderSelect('van-bayes', draft('v5', 'van-bayes', 1000, 12));
    delete (body.prefetch as Record<string, unknown>)['vancomycinLevels'];
    delete (body.prefetch as Record<string, unknown>)['medicationAdministrations'];
    const r = await env.svc.hook('dosing-order-select', body);
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    const paths = (await env.fhir.admin.requests()).map((e) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/Observation', '/MedicationAdministration']));
    expect(paths).toHaveLength(2);
    expect(r.json.cards[0].detail).toMatch(/Bayesian \(MAP\) estimate from 2 level\(s\) and 3 recorded dose\(s\)/);
  });

  test('missing creatinine → a missing-data card, no dose', async () => {
    const r = await env.svc.hook('dosing-order-select', orderSelect('van-nocr', draft('v3', 'van-nocr', 1000, 12)));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.source.topic.code).toBe('missing-data');
    expect(c.summary).toMatch(/Vancomycin AUC dosing not available: missing serum creatinine/);
    expect(c.suggestions).toBeUndefined();
  });

  test('levels before any recorded dose do not crash the service (prior estimate, still a card)', async () => {
    const body = orderSelect('van-new', draft('v4', 'van-new', 1000, 12));
    (body.prefetch as Record<string, unknown>)['vancomycinLevels'] = searchset([level('van-new-lvl', 'van-new', '20578-1', 12, 2)]);
    const r = await env.svc.hook('dosing-order-select', body);
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards[0].detail).toMatch(/Levels without a dose history cannot be used/);
  });
});

describe('vancomycin monitoring on chart opening (patient-view)', () => {
  // Runs last: it adds an active vancomycin order for van-bayes to the FHIR server.
  const active: MedicationRequest = { ...draft('van-bayes-active', 'van-bayes', 1000, 12), status: 'active' };
  const chartOpened = (withPrefetch: boolean) => ({
    hook: 'patient-view',
    hookInstance: randomUUID(),
    fhirServer: env.fhir.url,
    fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: 'van-bayes' },
    context: { userId: 'Practitioner/example', patientId: 'van-bayes' },
    ...(withPrefetch ? { prefetch: prefetchFrom([...resources(), active], 'van-bayes') } : {}),
  });

  test.each([true, false])('active 1000 mg q12h with AUC24 below 400 → one advisory card with the Bayesian AUC (prefetch: %s)', async (withPrefetch) => {
    if (!withPrefetch) await env.fhir.seed([active]);
    const r = await env.svc.hook('dosing-monitor', chartOpened(withPrefetch));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const c = r.json.cards[0];
    expect(c.indicator).toBe('warning');
    expect(c.summary).toMatch(/^Vancomycin AUC24 \d+ \(target 400–600\): change to \d+ mg q(8|12|24)h/);
    expect(aucOf(c.summary, /AUC24 (\d+)/)).toBeLessThan(400);
    expect(c.detail).toMatch(/Bayesian \(MAP\) estimate from 2 level\(s\) and 3 recorded dose\(s\)/);
    expect(c.detail).toMatch(/active order MedicationRequest\/van-bayes-active/);
    expect(c.suggestions).toBeUndefined();
    if (!withPrefetch) {
      const urls = (await env.fhir.admin.requests()).map((q) => q.url);
      expect(urls.some((u) => u.includes('MedicationAdministration'))).toBe(true);
      expect(urls.some((u) => u.includes('20578-1'))).toBe(true);
    }
  });
});
