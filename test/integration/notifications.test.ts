// Notifications end to end (issue 18 scope 1–3): the real FHIR test server (process), a real token server that
// verifies the service's private_key_jwt assertion against the JWKS the service publishes, real SQLite and real
// PostgreSQL. A Subscriptions R5 Backport IG notification (R4: Bundle type history, Parameters SubscriptionStatus,
// notification-event with event-number and focus) about a new result → the patient's active orders re-checked in
// monitor mode → exactly one DetectedIssue written back on the EHR's server, with the data behind it.
import { mkdtempSync } from 'node:fs';
import path from 'node:path';
import type { Observation } from 'fhir/r4';
import { BackendAuthError, BackendTokenClient, loadSigningKey } from '../../src/notify/backendAuth.js';
import { FINGERPRINT_SYSTEM } from '../../src/notify/detectedIssue.js';
import { PgStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { bornYearsAgo, creatinine, daysAgo, metforminPatient, notificationBundle, type NotificationPayload } from '../fixtures/notifications.js';
import { patient } from '../fixtures/synthetic-patients.js';
import { activeWarfarin, inrObservation } from '../fixtures/warfarin-history.js';
import { basalOrder, cgmReading, cgmTrace, device } from '../fixtures/cgm.js';
import type { BackendTokenServer } from '../support/backend-token-server.js';
import type { RunningFhirServer } from '../support/fhir-server/index.js';
import { BACKEND_CLIENT_ID, NOTIFY_SECRET, writeBackendKey, type NotifyService } from '../support/notify-service.js';
import { startNotifyEhr, type NotifyEhr } from '../support/notify-ehr.js';
import { createPgSchema, type PgSchema } from '../store/helpers.js';
import { startTestService } from '../support/service.js';

const EHR_TOKEN = 'ehr-access-token-notifications';

const PATIENTS = ['nt-full', 'nt-id', 'nt-empty', 'nt-rep', 'nt-ovr', 'nt-park', 'nt-retry', 'nt-restart', 'nt-pg', 'nt-gap'];
let env: NotifyEhr;
let fhir: RunningFhirServer;
let tokens: BackendTokenServer;
let dir: string;
let keyFile: string;
let svc: NotifyService;
let sqliteFile: string;

beforeAll(async () => {
  env = await startNotifyEhr({
    name: 'notify',
    ehrToken: EHR_TOKEN,
    seed: [
      ...PATIENTS.flatMap(metforminPatient),
      // home INR on warfarin: a woman of 72 on warfarin 5 mg daily for months, INR 2.4 three days ago
      patient('nt-inr', bornYearsAgo(72), 'female'),
      activeWarfarin('nt-inr-warf', 'nt-inr', 5),
      inrObservation('nt-inr-1', 'nt-inr', 2.4, `${daysAgo(3)}T08:00:00Z`),
    ],
  });
  ({ fhir, tokens, dir, keyFile } = env);
  sqliteFile = path.join(dir, 'svc.sqlite');
  svc = await env.service({ store: new SqliteStore(sqliteFile) });
  // the EHR registers the service's backend client with the JWKS the service publishes
  env.trust(svc);
}, 60000);

afterAll(async () => {
  await svc?.stop(true);
  await env?.stop();
});

let eventNo = 0;
/** how the EHR names its server in notifications (the focus is resolved as Type/id against the backend FHIR server) */
const EHR_BASE = 'https://ehr.notify.test/fhir';
const SUB = () => `${EHR_BASE}/Subscription/labs`;

/** A notification bundle as the Backport IG's R4 examples have it (test/fixtures/notifications.ts). */
function notification(o: { events: { n: number; focus?: Observation; payload: NotificationPayload }[]; type?: string; since?: number; sub?: string }) {
  return notificationBundle({ ehrBase: EHR_BASE, sub: o.sub ?? SUB(), events: o.events, ...(o.type !== undefined ? { type: o.type } : {}), ...(o.since !== undefined ? { since: o.since } : {}) });
}

const issuesOf = (p: string): Promise<any[]> => env.search('DetectedIssue', p);
const waitForIssues = (p: string, n?: number, timeoutMs?: number): Promise<any[]> => env.waitForIssues(p, n, timeoutMs);

/** A new result arrives in the EHR (seeded on the FHIR server) and the EHR notifies the service. */
async function newResult(obs: Observation, payload: 'full-resource' | 'id-only' | 'empty', s = svc) {
  await fhir.seed([obs]);
  const r = await s.notify(notification({ events: [{ n: ++eventNo, focus: obs, payload }] }));
  expect(r.status).toBe(200);
  return r;
}

describe('POST /notifications: authentication and shape', () => {
  test.each([
    ['no Authorization header', null],
    ['a wrong secret', 'wrong-secret-0123456789abcdef'],
    ['the right secret with a suffix', `${NOTIFY_SECRET}x`],
    ['an empty bearer', ''],
  ])('%s → 401 with an OperationOutcome, nothing queued', async (_label, secret) => {
    const before = await svc.queue.counts();
    const r = await svc.notify(notification({ events: [{ n: 9999, payload: 'empty' }] }), secret);
    expect(r.status).toBe(401);
    expect(r.json).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
    expect(await svc.queue.counts()).toEqual(before);
  });

  test.each<[string, unknown]>([
    ['not JSON', '{"resourceType": "Bundle", '],
    ['not a Bundle', { resourceType: 'Parameters', parameter: [] }],
    ['Bundle type other than history', { ...notification({ events: [{ n: 9998, payload: 'empty' }] }), type: 'collection' }],
    ['first entry not Parameters', { resourceType: 'Bundle', type: 'history', entry: [{ resource: { resourceType: 'Observation', id: 'x' } }] }],
    ['unknown notification type', notification({ events: [{ n: 9997, payload: 'empty' }], type: 'query-event' })],
    ['event-number not a number', JSON.parse(JSON.stringify(notification({ events: [{ n: 9996, payload: 'empty' }] })).replace('"valueString":"9996"', '"valueString":"nine"'))],
    ['event-notification without events', notification({ events: [] })],
  ])('%s → 400 with an OperationOutcome, nothing queued', async (_label, body) => {
    const before = await svc.queue.counts();
    const r = await svc.notify(body);
    expect(r.status).toBe(400);
    expect(r.json.resourceType).toBe('OperationOutcome');
    expect(r.json.issue[0]).toMatchObject({ severity: 'error', code: 'invalid' });
    expect(await svc.queue.counts()).toEqual(before);
  });

  test('handshake and heartbeat → 200, nothing to work on', async () => {
    const sub = `${EHR_BASE}/Subscription/handshake-only`;
    expect((await svc.notify(notification({ events: [], type: 'handshake', since: 0, sub }))).status).toBe(200);
    expect((await svc.notify(notification({ events: [], type: 'heartbeat', since: 0, sub }))).json.issue[0].diagnostics).toBe('queued 0, duplicates 0');
  });
});

describe('backend access: SMART Backend Services against a verifying token server', () => {
  test('the service publishes its public key (no private part) at /.well-known/jwks.json', async () => {
    const res = await fetch(`${svc.url}/.well-known/jwks.json`);
    expect(res.status).toBe(200);
    const jwks = (await res.json()) as { keys: Record<string, unknown>[] };
    expect(jwks.keys).toEqual([expect.objectContaining({ kty: 'EC', crv: 'P-384', alg: 'ES384', kid: 'backend-key-1', use: 'sig' })]);
    expect(jwks.keys[0]!['d']).toBeUndefined();
  });

  test('a verified assertion gets a token with the system scopes; it is cached', async () => {
    const client = new BackendTokenClient({ tokenUrl: tokens.tokenUrl, clientId: BACKEND_CLIENT_ID, scope: svc.config.backend.scope, key: await loadSigningKey(keyFile) });
    const n = tokens.issued.length;
    const t1 = await client.token();
    expect(await client.token()).toBe(t1);
    expect(tokens.issued.length).toBe(n + 1);
    expect(tokens.issued.at(-1)).toEqual({ clientId: BACKEND_CLIENT_ID, scope: expect.stringContaining('system/DetectedIssue.c') });
    expect(tokens.issued.at(-1)!.scope).toContain('system/Observation.rs');
  });

  test.each([
    ['signed by a key the service does not publish', async () => ({ key: await loadSigningKey(await writeBackendKey(mkdtempSync(path.join(dir, 'other-')), 'backend-key-1')) })],
    ['for another audience (token URL)', async () => ({ tokenUrlAud: `${tokens.url}/other-token` })],
    ['from an unregistered client', async () => ({ clientId: 'someone-else' })],
  ])('an assertion %s is refused', async (_label, make) => {
    const o = await make();
    const refusedBefore = tokens.refused.length;
    const key = 'key' in o ? o.key! : await loadSigningKey(keyFile);
    const clientId = 'clientId' in o ? o.clientId! : BACKEND_CLIENT_ID;
    if ('tokenUrlAud' in o) {
      // an assertion made for another token URL, presented here
      const other = new BackendTokenClient({ tokenUrl: o.tokenUrlAud!, clientId, scope: 'system/Patient.rs', key });
      const body = new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: await other.assertion() });
      const res = await fetch(tokens.tokenUrl, { method: 'POST', body });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_client');
    } else {
      const client = new BackendTokenClient({ tokenUrl: tokens.tokenUrl, clientId, scope: 'system/Patient.rs', key });
      await expect(client.token()).rejects.toThrow(BackendAuthError);
      await expect(client.token()).rejects.toThrow(/token refused \(401 invalid_client\)/);
    }
    expect(tokens.refused.length).toBeGreaterThan(refusedBefore);
  });

  test('the token is reused until a minute before it expires, then renewed', async () => {
    tokens.setTokenLifetime(120);
    let clock = Date.now();
    const client = new BackendTokenClient({ tokenUrl: tokens.tokenUrl, clientId: BACKEND_CLIENT_ID, scope: 'system/Patient.rs', key: await loadSigningKey(keyFile), now: () => clock });
    try {
      const n = tokens.issued.length;
      const t1 = await client.token();
      clock += 59_000;
      expect(await client.token()).toBe(t1);
      expect(tokens.issued.length).toBe(n + 1);
      clock += 2_000; // 61 s: less than a minute left
      const t2 = await client.token();
      expect(t2).not.toBe(t1);
      expect(tokens.issued.length).toBe(n + 2);
    } finally {
      tokens.setTokenLifetime(300);
    }
  });

  test('a replayed assertion (same jti) is refused', async () => {
    const client = new BackendTokenClient({ tokenUrl: tokens.tokenUrl, clientId: BACKEND_CLIENT_ID, scope: 'system/Patient.rs', key: await loadSigningKey(keyFile) });
    const body = () => new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/Patient.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion });
    const assertion = await client.assertion();
    expect((await fetch(tokens.tokenUrl, { method: 'POST', body: body() })).status).toBe(200);
    const again = await fetch(tokens.tokenUrl, { method: 'POST', body: body() });
    expect(again.status).toBe(401);
    expect(tokens.refused.at(-1)).toBe('assertion jti replayed');
  });

  test('the FHIR server refuses the backend without a token (the service reads only with its own)', async () => {
    expect((await fetch(`${fhir.url}/Patient/nt-full`)).status).toBe(401);
  });
});

