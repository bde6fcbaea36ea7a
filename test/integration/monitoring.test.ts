// Monitoring on chart opening (patient-view) end to end: the real service (signed JWTs, SQLite) and the real FHIR
// server process. A creatinine rise makes an active gabapentin order exceed the label band → exactly one card; after
// the prescriber overrides it, the same facts give no card; a further change of the facts brings it back.
import { randomUUID } from 'node:crypto';
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { activeMed, patient, pharmvarGenotype, prefetchFrom, textGenotype, vital } from '../fixtures/synthetic-patients.js';
import { activeWarfarin, inrObservation, lenziniPatient, plusDays } from '../fixtures/warfarin-history.js';
import { useFhirAndService } from '../support/service.js';

const TOKEN = 'ehr-access-token-monitoring';
const UCUM = 'http://unitsofmeasure.org';

const now = new Date();
const daysAgo = (d: number) => new Date(now.getTime() - d * 86400000).toISOString().slice(0, 10);
const bornYearsAgo = (years: number) => `${now.getUTCFullYear() - years}-01-01`;
const creatinine = (id: string, p: string, mgdl: number, days: number) => vital(id, p, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', mgdl, 'mg/dL', 'mg/dL', daysAgo(days));

/** An active order with a dose (mg × times per day). */
function activeOrder(id: string, patientId: string, rxcui: string, text: string, mg: number, perDay: number, status: MedicationRequest['status'] = 'active'): MedicationRequest {
  return {
    ...activeMed(id, patientId, rxcui, text),
    status,
    dosageInstruction: [{ timing: { repeat: { frequency: perDay, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: mg, unit: 'mg', system: UCUM, code: 'mg' } }] }],
  };
}

/**
 * - mon-1: man, 80 y, 60 kg. Creatinine 0.9 mg/dL 10 days ago → Cockcroft-Gault (140 − 80) × 60 / (72 × 0.9) = 55.6 mL/min:
 *   gabapentin 300 mg TID (900 mg/day) is inside the 30–59 band (400–1400 mg/day, NEURONTIN label Table 1) → no card.
 *   A stopped metformin order (contraindicated at low eGFR) must never be checked.
 * - mon-2: no active order with guidance (only a draft) → no card and no drug-specific query.
 * - mon-3: CYP2C19 *2/*2 on active clopidogrel → the CPIC card (poor metabolizer), without inline suggestions.
 * - mon-4: on warfarin 5 mg daily for months (no recent administrations), INR 2.4 three days ago → within 2–3, no card.
 * - mon-5: the Lenzini 2010 worked example (docs/warfarin-refinement.md): 5 mg on days 1–4, INR 1.5 on day 5
 *          (yesterday), genotyped; the active order says 7.5 mg daily → the refined dose (≈ 5 mg daily) as a card.
 * - mon-6: on active clopidogrel, a CYP2C19 result on file the service cannot interpret ("CYP2C19 result: see scanned
 *          report") → a warning that names it (issue 14: never "no result on file", never a test suggestion).
 */
const pool: FhirResource[] = [
  patient('mon-1', bornYearsAgo(80), 'male'),
  vital('mon-1-wt', 'mon-1', '29463-7', 'Body weight', 60, 'kg', 'kg', daysAgo(10)),
  creatinine('mon-1-cr1', 'mon-1', 0.9, 10),
  activeOrder('mon-1-gaba', 'mon-1', '25480', 'gabapentin 300 MG Oral Capsule', 300, 3),
  activeOrder('mon-1-met', 'mon-1', '6809', 'metformin hydrochloride 500 MG Oral Tablet', 500, 2, 'stopped'),
  patient('mon-2', bornYearsAgo(50), 'female'),
  { ...activeOrder('mon-2-gaba', 'mon-2', '25480', 'gabapentin 300 MG Oral Capsule', 300, 3), status: 'draft' },
  patient('mon-3', bornYearsAgo(68), 'male'),
  pharmvarGenotype('mon-3-cyp2c19', 'mon-3', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-06-01'),
  activeOrder('mon-3-clop', 'mon-3', '32968', 'clopidogrel 75 MG Oral Tablet', 75, 1),
  patient('mon-4', bornYearsAgo(72), 'female'),
  activeWarfarin('mon-4-warf', 'mon-4', 5),
  inrObservation('mon-4-inr1', 'mon-4', 2.4, `${daysAgo(3)}T08:00:00Z`),
  ...lenziniPatient('mon-5', { day1: plusDays(daysAgo(0), -5), birthDate: `${now.getUTCFullYear() - 66}-01-01`, doses: [5, 5, 5, 5], inrDay: 5, inr: 1.5 }),
  activeWarfarin('mon-5-warf', 'mon-5', 7.5),
  patient('mon-6', bornYearsAgo(61), 'female'),
  textGenotype('mon-6-cyp2c19', 'mon-6', 'HGNC:2621', 'CYP2C19', 'CYP2C19 result: see scanned report', '2025-06-01'),
  activeOrder('mon-6-clop', 'mon-6', '32968', 'clopidogrel 75 MG Oral Tablet', 75, 1),
];

const env = useFhirAndService(TOKEN, () => pool);

function chartOpened(patientId: string, withPrefetch: boolean) {
  return {
    hook: 'patient-view',
    hookInstance: randomUUID(),
    fhirServer: env.fhir.url,
    fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: patientId },
    context: { userId: 'Practitioner/example', patientId },
    ...(withPrefetch ? { prefetch: prefetchFrom(pool, patientId) } : {}),
  };
}

