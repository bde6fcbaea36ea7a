// The optional Communication to the order's requester (NOTIFY_COMMUNICATION, issue 18: "create a FHIR DetectedIssue
// on the EHR's server … optionally a Communication to the order's requester"), end to end against the real FHIR test
// server process and a token server that verifies the service's assertion: a Backport IG notification about a new
// creatinine under metformin → the DetectedIssue and, beside it, one Communication (FHIR R4: status completed,
// category alert, priority per request-priority, recipient = MedicationRequest.requester, about = the DetectedIssue and
// the order, payload = the card summary and proposed dose), written once per facts, retried like the DetectedIssue;
// none when the setting is off; none, audited, when the order names no requester.
import path from 'node:path';
import type { FhirResource, MedicationRequest, Observation } from 'fhir/r4';
import { FINGERPRINT_SYSTEM } from '../../src/notify/detectedIssue.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { creatinine, metformin, metforminPatient, notificationBundle } from '../fixtures/notifications.js';
import type { BackendTokenServer } from '../support/backend-token-server.js';
import type { RunningFhirServer } from '../support/fhir-server/index.js';
import { NOTIFY_SECRET, type NotifyService } from '../support/notify-service.js';
import { startNotifyEhr, type NotifyEhr } from '../support/notify-ehr.js';

const EHR_TOKEN = 'ehr-access-token-communication';
const EHR_BASE = 'https://ehr.communication.test/fhir';
const DOCTOR = { reference: 'Practitioner/comm-dr', display: 'Dr. Requester' };

/** A metformin patient (test/fixtures/notifications.ts: eGFR 77 → 24.9 with the new creatinine) whose order names its requester, or not. */
function patientWithOrder(p: string, requester: MedicationRequest['requester'] | undefined): FhirResource[] {
  return metforminPatient(p).map((r) => (r.resourceType === 'MedicationRequest' ? { ...metformin(`${p}-met`, p), ...(requester ? { requester } : {}) } : r));
}

let env: NotifyEhr;
let fhir: RunningFhirServer;
let tokens: BackendTokenServer;
let on: NotifyService;
let off: NotifyService;

beforeAll(async () => {
  env = await startNotifyEhr({
    name: 'communication',
    ehrToken: EHR_TOKEN,
    seed: [
      { resourceType: 'Practitioner', id: 'comm-dr', name: [{ family: 'Requester' }] },
      ...patientWithOrder('cm-req', DOCTOR),
      ...patientWithOrder('cm-retry', DOCTOR),
      ...patientWithOrder('cm-display', { display: 'Dr. Only A Name' }),
      ...patientWithOrder('cm-none', undefined),
      ...patientWithOrder('cm-off', DOCTOR),
    ],
  });
  ({ fhir, tokens } = env);
  const start = (file: string, communication: boolean) =>
    env.service({ store: new SqliteStore(path.join(env.dir, file)), overrides: { 'notify.communication': communication } });
  [on, off] = await Promise.all([start('on.sqlite', true), start('off.sqlite', false)]);
  // one key file: the JWKS either service publishes is the same
  env.trust(on);
}, 60000);

afterAll(async () => {
  await Promise.all([on?.stop(true), off?.stop(true)]);
  await env?.stop();
});

afterEach(async () => {
  await fhir.admin.setFault({ mode: 'none' });
});

let eventNo = 0;
async function newResult(s: NotifyService, obs: Observation): Promise<void> {
  await fhir.seed([obs]);
  const r = await s.notify(notificationBundle({ ehrBase: EHR_BASE, sub: `${EHR_BASE}/Subscription/${s === on ? 'on' : 'off'}`, events: [{ n: ++eventNo, focus: obs, payload: 'id-only' }] }));
  expect(r.status).toBe(200);
  await s.idle();
}

const search = (type: 'DetectedIssue' | 'Communication', p: string): Promise<any[]> => env.search(type, p);

/** The audit detail of the service's notification record(s) for a patient (what the EHR answered per write). */
async function auditDetails(s: NotifyService, p: string): Promise<string[]> {
  const rows = (await s.store.reportRows()).filter((r) => r.serviceId === 'dosing-notify');
  const calls = await Promise.all(rows.map((r) => s.store.cardAudit(r.cardUuid)));
  return [...new Set(calls.filter((c) => c?.call?.patientId === p).map((c) => c!.call!.detail ?? ''))];
}

