// scripts/create-subscriptions.ts against the real FHIR test server: one rest-hook Subscription per Observation
// filter of the prefetch templates (the same codes the evaluators gather by, config/services.json), posting to
// PUBLIC_BASE_URL/notifications with the notification secret in channel.header; run twice, nothing is duplicated.
// Topic-based (Subscriptions R5 Backport IG STU 1.1, R4: profile backport-subscription, criteria = the topic,
// backport-filter-criteria) where the server advertises a topic on Observation create/update in its
// CapabilityStatement (extension capabilitystatement-subscriptiontopic-canonical) and defines it (the IG's R4 Basic
// shape); R4 criteria-based where it does not.
import { loadServiceCatalog } from '../../src/cds/services.js';
import { observationFilters } from '../../src/notify/subscriptions.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { searchResources } from '../support/fhir-search.js';
import { createSubscriptions } from '../support/subscriptions-script.js';

const TOKEN = 'backend-static-token-subscriptions';
const SECRET = 'notify-secret-subscriptions-0123';
const OBS_TOPIC = 'http://ehr.subscriptions.test/SubscriptionTopic/observation-changed';
const ENC_TOPIC = 'http://ehr.subscriptions.test/SubscriptionTopic/encounter-finished';
const BACKPORT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
let fhir: RunningFhirServer;
/** advertises and defines two topics: one on Encounter, one on Observation create/update */
let topics: RunningFhirServer;
/** advertises a topic on Observation but publishes no definition of it */
let bare: RunningFhirServer;

beforeAll(async () => {
  [fhir, topics, bare] = await Promise.all([
    startFhirServer({ token: TOKEN }),
    startFhirServer({ token: TOKEN, subscriptionTopics: [{ url: ENC_TOPIC, resource: 'Encounter', interactions: ['update'] }, { url: OBS_TOPIC, resource: 'Observation' }] }),
    startFhirServer({ token: TOKEN, subscriptionTopics: [{ url: OBS_TOPIC, resource: 'Observation', define: false }] }),
  ]);
}, 60000);
afterAll(async () => Promise.all([fhir?.stop(), topics?.stop(), bare?.stop()]));

interface Out {
  mode: 'topic' | 'criteria';
  topic?: string;
  reason: string;
  created: string[];
  existing: string[];
  otherMode: string[];
  endpoint: string;
}

async function subscriptionsOn(server: RunningFhirServer): Promise<any[]> {
  return searchResources(server.url, TOKEN, 'Subscription?_count=100');
}

async function script(extraEnv: Record<string, string> = {}, args: string[] = [], server: RunningFhirServer = fhir) {
  const env = { fhirUrl: server.url, fhirToken: TOKEN, notifyToken: SECRET, clientIss: 'https://ehr.subscriptions.test', publicBaseUrl: 'https://cds.example.org' };
  return createSubscriptions(env, extraEnv, args);
}

test('the filters are those of the prefetch templates (one definition of the codes)', () => {
  const filters = observationFilters(loadServiceCatalog());
  expect(filters.map((f) => f.key).sort()).toEqual(['genomics', 'genomicsCategory', 'glucose', 'height', 'inr', 'renal', 'vancomycinLevels', 'weight']);
  const renal = filters.find((f) => f.key === 'renal')!.filter;
  // serum creatinine (LOINC 2160-0) and cystatin C (33914-3), no patient and no paging
  expect(decodeURIComponent(renal)).toContain('http://loinc.org|2160-0');
  expect(decodeURIComponent(renal)).toContain('http://loinc.org|33914-3');
  expect(renal).not.toMatch(/patient=|_count|_sort/);
  expect(decodeURIComponent(filters.find((f) => f.key === 'inr')!.filter)).toContain('http://loinc.org|6301-6');
  // CGM sensor readings (HL7 CGM IG, 99504-3 mg/dL and 105272-9 mmol/L): a new reading re-checks basal insulin
  expect(decodeURIComponent(filters.find((f) => f.key === 'glucose')!.filter)).toMatch(/http:\/\/loinc\.org\|99504-3,http:\/\/loinc\.org\|105272-9/);
});

