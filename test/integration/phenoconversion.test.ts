// Phenoconversion end to end (issue 19 scope 3): real FHIR server process + real service with signed JWTs. A CYP2D6
// *1/*1 patient on paroxetine (MedicationRequest, or MedicationStatement) ordering codeine gets the CPIC Poor
// Metabolizer row (PA166297602, avoid codeine) and the line saying why; paroxetine stopped → the Normal Metabolizer
// result (no card, as without paroxetine); tamoxifen with paroxetine and no CYP2D6 result → a warning card.
// Each case runs with a full prefetch (no FHIR query) and without prefetch (the service queries FHIR itself).
import type { FhirResource, MedicationRequest, MedicationStatement } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { patient, pharmvarGenotype } from '../fixtures/synthetic-patients.js';
import { useFhirAndService } from '../support/service.js';
import { pgxDraft, pgxHookBody, pgxPrefetch } from '../support/pgx-hooks.js';
import { visibleText } from '../support/markdown.js';

const TOKEN = 'ehr-access-token-pheno';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

// paroxetine: RxNorm ingredient 32937 (../shared/data/cpic/drugs.tsv)
const paroxetine = { coding: [{ system: RXNORM, code: '32937', display: 'paroxetine' }], text: 'paroxetine 20 mg tablet' };
const request = (id: string, patientId: string, status: MedicationRequest['status']): MedicationRequest => ({ resourceType: 'MedicationRequest', id, status, intent: 'order', subject: { reference: `Patient/${patientId}` }, authoredOn: '2026-09-01', medicationCodeableConcept: paroxetine });
const statement = (id: string, patientId: string, status: MedicationStatement['status']): MedicationStatement => ({ resourceType: 'MedicationStatement', id, status, subject: { reference: `Patient/${patientId}` }, dateAsserted: '2026-09-01', medicationCodeableConcept: paroxetine });

/** Synthetic patients (no real data). */
function resources(): FhirResource[] {
  return [
    patient('pc-mr', '1980-02-02', 'female'),
    pharmvarGenotype('pc-mr-2d6', 'pc-mr', 'HGNC:2625', 'CYP2D6', '*1/*1', '2025-05-01'),
    request('pc-mr-parox', 'pc-mr', 'active'),
    patient('pc-ms', '1981-03-03', 'male'),
    pharmvarGenotype('pc-ms-2d6', 'pc-ms', 'HGNC:2625', 'CYP2D6', '*1/*1', '2025-05-01'),
    statement('pc-ms-parox', 'pc-ms', 'active'),
    patient('pc-stop', '1982-04-04', 'female'),
    pharmvarGenotype('pc-stop-2d6', 'pc-stop', 'HGNC:2625', 'CYP2D6', '*1/*1', '2025-05-01'),
    request('pc-stop-parox-mr', 'pc-stop', 'stopped'),
    statement('pc-stop-parox-ms', 'pc-stop', 'completed'),
    patient('pc-tam', '1965-05-05', 'female'),
    request('pc-tam-parox', 'pc-tam', 'active'),
  ];
}

const env = useFhirAndService(TOKEN, resources);

async function sign(patientId: string, order: MedicationRequest, withPrefetch: boolean) {
  const body = pgxHookBody({ hook: 'order-sign', fhirServer: env.fhir.url, token: TOKEN, patientId, order, ...(withPrefetch ? { prefetch: pgxPrefetch(resources(), patientId) } : {}) });
  const r = await env.svc.hook('dosing-order-sign', body);
  expect(r.status).toBe(200);
  expect(checkCdsResponse(r.json)).toEqual([]);
  const requests = await env.fhir.admin.requests();
  if (withPrefetch) expect(requests).toHaveLength(0);
  else {
    // the medications are read from both resource types, active only
    for (const type of ['/MedicationRequest', '/MedicationStatement']) {
      const q = requests.find((e) => e.path === type);
      expect(q?.query['status']).toBe('active');
      expect(q?.bearer).toBeTruthy();
    }
  }
  return r.json as { cards: any[] };
}