async function open(patientId: string, withPrefetch = false): Promise<any[]> {
  const r = await env.svc.hook('dosing-monitor', chartOpened(patientId, withPrefetch));
  expect(r.status).toBe(200);
  expect(checkCdsResponse(r.json)).toEqual([]);
  return r.json.cards;
}

async function override(card: any): Promise<void> {
  const reason = card.overrideReasons[0];
  const fb = { feedback: [{ card: card.uuid, outcome: 'overridden', overrideReason: { reason, userComment: 'reviewed' }, outcomeTimestamp: new Date().toISOString() }] };
  const r = await env.svc.post('/cds-services/dosing-monitor/feedback', JSON.stringify(fb));
  expect(r.status).toBe(200);
}

async function addResource(r: FhirResource): Promise<void> {
  pool.push(r);
  await env.fhir.seed([r]);
}

test('discovery lists the monitoring service for patient-view with its prefetch', async () => {
  const res = await fetch(`${env.svc.url}/cds-services`, { headers: { authorization: await env.svc.ehr.bearer(`${env.svc.url}/cds-services`) } });
  expect(res.status).toBe(200);
  const doc = (await res.json()) as { services: { hook: string; id: string; prefetch: Record<string, string> }[] };
  const mon = doc.services.find((s) => s.id === 'dosing-monitor');
  expect(mon).toMatchObject({ hook: 'patient-view' });
  expect(mon!.prefetch['medicationRequests']).toBe('MedicationRequest?patient={{context.patientId}}&status=active&_count=100');
});

test.each([true, false])('a CYP2C19 result on file that cannot be read, on active clopidogrel: a warning naming it (prefetch: %s)', async (withPrefetch) => {
  const cards = await open('mon-6', withPrefetch);
  expect(cards).toHaveLength(1);
  const c = cards[0];
  expect(c.indicator).toBe('warning');
  expect(c.detail).toContain('Observation/mon-6-cyp2c19');
  expect(c.detail).toContain('see scanned report');
  expect(`${c.summary} ${c.detail}`).not.toMatch(/no CYP2C19 result on file|No result on file/i);
  expect(JSON.stringify(c.suggestions ?? [])).not.toMatch(/ServiceRequest|genotyping/);
});

