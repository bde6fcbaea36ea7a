// Issue 14 end to end: every genomic result shape of test/fixtures/genomic-cases.ts, seeded on the real FHIR test
// server, reaches its CPIC row through a real order-select call — with the full prefetch (no FHIR query) and without
// prefetch (the service finds the results by code and by the genetics category). Property: no case whose gene is on
// file ever gets "no <that gene> result on file" or a genotyping suggestion for that gene.
import { randomUUID } from 'node:crypto';
import type { Bundle, FhirResource, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { caseObservations, caseVitals, GENOMIC_CASES, type GenomicCase } from '../fixtures/genomic-cases.js';
import { patient } from '../fixtures/synthetic-patients.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { startTestService, type TestService } from '../support/service.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';

/** drugs with a CPIC starting dose per m² body surface area: their evaluator also reads height and weight */
const BSA_DRUGS = new Set([...loadPgxKnowledge().byDrug].filter(([, rows]) => rows.some((r) => r.startingDosePerM2)).map(([d]) => d));

const TOKEN = 'ehr-access-token-genomic-shapes';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';
let fhir: RunningFhirServer;
let svc: TestService;

/** patient-view copies of a case: the same results for patient "pv-<case>", with the drug as an active order */
const pv = (c: GenomicCase) => `pv-${c.id}`;
function pvObservations(c: GenomicCase) {
  return [...caseObservations(c), ...caseVitals(c)].map((o) => ({ ...o, id: `pv-${o.id}`, subject: { reference: `Patient/${pv(c)}` } }));
}
function pvOrder(c: GenomicCase): MedicationRequest {
  const d = draft(c);
  // started yesterday: a carbamazepine order older than 90 days would (rightly) select CPIC's "use > 3 months" rows
  return { ...d, id: `pv-${c.id}-mr`, status: 'active', authoredOn: new Date(Date.now() - 86400000).toISOString().slice(0, 10), subject: { reference: `Patient/${pv(c)}` } };
}
const seed = (): FhirResource[] =>
  GENOMIC_CASES.flatMap((c) => [patient(c.id, '1970-01-01', c.sex), ...caseObservations(c), ...caseVitals(c), patient(pv(c), '1970-01-01', c.sex), ...pvObservations(c), pvOrder(c)]);

beforeAll(async () => {
  [fhir, svc] = await Promise.all([startFhirServer({ token: TOKEN, seed: seed() }), startTestService({ 'fhir.deadlineMs': 2000, requestDeadlineMs: 4000 })]);
  svc.allowFhirServer(fhir.url);
}, 30000);
afterAll(async () => {
  await Promise.all([fhir?.stop(), svc?.close()]);
});
beforeEach(async () => {
  await fhir.admin.clearRequests();
});

const searchset = (rs: FhirResource[]): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: rs.map((resource) => ({ resource })) });

function prefetch(c: GenomicCase): Record<string, unknown> {
  const obs = caseObservations(c);
  const empty = searchset([]);
  return {
    patient: patient(c.id, '1970-01-01', c.sex),
    weight: searchset(caseVitals(c).filter((o) => o.code.coding?.[0]?.code === '29463-7')),
    height: searchset(caseVitals(c).filter((o) => o.code.coding?.[0]?.code === '8302-2')),
    renal: empty,
    inr: empty,
    // what the EHR's own search returns: by code, the results under a genomic code; by category, every GE result
    genomics: searchset(obs.filter((o) => o.code.coding?.some((x) => x.system === 'http://loinc.org'))),
    genomicsCategory: searchset(obs),
    medicationRequests: empty,
    medicationStatements: empty,
    conditions: empty,
  };
}