describe.each([
  ['with prefetch', true],
  ['without prefetch (the service queries FHIR)', false],
])('phenoconversion %s', (_label, withPrefetch) => {
  test.each([
    ['MedicationRequest', 'pc-mr', 'MedicationRequest/pc-mr-parox'],
    ['MedicationStatement', 'pc-ms', 'MedicationStatement/pc-ms-parox'],
  ])('codeine, CYP2D6 *1/*1, paroxetine active (%s) → treated as a Poor Metabolizer: avoid codeine (CPIC PA166297602), and why', async (_type, patientId, medRef) => {
    const { cards } = await sign(patientId, pgxDraft(`cod-${patientId}-${withPrefetch}`, patientId, '2670', 'codeine'), withPrefetch);
    const c = cards.find((x) => /^Codeine:/.test(x.summary));
    expect(c.indicator).toBe('critical');
    expect(c.summary).toBe('Codeine: CYP2D6 Poor Metabolizer (activity score 0.0) with paroxetine — avoid (CPIC Strong)');
    const text = visibleText(c.detail);
    expect(text).toContain(`Interacting drug (phenoconversion). paroxetine (strong CYP2D6 inhibitor, ${medRef}) is active: CYP2D6 *1/*1, Normal Metabolizer (activity score 2.0) from the genotype is treated as CYP2D6 Poor Metabolizer (activity score 0.0).`);
    expect(c.detail).toContain('Avoid codeine use because of possibility of diminished analgesia.');
    expect(text).toContain('CPIC recommendation PA166297602');
  });

  test('codeine, CYP2D6 *1/*1, paroxetine stopped (MedicationRequest stopped, MedicationStatement completed) → Normal Metabolizer: no card', async () => {
    const { cards } = await sign('pc-stop', pgxDraft(`cod-stop-${withPrefetch}`, 'pc-stop', '2670', 'codeine'), withPrefetch);
    expect(cards.filter((x) => /^Codeine:/.test(x.summary))).toEqual([]);
  });

  if (withPrefetch) {
    test('a prefetch that carries the stopped paroxetine anyway (EHR ignoring status=active) → still not counted: no card', async () => {
      const prefetch = pgxPrefetch(resources(), 'pc-stop');
      prefetch['medicationRequests'] = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: resources().find((r) => r.id === 'pc-stop-parox-mr') }] };
      prefetch['medicationStatements'] = { resourceType: 'Bundle', type: 'searchset', entry: [{ resource: resources().find((r) => r.id === 'pc-stop-parox-ms') }] };
      const body = pgxHookBody({ hook: 'order-sign', fhirServer: env.fhir.url, token: TOKEN, patientId: 'pc-stop', order: pgxDraft('cod-stop-raw', 'pc-stop', '2670', 'codeine'), prefetch });
      const r = await env.svc.hook('dosing-order-sign', body);
      expect(r.status).toBe(200);
      expect((r.json as { cards: any[] }).cards.filter((x) => /^Codeine:/.test(x.summary))).toEqual([]);
    });
  }

  test('tamoxifen with paroxetine and no CYP2D6 result → a warning: Poor Metabolizer whatever the genotype (CPIC PA166298530)', async () => {
    const { cards } = await sign('pc-tam', pgxDraft(`tam-${withPrefetch}`, 'pc-tam', '10324', 'tamoxifen'), withPrefetch);
    const c = cards.find((x) => /^Tamoxifen: CYP2D6 Poor Metabolizer/.test(x.summary));
    expect(c).toBeDefined();
    expect(c.indicator).toBe('warning');
    const text = visibleText(c.detail);
    expect(text).toContain('paroxetine (strong CYP2D6 inhibitor, MedicationRequest/pc-tam-parox) is active: the patient behaves as a CYP2D6 Poor Metabolizer (activity score 0.0) whatever the genotype (no CYP2D6 result on file).');
    expect(text).toContain('aromatase inhibitor');
    expect(text).toContain('CPIC recommendation PA166298530');
  });
});