test('creatinine rise → exactly one card; overridden with the same facts → none; new facts → the card again', async () => {
  // stable kidney function: the active gabapentin dose fits its band; the stopped metformin order is not checked
  expect(await open('mon-1')).toEqual([]);
  expect(await open('mon-1', true)).toEqual([]);

  // creatinine 2.0 mg/dL yesterday → CrCl (140 − 80) × 60 / (72 × 2.0) = 25 mL/min: 900 mg/day exceeds 200–700 mg/day
  await addResource(creatinine('mon-1-cr2', 'mon-1', 2.0, 1));
  const cards = await open('mon-1');
  expect(cards).toHaveLength(1);
  const c = cards[0];
  expect(c.indicator).toBe('warning');
  expect(c.summary).toMatch(/Gabapentin: 900 mg\/day exceeds 200–700 mg\/day for CrCl 25 mL\/min/);
  expect(c.detail).toMatch(/Observation\/mon-1-cr2/);
  expect(c.detail).toMatch(/active order MedicationRequest\/mon-1-gaba/);
  expect(c.detail).not.toMatch(/draft order/);
  expect(c.suggestions).toBeUndefined();
  expect(c.selectionBehavior).toBeUndefined();
  expect(c.overrideReasons.length).toBeGreaterThan(0);
  // the same facts with prefetch instead of queries: the same card (one)
  expect(await open('mon-1', true)).toHaveLength(1);

  // the prescriber overrides it: the same facts, fetched or prefetched, give no card
  await override(c);
  expect(await open('mon-1')).toEqual([]);
  expect(await open('mon-1', true)).toEqual([]);
  // the audit trail keeps the card, its facts fingerprint and the override
  const audit = (await env.svc.store.cardAudit(c.uuid))!;
  expect(audit.card).toMatchObject({ serviceId: 'dosing-monitor', drug: 'gabapentin', indicator: 'warning', factsFingerprint: expect.stringMatching(/^[0-9a-f]{64}$/) });
  expect(audit.call).toMatchObject({ hook: 'patient-view', orderedDrugs: ['gabapentin'] });
  expect(audit.feedback.map((f) => f.outcome)).toEqual(['overridden']);

  // creatinine rises again (3.0 mg/dL today → CrCl 16.7 mL/min): new facts, the card is shown again
  await addResource(creatinine('mon-1-cr3', 'mon-1', 3.0, 0));
  const again = await open('mon-1');
  expect(again).toHaveLength(1);
  expect(again[0].summary).toMatch(/CrCl 16\.7 mL\/min/);
  expect(again[0].uuid).not.toBe(c.uuid);
});

test('no active order with guidance → no card, and no drug-specific query is made', async () => {
  await env.fhir.admin.clearRequests();
  expect(await open('mon-2')).toEqual([]);
  const paths = (await env.fhir.admin.requests()).map((r) => r.url);
  expect(paths.some((p) => p.includes('MedicationRequest?'))).toBe(true);
  expect(paths.some((p) => p.includes('MedicationAdministration') || p.includes('20578-1'))).toBe(false);
});

test('active clopidogrel in a CYP2C19 poor metabolizer → the CPIC card, advisory only (no inline change of an active order)', async () => {
  const cards = await open('mon-3');
  expect(cards).toHaveLength(1);
  expect(cards[0].indicator).not.toBe('info');
  expect(cards[0].summary).toMatch(/clopidogrel/i);
  expect(cards[0].detail).toMatch(/CYP2C19/);
  expect(cards[0].suggestions).toBeUndefined();
});

test('warfarin INR: in range → none; 4.2 → one warning (no dose proposed); overridden → none; 5.6 → critical', async () => {
  expect(await open('mon-4')).toEqual([]);
  await addResource(inrObservation('mon-4-inr2', 'mon-4', 4.2, `${daysAgo(1)}T08:00:00Z`));
  const [c, ...rest] = await open('mon-4');
  expect(rest).toEqual([]);
  expect(c.indicator).toBe('warning');
  expect(c.summary).toMatch(/^Warfarin: INR 4\.2 .* above the 2–3 target range/);
  expect(c.detail).toMatch(/Observation\/mon-4-inr2/);
  expect(c.detail).toMatch(/nomogram/);
  expect(c.suggestions).toBeUndefined();
  await override(c);
  expect(await open('mon-4')).toEqual([]);
  expect(await open('mon-4', true)).toEqual([]);
  await addResource(inrObservation('mon-4-inr3', 'mon-4', 5.6, `${daysAgo(0)}T06:00:00Z`));
  const [crit, ...more] = await open('mon-4');
  expect(more).toEqual([]);
  expect(crit.indicator).toBe('critical');
  expect(crit.summary).toMatch(/INR 5\.6/);
});

test.each([false, true])('warfarin day 5 with INR 1.5 and genotypes, active order 7.5 mg → the Lenzini refinement as one card (prefetch: %s)', async (withPrefetch) => {
  const cards = await open('mon-5', withPrefetch);
  expect(cards).toHaveLength(1);
  const c = cards[0];
  expect(c.indicator).toBe('warning');
  expect(c.source.topic.code).toBe('warfarin-refine');
  expect(c.summary).toMatch(/^Warfarin (4\.5|5|5\.5) mg daily \(.* mg\/week\) refined from the day-5 INR of 1\.5 \(Lenzini 2010\)$/);
  expect(c.detail).toContain('| Warfarin given on day 3 (2 days before the INR) | 5 mg | MedicationAdministration/mon-5-dose-3');
  expect(c.detail).toMatch(/The active order currently says 7\.5 mg/);
  expect(c.suggestions).toBeUndefined();
});
