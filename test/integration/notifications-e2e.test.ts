// Subscription → notification → DetectedIssue with nothing posted by hand: scripts/create-subscriptions.ts registers
// the service on the real FHIR test server (topic-based where the server offers a topic on Observation, R4
// criteria-based where it does not), the server notifies the matching Subscription when a new result is created
// through its FHIR API (Backport IG R4 bundle, id-only, the channel.header secret; test/support/fhir-server/delivery.ts),
// and the service writes the DetectedIssue. Case: a woman of 70 on metformin, new creatinine 2.1 mg/dL → eGFR 24.9,
// contraindicated (GLUCOPHAGE label; test/fixtures/notifications.ts) → one DetectedIssue, severity high.
import path from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import { creatinine, metforminPatient } from '../fixtures/notifications.js';
import { startBackendTokenServer, type BackendTokenServer } from '../support/backend-token-server.js';
import type { RunningFhirServer } from '../support/fhir-server/index.js';
import { NOTIFY_SECRET, type NotifyService } from '../support/notify-service.js';
import { startNotifyEhr, type NotifyEhr } from '../support/notify-ehr.js';
import { createSubscriptions } from '../support/subscriptions-script.js';

const EHR_TOKEN = 'ehr-access-token-e2e-subscriptions';
const TOPIC = 'http://ehr.e2e.test/SubscriptionTopic/observation-changed';

let tokens: BackendTokenServer;
const running: { env: NotifyEhr; svc: NotifyService }[] = [];

beforeAll(async () => {
  tokens = await startBackendTokenServer();
}, 30000);

afterAll(async () => {
  for (const r of running) {
    await r.svc.stop(true);
    await r.env.stop();
  }
  await tokens?.stop();
});

async function setUp(name: string, topics: boolean, patient: string) {
  const env = await startNotifyEhr({
    name,
    ehrToken: EHR_TOKEN,
    seed: metforminPatient(patient),
    tokens,
    fhir: { deliverNotifications: true, ...(topics ? { subscriptionTopics: [{ url: TOPIC, resource: 'Observation' }] } : {}) },
  });
  const svc = await env.service({ store: new SqliteStore(path.join(env.dir, `${name}.sqlite`)) });
  env.trust(svc);
  running.push({ env, svc });
  return { fhir: env.fhir, svc, issuesOf: (p: string) => env.waitForIssues(p) };
}

async function register(fhir: RunningFhirServer, svc: NotifyService) {
  const env = { fhirUrl: fhir.url, fhirToken: EHR_TOKEN, notifyToken: NOTIFY_SECRET, clientIss: 'https://ehr.e2e.test', publicBaseUrl: svc.url };
  const { stdout } = await createSubscriptions(env);
  return JSON.parse(stdout) as { mode: string; created: string[] };
}

test.each([
  ['topic-based (the server offers a topic on Observation)', 'e2e-topic', true],
  ['criteria-based (no topic offered)', 'e2e-criteria', false],
] as const)('%s: a new creatinine written to the EHR → one notification to the renal Subscription → one DetectedIssue', async (_label, p, topics) => {
  const { fhir, svc, issuesOf } = await setUp(p, topics, p);
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

  const issues = await issuesOf(p);
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
