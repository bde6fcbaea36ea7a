// Subscription → notification → DetectedIssue with nothing posted by hand: scripts/create-subscriptions.ts registers
// the service on the real FHIR test server (topic-based where the server offers a topic on Observation, R4
// criteria-based where it does not), the server notifies the matching Subscription when a new result is created
// through its FHIR API (Backport IG R4 bundle, id-only, the channel.header secret; test/support/fhir-server/delivery.ts),
// and the service writes the DetectedIssue. Case: a woman of 70 on metformin, new creatinine 2.1 mg/dL → eGFR 24.9,
// contraindicated (GLUCOPHAGE label; test/fixtures/notifications.ts) → one DetectedIssue, severity high.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { SqliteStore } from '../../src/store/sqlite.js';
import { creatinine, metforminPatient } from '../fixtures/notifications.js';
import { startBackendTokenServer, type BackendTokenServer } from '../support/backend-token-server.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { makeTestClient } from '../support/jwt.js';
import { BACKEND_CLIENT_ID, NOTIFY_SECRET, startNotifyService, writeBackendKey, type NotifyService } from '../support/notify-service.js';

const run = promisify(execFile);
const EHR_TOKEN = 'ehr-access-token-e2e-subscriptions';
const TOPIC = 'http://ehr.e2e.test/SubscriptionTopic/observation-changed';

let tokens: BackendTokenServer;
let dir: string;
const running: { fhir: RunningFhirServer; svc: NotifyService }[] = [];

beforeAll(async () => {
  tokens = await startBackendTokenServer();
  dir = mkdtempSync(path.join(tmpdir(), 'notify-e2e-'));
}, 30000);

afterAll(async () => {
  for (const r of running) {
    await r.svc.stop(true);
    await r.fhir.stop();
  }
  await tokens?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function setUp(name: string, topics: boolean, patient: string) {
  const fhir = await startFhirServer({
    token: EHR_TOKEN,
    jwksUrl: tokens.jwksUrl,
    deliverNotifications: true,
    ...(topics ? { subscriptionTopics: [{ url: TOPIC, resource: 'Observation' }] } : {}),
    seed: metforminPatient(patient),
  });
  const ehr = await makeTestClient({ alg: 'ES384', iss: `https://ehr.${name}.test` });
  const keyFile = await writeBackendKey(mkdtempSync(path.join(dir, `${name}-`)));
  const svc = await startNotifyService({ store: new SqliteStore(path.join(dir, `${name}.sqlite`)), ehr, fhirUrl: fhir.url, tokenUrl: tokens.tokenUrl, keyFile });
  tokens.registerClient(BACKEND_CLIENT_ID, `${svc.url}/.well-known/jwks.json`);
  running.push({ fhir, svc });
  return { fhir, svc };
}

async function register(fhir: RunningFhirServer, svc: NotifyService) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    BACKEND_FHIR_URL: fhir.url,
    BACKEND_FHIR_TOKEN: EHR_TOKEN,
    NOTIFY_TOKEN: NOTIFY_SECRET,
    NOTIFY_CLIENT_ISS: 'https://ehr.e2e.test',
    FHIR_ALLOWED_SERVERS: fhir.url,
    FHIR_ALLOW_INSECURE_LOOPBACK: 'true',
    PUBLIC_BASE_URL: svc.url,
  };
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'scripts/create-subscriptions.ts'], { env, cwd: process.cwd(), timeout: 60000 });
  return JSON.parse(stdout) as { mode: string; created: string[] };
}

async function issuesOf(fhir: RunningFhirServer, p: string, n = 1, timeoutMs = 15000): Promise<any[]> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${fhir.url}/DetectedIssue?patient=Patient/${p}`, { headers: { authorization: `Bearer ${EHR_TOKEN}` } });
    const list = (((await res.json()) as { entry?: { resource: unknown }[] }).entry ?? []).map((e) => e.resource);
    if (list.length >= n || Date.now() > until) return list;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test.each([
  ['topic-based (the server offers a topic on Observation)', 'e2e-topic', true],
  ['criteria-based (no topic offered)', 'e2e-criteria', false],
] as const)('%s: a new creatinine written to the EHR → one notification to the renal Subscription → one DetectedIssue', async (_label, p, topics) => {
  const { fhir, svc } = await setUp(p, topics, p);
  const reg = await register(fhir, svc);
  expect(reg.mode).toBe(topics ? 'topic' : 'criteria');
  expect(reg.created).toHaveLength(8);
  expect(await fhir.admin.deliveries()).toEqual([]);

  // the lab result arrives in the EHR through its FHIR API
  const res = await fetch(`${fhir.url}/Observation`, {
    method: 'POST',
    headers: { authorization: `Bearer ${EHR_TOKEN}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ ...creatinine(`${p}-cr2`, p, 2.1, 0), id: undefined }),
  });
  expect(res.status).toBe(201);
  const obsId = ((await res.json()) as { id: string }).id;

  const issues = await issuesOf(fhir, p);
  await svc.idle();
  expect(issues).toHaveLength(1);
  expect(issues[0]).toMatchObject({ severity: 'high', implicated: [{ reference: `MedicationRequest/${p}-met` }] });
  expect(issues[0].evidence[0].detail).toContainEqual({ reference: `Observation/${obsId}` });
  // exactly one notification: to the Subscription whose filter holds serum creatinine (LOINC 2160-0), answered 200
  const sent = await fhir.admin.deliveries();
  expect(sent).toEqual([{ subscription: expect.any(String), eventNumber: 1, endpoint: `${svc.url}/notifications`, focus: `Observation/${obsId}`, status: 200 }]);
  const sub = await (await fetch(`${fhir.url}/Subscription/${sent[0]!.subscription}`, { headers: { authorization: `Bearer ${EHR_TOKEN}` } })).json();
  const filter = topics ? sub._criteria.extension[0].valueString : sub.criteria;
  expect(decodeURIComponent(filter)).toContain('http://loinc.org|2160-0');
  expect(sub.criteria === TOPIC).toBe(topics);
  expect(await svc.queue.counts()).toMatchObject({ pending: 0, working: 0, parked: 0, done: 1 });
}, 90000);