test('no topic advertised: auto creates one R4 criteria Subscription per filter, then none again', async () => {
  const first = JSON.parse((await script()).stdout) as Out;
  expect(first.endpoint).toBe('https://cds.example.org/notifications');
  expect(first).toMatchObject({ mode: 'criteria', reason: expect.stringMatching(/^criteria-based: the server advertises no SubscriptionTopic/) });
  expect(first.topic).toBeUndefined();
  expect(first.created).toHaveLength(8);
  expect(first.existing).toEqual([]);
  const subs = await subscriptionsOn(fhir);
  expect(subs).toHaveLength(8);
  for (const s of subs) {
    expect(s).toMatchObject({ status: 'requested', channel: { type: 'rest-hook', endpoint: 'https://cds.example.org/notifications', payload: 'application/fhir+json', header: [`Authorization: Bearer ${SECRET}`] } });
    expect(s.criteria).toMatch(/^Observation\?(code|category)=/);
  }
  const renal = subs.find((s) => s.criteria.includes('2160-0'));
  expect(renal.channel._payload.extension[0]).toEqual({ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'id-only' });

  expect(renal.meta?.profile).toBeUndefined();
  expect(renal._criteria).toBeUndefined();

  const second = JSON.parse((await script()).stdout) as Out;
  expect(second).toMatchObject({ mode: 'criteria', created: [], otherMode: [] });
  expect(second.existing).toHaveLength(8);
}, 90000);

test('--mode topic where no topic is advertised: refused, saying why, nothing created', async () => {
  await fhir.admin.clearRequests();
  await expect(script({}, ['--mode', 'topic'])).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/topic-based subscriptions are not possible: the server advertises no SubscriptionTopic/) });
  expect((await fhir.admin.requests()).filter((r) => r.method === 'POST')).toEqual([]);
}, 60000);

test.each([
  ['answers 503', { mode: 'error500', status: 503 }, /the CapabilityStatement could not be read \(HTTP 503\)/],
  ['answers something that is not a CapabilityStatement', { mode: 'garbage' }, /\/metadata is not a CapabilityStatement/],
] as const)('auto, the server\'s /metadata %s: refused, saying so, nothing created (--mode criteria would skip it)', async (_label, fault, message) => {
  await fhir.admin.setFault({ ...fault, match: '/metadata', times: 1 });
  await fhir.admin.clearRequests();
  try {
    await expect(script()).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(message) });
    expect((await fhir.admin.requests()).filter((r) => r.method === 'POST')).toEqual([]);
  } finally {
    await fhir.admin.setFault({ mode: 'none' });
  }
}, 60000);

test.each([
  [['--mode', 'sometimes'], /--mode must be auto, topic or criteria/],
  [['--heartbeat', 'hourly'], /--heartbeat must be a whole number of seconds/],
  [['--mode', 'criteria', '--topic', 'http://x.test/t'], /--topic needs --mode topic or auto/],
])('bad arguments %j: exit 1 naming them, nothing written', async (args, message) => {
  await fhir.admin.clearRequests();
  await expect(script({}, args)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(message) });
  expect((await fhir.admin.requests()).filter((r) => r.method === 'POST')).toEqual([]);
}, 60000);