function draft(c: GenomicCase): MedicationRequest {
  const { rxcui, display, doseMg } = c.drug;
  const perDay = c.drug.perDay ?? 2;
  return {
    resourceType: 'MedicationRequest',
    id: `${c.id}-mr`,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${c.id}` },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: rxcui, display }], text: display },
    ...(doseMg !== undefined
      ? { dosageInstruction: [{ text: `${doseMg} mg ${perDay === 1 ? 'once' : 'twice'} daily`, timing: { repeat: { frequency: perDay, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: doseMg, unit: 'mg', system: UCUM, code: 'mg' } }] }] }
      : {}),
  } as MedicationRequest;
}

async function orderSelect(c: GenomicCase, withPrefetch: boolean) {
  const mr = draft(c);
  const r = await svc.hook('dosing-order-select', {
    hook: 'order-select',
    hookInstance: randomUUID(),
    fhirServer: fhir.url,
    fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: c.id },
    context: { userId: 'Practitioner/example', patientId: c.id, selections: [`MedicationRequest/${mr.id}`], draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: mr }] } },
    ...(withPrefetch ? { prefetch: prefetch(c) } : {}),
  });
  expect(r.status).toBe(200);
  expect(checkCdsResponse(r.json)).toEqual([]);
  const requests = await fhir.admin.requests();
  if (withPrefetch) expect(requests).toHaveLength(0);
  // by code and by category; drugs with a CPIC dose per m² also query height and weight
  else expect(requests.filter((q) => q.path === '/Observation')).toHaveLength(BSA_DRUGS.has(c.drug.display) ? 4 : 2);
  return { cards: (r.json as { cards: any[] }).cards, mr };
}

describe.each([
  ['with prefetch', true],
  ['without prefetch (queries by code and by category)', false],
])('genomic results as labs send them, %s', (_label, withPrefetch) => {
  test.each(GENOMIC_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { cards, mr } = await orderSelect(c, withPrefetch);
    // the property: a result for this gene is on file, so nothing may say there is none or suggest its test (another
    // gene the drug depends on and that is not on file may still be suggested: RYR1 on file, CACNA1S not)
    for (const card of cards) {
      expect(card.summary).not.toMatch(new RegExp(`no ${c.reads.gene} result on file`, 'i'));
      if (card.source?.topic?.code === 'pgx-test') expect(card.summary).not.toContain(c.reads.gene);
    }
    const drug = c.drug.display[0]!.toUpperCase() + c.drug.display.slice(1);
    const card = cards.find((x) => x.summary.startsWith(`${drug}:`));
    expect(card).toBeDefined();
    expect([card.indicator, card.summary]).toEqual([c.expect.indicator, expect.stringMatching(c.expect.summary)]);
    for (const d of c.expect.detail ?? []) expect(card.detail).toMatch(d);
    if (c.expect.noUpdate) expect(card.suggestions?.flatMap((s: any) => s.actions).filter((a: any) => a.type === 'update') ?? []).toEqual([]);
    if (c.expect.doseMg !== undefined) {
      const update = card.suggestions.flatMap((s: any) => s.actions).find((a: any) => a.type === 'update');
      expect(update.resource.id).toBe(mr.id);
      expect(update.resource.dosageInstruction[0].doseAndRate[0].doseQuantity).toEqual({ value: c.expect.doseMg, unit: 'mg', system: UCUM, code: 'mg' });
    }
  });
});

// Scope 5 on patient-view: the same results with the drug as an active order. Monitoring shows only cards that call
// for action, so the check is the property, and that an unreadable result is still said (a warning naming it).
describe.each([
  ['with prefetch', true],
  ['without prefetch', false],
])('patient-view (chart opened) with the same results, %s', (_label, withPrefetch) => {
  test.each(GENOMIC_CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const obs = pvObservations(c);
    const empty = searchset([]);
    const vital = (code: string) => searchset(obs.filter((o) => o.code.coding?.[0]?.code === code));
    const genomic = obs.filter((o) => o.code.coding?.[0]?.code !== '29463-7' && o.code.coding?.[0]?.code !== '8302-2');
    const r = await svc.hook('dosing-monitor', {
      hook: 'patient-view',
      hookInstance: randomUUID(),
      fhirServer: fhir.url,
      fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: pv(c) },
      context: { userId: 'Practitioner/example', patientId: pv(c) },
      ...(withPrefetch
        ? {
            prefetch: {
              patient: patient(pv(c), '1970-01-01', c.sex),
              weight: vital('29463-7'),
              height: vital('8302-2'),
              renal: empty,
              inr: empty,
              genomics: searchset(genomic.filter((o) => o.code.coding?.some((x) => x.system === 'http://loinc.org'))),
              genomicsCategory: searchset(genomic),
              medicationRequests: searchset([pvOrder(c)]),
              medicationStatements: empty,
              conditions: empty,
            },
          }
        : {}),
    });
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    const cards = (r.json as { cards: any[] }).cards;
    for (const card of cards) {
      expect(`${card.summary} ${card.detail ?? ''}`).not.toMatch(new RegExp(`no ${c.reads.gene} result on file`, 'i'));
      expect(JSON.stringify(card.suggestions ?? [])).not.toMatch(new RegExp(`${c.reads.gene} genotyping`));
    }
    if (/could not be interpreted/.test(c.expect.summary.source)) {
      const card = cards.find((x) => x.summary.includes(`${c.reads.gene} result is on file but could not be interpreted`));
      expect(card?.indicator).toBe('warning');
    }
    if (c.expect.indicator === 'critical') expect(cards.some((x) => x.indicator === 'critical' && x.summary.includes(c.reads.gene))).toBe(true);
  });
});