test('on, the order names its requester: one Communication beside the DetectedIssue, then not again for the same facts', async () => {
  const p = 'cm-req';
  await newResult(on, creatinine(`${p}-cr2`, p, 2.1, 0));
  const [di] = await search('DetectedIssue', p);
  // the DetectedIssue as without the setting (notifications.test.ts): metformin contraindicated at eGFR 24.9 (GLUCOPHAGE label), high
  expect(di).toMatchObject({ severity: 'high', detail: expect.stringMatching(/Metformin: contraindicated at eGFR 24\.9/) });
  const comms = await search('Communication', p);
  expect(comms).toHaveLength(1);
  const c = comms[0];
  expect(c).toMatchObject({
    resourceType: 'Communication',
    status: 'completed',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/communication-category', code: 'alert' }] }],
    // a critical card (DetectedIssue high) → request-priority urgent
    priority: 'urgent',
    subject: { reference: `Patient/${p}` },
    recipient: [DOCTOR],
    about: [{ reference: `DetectedIssue/${di.id}` }, { reference: `MedicationRequest/${p}-met` }],
    identifier: [{ system: FINGERPRINT_SYSTEM, value: di.identifier[0].value }],
  });
  expect(Date.parse(c.sent)).not.toBeNaN();
  // what the prescriber reads: the card summary and the proposed dose, as the DetectedIssue's detail
  expect(c.payload).toEqual([{ contentString: di.detail }]);
  const text = JSON.stringify(c);
  for (const secret of [NOTIFY_SECRET, EHR_TOKEN, 'Bearer']) expect(text).not.toContain(secret);
  // the backend token asked for the Communication create scope
  expect(tokens.issued.some((t) => t.scope.split(' ').includes('system/Communication.c'))).toBe(true);
  expect((await auditDetails(on, p)).join(' ')).toMatch(new RegExp(`DetectedIssue/${di.id} created; Communication/${c.id} created`));

  // the same facts notified again (a new event): the conditional create finds both, nothing new is written
  await fhir.admin.clearRequests();
  await newResult(on, creatinine(`${p}-cr2`, p, 2.1, 0));
  expect(await search('Communication', p)).toHaveLength(1);
  expect(await search('DetectedIssue', p)).toHaveLength(1);
  const posts = (await fhir.admin.requests()).filter((r) => r.method === 'POST' && r.path === '/Communication');
  expect(posts.map((r) => r.status)).toEqual([200]);
}, 60000);

test('on, the EHR refuses the Communication once: the item is retried, the DetectedIssue is found (200) and one Communication written', async () => {
  const p = 'cm-retry';
  await fhir.admin.setFault({ mode: 'error500', status: 503, match: 'Communication', method: 'POST', times: 1 });
  await newResult(on, creatinine(`${p}-cr2`, p, 2.1, 0));
  expect(await search('DetectedIssue', p)).toHaveLength(1);
  expect(await search('Communication', p)).toHaveLength(1);
  const details = await auditDetails(on, p);
  expect(details.some((d) => /Communication refused \(HTTP 503\)/.test(d))).toBe(true);
  expect(details.some((d) => /DetectedIssue\/\S+ exists; Communication\/\S+ created/.test(d))).toBe(true);
}, 60000);

test.each([
  ['no requester', 'cm-none', 'the order names no requester'],
  ['a requester by name only', 'cm-display', "the order's requester is not a reference to a resource"],
])('on, an order with %s: the DetectedIssue, no Communication, and the audit says why', async (_label, p, why) => {
  await newResult(on, creatinine(`${p}-cr2`, p, 2.1, 0));
  expect(await search('DetectedIssue', p)).toHaveLength(1);
  expect(await search('Communication', p)).toEqual([]);
  expect((await auditDetails(on, p)).join(' ')).toContain(`Communication not sent (${why})`);
  const metrics = await (await fetch(`${on.url}/metrics`)).text();
  expect(metrics).toMatch(/cds_communications_total\{result="skipped"\} [1-9]/);
}, 60000);

test('off (the default): the DetectedIssue only, no Communication is even tried', async () => {
  const p = 'cm-off';
  await fhir.admin.clearRequests();
  await newResult(off, creatinine(`${p}-cr2`, p, 2.1, 0));
  expect(await search('DetectedIssue', p)).toHaveLength(1);
  expect(await search('Communication', p)).toEqual([]);
  expect((await fhir.admin.requests()).filter((r) => r.method === 'POST' && r.path === '/Communication')).toEqual([]);
  expect(off.config.backend.scope.split(' ')).not.toContain('system/Communication.c');
}, 60000);