test('without NOTIFY_TOKEN the endpoint is off (404) and /readyz says nothing of notifications', async () => {
  const plain = await startTestService();
  try {
    const r = await fetch(`${plain.url}/notifications`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', authorization: `Bearer ${NOTIFY_SECRET}` }, body: JSON.stringify(notification({ events: [{ n: 1, payload: 'empty' }] })) });
    expect(r.status).toBe(404);
    expect((await (await fetch(`${plain.url}/readyz`)).json()).notifications).toBeUndefined();
    expect((await fetch(`${plain.url}/.well-known/jwks.json`)).status).toBe(404);
  } finally {
    await plain.close();
  }
});

describe('re-evaluation and write-back', () => {
  afterEach(async () => {
    await fhir.admin.setFault({ mode: 'none' });
    await svc.idle();
  });

  test.each([
    ['full-resource', 'nt-full'],
    ['id-only', 'nt-id'],
    ['empty', 'nt-empty'],
  ] as const)('%s payload: a new creatinine under metformin → exactly one DetectedIssue with the creatinine as evidence', async (payload, p) => {
    expect(await issuesOf(p)).toEqual([]);
    await newResult(creatinine(`${p}-cr2`, p, 2.1, 0), payload);
    const issues = await waitForIssues(p);
    await svc.idle();
    expect(await issuesOf(p)).toHaveLength(1);
    const di = issues[0];
    expect(di).toMatchObject({
      status: 'preliminary',
      severity: 'high',
      patient: { reference: `Patient/${p}` },
      implicated: [{ reference: `MedicationRequest/${p}-met` }],
      code: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'DOSE' }] },
      identifier: [{ system: FINGERPRINT_SYSTEM, value: expect.stringMatching(/^[0-9a-f]{64}$/) }],
    });
    expect(di.detail).toMatch(/Metformin: contraindicated at eGFR 24\.9/);
    const evidence = di.evidence[0].detail.map((d: { reference: string }) => d.reference);
    expect(evidence).toContain(`Observation/${p}-cr2`);
    expect(evidence).not.toContain(`Observation/${p}-cr1`);
  });

  test('a home INR of 6 on warfarin → one DetectedIssue (INR 5 or more: critical) with the INR as evidence', async () => {
    const home = { ...inrObservation('nt-inr-2', 'nt-inr', 6.0, new Date().toISOString()), method: { text: 'home point-of-care meter' } };
    await newResult(home, 'id-only');
    const issues = await waitForIssues('nt-inr');
    await svc.idle();
    expect(await issuesOf('nt-inr')).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'high', implicated: [{ reference: 'MedicationRequest/nt-inr-warf' }] });
    expect(issues[0].evidence[0].detail).toContainEqual({ reference: 'Observation/nt-inr-2' });
  });

  test('a repeated event number is processed once (queued once, one DetectedIssue write)', async () => {
    const obs = creatinine('nt-rep-cr2', 'nt-rep', 2.1, 0);
    await fhir.seed([obs]);
    const n = ++eventNo;
    const body = notification({ events: [{ n, focus: obs, payload: 'full-resource' }] });
    await fhir.admin.clearRequests();
    expect((await svc.notify(body)).json.issue[0].diagnostics).toBe('queued 1, duplicates 0');
    await waitForIssues('nt-rep');
    await svc.idle();
    expect((await svc.notify(body)).json.issue[0].diagnostics).toBe('queued 0, duplicates 1');
    await svc.idle();
    const posts = (await fhir.admin.requests()).filter((r) => r.method === 'POST' && r.path === '/DetectedIssue');
    expect(posts).toHaveLength(1);
    expect(await issuesOf('nt-rep')).toHaveLength(1);
  });

  test('the same facts notified again (a new event) write nothing new: conditional create on the fingerprint', async () => {
    const obs = creatinine('nt-full-cr2', 'nt-full', 2.1, 0);
    await svc.notify(notification({ events: [{ n: ++eventNo, focus: obs, payload: 'full-resource' }] }));
    await svc.idle();
    expect(await issuesOf('nt-full')).toHaveLength(1);
  });

  test('a missed event (event numbers skip one): the catch-up query finds the patient it was about → one DetectedIssue', async () => {
    // the event about nt-gap's new creatinine never reaches the service; the next one (about a result that changes
    // nothing) reveals the gap
    await fhir.seed([creatinine('nt-gap-cr2', 'nt-gap', 2.1, 0)]);
    const missed = ++eventNo;
    const next = ++eventNo;
    const unchanged = creatinine('nt-full-cr2', 'nt-full', 2.1, 0);
    const r = await svc.notify(notification({ events: [{ n: next, focus: unchanged, payload: 'full-resource' }] }));
    expect(r.json.issue[0].diagnostics).toBe('queued 1, duplicates 0, missed events: catch-up queued');
    expect(missed).toBe(next - 1);
    expect(await waitForIssues('nt-gap')).toHaveLength(1);
    await svc.idle();
    expect(await issuesOf('nt-gap')).toHaveLength(1);
    expect(await issuesOf('nt-full')).toHaveLength(1);
  });

  test('id-only about a result that is gone (404): done, nothing written, not parked', async () => {
    const before = await svc.queue.counts();
    const gone = creatinine('nt-never-there', 'nt-full', 2.1, 0);
    expect((await svc.notify(notification({ events: [{ n: ++eventNo, focus: gone, payload: 'id-only' }] }))).status).toBe(200);
    await svc.idle();
    const after = await svc.queue.counts();
    expect(after.parked).toBe(before.parked);
    expect(after.done).toBe(before.done + 1);
  });

  test('an alert the prescriber overrode at chart opening is not written; new facts write it', async () => {
    const p = 'nt-ovr';
    await fhir.seed([creatinine(`${p}-cr2`, p, 2.1, 1)]);
    const view = await svc.hook('dosing-monitor', {
      hook: 'patient-view',
      hookInstance: crypto.randomUUID(),
      fhirServer: fhir.url,
      fhirAuthorization: { access_token: EHR_TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds', patient: p },
      context: { userId: 'Practitioner/x', patientId: p },
    });
    expect(view.status).toBe(200);
    expect(view.json.cards).toHaveLength(1);
    const card = view.json.cards[0];
    const fb = await svc.feedback('dosing-monitor', { feedback: [{ card: card.uuid, outcome: 'overridden', overrideReason: { reason: card.overrideReasons[0] }, outcomeTimestamp: new Date().toISOString() }] });
    expect(fb.json).toMatchObject({ stored: 1 });
    // the same facts notified: suppressed, nothing written
    await svc.notify(notification({ events: [{ n: ++eventNo, focus: creatinine(`${p}-cr2`, p, 2.1, 1), payload: 'full-resource' }] }));
    await svc.idle();
    expect(await issuesOf(p)).toEqual([]);
    // a further rise: new facts → written once
    await newResult(creatinine(`${p}-cr3`, p, 2.6, 0), 'full-resource');
    expect(await waitForIssues(p)).toHaveLength(1);
  });

  test('the EHR refuses the write once → retried with backoff → one DetectedIssue', async () => {
    await fhir.admin.setFault({ mode: 'error500', status: 503, match: 'DetectedIssue', method: 'POST', times: 1 });
    await newResult(creatinine('nt-retry-cr2', 'nt-retry', 2.1, 0), 'full-resource');
    expect(await waitForIssues('nt-retry')).toHaveLength(1);
  });

  test('the EHR keeps refusing → parked after notify.maxAttempts (3), visible in /readyz and the metrics', async () => {
    const before = (await svc.queue.counts()).parked;
    await fhir.admin.setFault({ mode: 'error500', status: 503, match: 'DetectedIssue', method: 'POST', times: 100 });
    await newResult(creatinine('nt-park-cr2', 'nt-park', 2.1, 0), 'full-resource');
    await svc.idle();
    expect((await svc.queue.counts()).parked).toBe(before + 1);
    expect(await issuesOf('nt-park')).toEqual([]);
    const ready = (await (await fetch(`${svc.url}/readyz`)).json()) as { notifications: { parked: number } };
    expect(ready.notifications.parked).toBe(before + 1);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toContain(`cds_notification_queue_items{state="parked"} ${before + 1}`);
    expect(metrics).toMatch(/cds_detected_issues_total\{result="refused"\} [1-9]/);
  });

  test('every write is audited: the card record carries the fingerprint written as the identifier', async () => {
    const [di] = await issuesOf('nt-id');
    const rows = await svc.store.recommendationsForPatient('nt-id', fhir.url, 10);
    expect(rows.length).toBeGreaterThan(0);
    const audit = await svc.store.reportRows();
    expect(audit.some((r) => r.serviceId === 'dosing-notify' && r.drug === 'metformin')).toBe(true);
    expect(di.identifier[0].value).toMatch(/^[0-9a-f]{64}$/);
  });

  // issue 18 scope 5: a week of CGM readings (HL7 CGM IG, LOINC 99504-3) from a CGM Device after a glargine start;
  // fasting 175 mg/dL every day, no lows → ADA Standards of Care basal titration: raise 2 units (20 → 22), a warning
  // (DetectedIssue severity moderate) with the fasting readings as evidence; a further reading that changes no fasting
  // value or low writes nothing new.
  test('a week of CGM on glargine → one DetectedIssue (raise 20 → 22 units) with the fasting readings as evidence', async () => {
    const p = 'nt-cgm';
    const t = new Date();
    const today = t.toISOString().slice(0, 10);
    const week = cgmTrace(`${p}-g`, p, { fasting: Array(7).fill(175), lastDate: today, until: new Date(t.getTime() - 3600_000), intervalMin: 60, other: 165, device: `${p}-cgm` });
    await fhir.seed([
      patient(p, bornYearsAgo(58), 'female'),
      device(`${p}-cgm`, p, 'Continuous glucose monitor', 'FreeStyle Libre 3'),
      basalOrder(`${p}-glar`, p, 20, { authoredOn: new Date(t.getTime() - 8 * 86400000).toISOString() }),
      ...week,
    ]);
    await newResult(cgmReading(`${p}-new`, p, t.toISOString(), 168, { device: `${p}-cgm` }), 'id-only');
    const issues = await waitForIssues(p);
    await svc.idle();
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ severity: 'moderate', implicated: [{ reference: `MedicationRequest/${p}-glar` }] });
    expect(issues[0].detail).toMatch(/insulin glargine: raise to 22 units once daily/);
    expect(issues[0].detail).toMatch(/Proposed dose: 22 U once daily/);
    const evidence = issues[0].evidence[0].detail.map((d: { reference: string }) => d.reference);
    expect(evidence.filter((r: string) => /-240$/.test(r)).length).toBeGreaterThanOrEqual(3);
    // one more reading in the afternoon: no fasting value, no low changes → the same facts, nothing new written
    const later = new Date(t.getTime() + 60_000);
    await newResult(cgmReading(`${p}-new2`, p, later.toISOString(), 170, { device: `${p}-cgm` }), 'id-only');
    await svc.idle();
    expect(await issuesOf(p)).toHaveLength(1);
  });
});