describe('a server offering a topic on Observation create/update (Backport IG, R4)', () => {
  // The R4 topic-based Subscription as the Backport IG's profile backport-subscription has it (STU 1.1
  // StructureDefinition-backport-subscription and its R4 example subscription-admission): criteria 1..1 the topic's
  // canonical; criteria.extension filterCriteria (string, search-style, ANDed within one Subscription: so one
  // Subscription per filter); channel.payload 1..1 with the content extension 1..1 (code); heartbeat period and
  // timeout (unsignedInt), max count (positiveInt) on channel.
  test('auto picks the Observation topic (not the Encounter one): one backport Subscription per filter, then none again', async () => {
    const first = JSON.parse((await script({}, [], topics)).stdout) as Out;
    expect(first).toMatchObject({ mode: 'topic', topic: OBS_TOPIC, reason: expect.stringContaining('its Basic definition triggers on Observation create/update'), existing: [], otherMode: [] });
    expect(first.created.sort()).toEqual(observationFilters(loadServiceCatalog()).map((f) => f.key).sort());
    const subs = await subscriptionsOn(topics);
    expect(subs).toHaveLength(8);
    const filters = observationFilters(loadServiceCatalog());
    for (const s of subs) {
      expect(s.meta.profile).toEqual([`${BACKPORT}/backport-subscription`]);
      expect(s).toMatchObject({ status: 'requested', criteria: OBS_TOPIC, channel: { type: 'rest-hook', endpoint: 'https://cds.example.org/notifications', payload: 'application/fhir+json', header: [`Authorization: Bearer ${SECRET}`] } });
      // exactly one filter criterion, patient-independent, the same as the criteria mode's
      expect(s._criteria.extension).toHaveLength(1);
      const fc = s._criteria.extension[0];
      expect(Object.keys(fc).sort()).toEqual(['url', 'valueString']);
      expect(fc.url).toBe(`${BACKPORT}/backport-filter-criteria`);
      expect(filters.map((f) => `Observation?${f.filter}`)).toContain(fc.valueString);
      expect(fc.valueString).not.toMatch(/patient=|subject=/);
      expect(s.channel._payload.extension).toEqual([{ url: `${BACKPORT}/backport-payload-content`, valueCode: 'id-only' }]);
      expect(s.channel.extension).toEqual([
        { url: `${BACKPORT}/backport-heartbeat-period`, valueUnsignedInt: 3600 },
        { url: `${BACKPORT}/backport-timeout`, valueUnsignedInt: 60 },
        { url: `${BACKPORT}/backport-max-count`, valuePositiveInt: 500 },
      ]);
    }
    // every filter has its own Subscription
    expect(new Set(subs.map((s) => s._criteria.extension[0].valueString)).size).toBe(8);
    const renal = subs.find((s) => s._criteria.extension[0].valueString.includes('2160-0'));
    // serum creatinine (LOINC 2160-0) and cystatin C (33914-3), the renal prefetch's codes
    expect(decodeURIComponent(renal._criteria.extension[0].valueString)).toMatch(/^Observation\?code=http:\/\/loinc\.org\|2160-0,.*http:\/\/loinc\.org\|33914-3/);

    const second = JSON.parse((await script({}, [], topics)).stdout) as Out;
    expect(second).toMatchObject({ mode: 'topic', topic: OBS_TOPIC, created: [], otherMode: [] });
    expect(second.existing).toHaveLength(8);
    expect(await subscriptionsOn(topics)).toHaveLength(8);
  }, 90000);

  test('--heartbeat 0 leaves the heartbeat out; --mode criteria there creates criteria ones and names the topic ones as the other mode', async () => {
    const ids = (await subscriptionsOn(topics)).map((s) => s.id).sort();
    const out = JSON.parse((await script({}, ['--mode', 'criteria'], topics)).stdout) as Out;
    expect(out).toMatchObject({ mode: 'criteria', reason: 'criteria-based, as asked (--mode criteria)', existing: [] });
    expect(out.created).toHaveLength(8);
    expect(out.otherMode.sort()).toEqual(ids);
    const criteria = (await subscriptionsOn(topics)).filter((s) => s.criteria.startsWith('Observation?'));
    expect(criteria).toHaveLength(8);
    await topics.admin.reset();
    const h0 = JSON.parse((await script({}, ['--heartbeat', '0', '--payload', 'full-resource'], topics)).stdout) as Out;
    expect(h0.created).toHaveLength(8);
    const [s] = await subscriptionsOn(topics);
    expect(s.channel.extension.map((e: { url: string }) => e.url)).toEqual([`${BACKPORT}/backport-timeout`, `${BACKPORT}/backport-max-count`]);
    expect(s.channel._payload.extension[0].valueCode).toBe('full-resource');
  }, 120000);

  test('a topic advertised without a definition: auto stays criteria-based and says why; --topic names it', async () => {
    const auto = JSON.parse((await script({}, [], bare)).stdout) as Out;
    expect(auto.mode).toBe('criteria');
    expect(auto.reason).toBe(`criteria-based: none of the advertised topics is known to trigger on Observation create/update (no definition found for ${OBS_TOPIC}; name one with --topic if it does)`);
    await bare.admin.reset();
    const named = JSON.parse((await script({}, ['--topic', OBS_TOPIC], bare)).stdout) as Out;
    expect(named).toMatchObject({ mode: 'topic', topic: OBS_TOPIC, reason: expect.stringContaining("taken on the operator's word") });
    expect(named.created).toHaveLength(8);
    await expect(script({}, ['--topic', ENC_TOPIC], bare)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/is not advertised in the server's CapabilityStatement/) });
    // a topic whose definition triggers on Encounter only is refused by name
    await expect(script({}, ['--topic', ENC_TOPIC], topics)).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/does not trigger on Observation create or update/) });
  }, 120000);
});

test('refuses a FHIR server outside FHIR_ALLOWED_SERVERS (the egress policy), contacting nothing', async () => {
  await fhir.admin.clearRequests();
  await expect(script({ FHIR_ALLOWED_SERVERS: 'https://other.example.org/fhir' })).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/backend FHIR server must be under FHIR_ALLOWED_SERVERS/) });
  expect(await fhir.admin.requests()).toEqual([]);
}, 60000);