describe('restart in the middle of a queue: nothing lost', () => {
  test('SQLite: a service stopped with an item queued; a new one on the same store writes the DetectedIssue', async () => {
    // a second service on its own SQLite file, without a worker: it only queues
    const file = path.join(dir, 'restart.sqlite');
    const a = await env.service({ store: new SqliteStore(file), worker: false });
    env.trust(svc);
    await newResult(creatinine('nt-restart-cr2', 'nt-restart', 2.1, 0), 'id-only', a);
    expect(await a.queue.counts()).toMatchObject({ pending: 1 });
    await a.stop(true);
    expect(await issuesOf('nt-restart')).toEqual([]);
    // the same key file: the JWKS the token server knows stays valid
    const b = await env.service({ store: new SqliteStore(file) });
    try {
      expect(await waitForIssues('nt-restart')).toHaveLength(1);
      await b.idle();
      expect(await b.queue.counts()).toMatchObject({ pending: 0, working: 0, done: 1 });
    } finally {
      await b.stop(true);
    }
  });

  describe('PostgreSQL', () => {
    let schema: PgSchema;
    beforeAll(async () => {
      schema = await createPgSchema();
    });
    afterAll(async () => schema?.drop());

    test('an item claimed by a process that died is claimed again after its lease: one DetectedIssue', async () => {
      const open = async () => {
        const s = new PgStore({ connectionString: schema.url });
        await s.init();
        return s;
      };
      const a = await env.service({ store: await open(), worker: false });
      await newResult(creatinine('nt-pg-cr2', 'nt-pg', 2.1, 0), 'full-resource', a);
      // the dying process: it claimed the item (lease 1 s) and never finished
      expect(await a.queue.claim(1000)).toMatchObject({ kind: 'event', focus: 'Observation/nt-pg-cr2' });
      await a.stop(true);
      const b = await env.service({ store: await open() });
      try {
        expect(await waitForIssues('nt-pg')).toHaveLength(1);
        await b.idle();
        expect(await b.queue.counts()).toMatchObject({ pending: 0, working: 0, done: 1, parked: 0 });
        expect(await issuesOf('nt-pg')).toHaveLength(1);
      } finally {
        await b.stop(true);
      }
    });
  });
});
