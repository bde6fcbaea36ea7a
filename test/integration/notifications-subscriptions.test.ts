// scripts/create-subscriptions.ts against the real FHIR test server: one R4 rest-hook Subscription per Observation
// filter of the prefetch templates (the same codes the evaluators gather by, config/services.json), posting to
// PUBLIC_BASE_URL/notifications with the notification secret in channel.header; run twice, nothing is duplicated.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { observationFilters } from '../../src/notify/subscriptions.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';

const run = promisify(execFile);
const TOKEN = 'backend-static-token-subscriptions';
const SECRET = 'notify-secret-subscriptions-0123';
let fhir: RunningFhirServer;

beforeAll(async () => {
  fhir = await startFhirServer({ token: TOKEN });
}, 30000);
afterAll(async () => fhir?.stop());

async function script(extraEnv: Record<string, string> = {}, args: string[] = []) {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: process.env['HOME'],
    BACKEND_FHIR_URL: fhir.url,
    BACKEND_FHIR_TOKEN: TOKEN,
    NOTIFY_TOKEN: SECRET,
    NOTIFY_CLIENT_ISS: 'https://ehr.subscriptions.test',
    FHIR_ALLOWED_SERVERS: fhir.url,
    FHIR_ALLOW_INSECURE_LOOPBACK: 'true',
    PUBLIC_BASE_URL: 'https://cds.example.org',
    ...extraEnv,
  };
  return run(process.execPath, ['--import', 'tsx', 'scripts/create-subscriptions.ts', ...args], { env, cwd: process.cwd(), timeout: 60000 });
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

test('creates one Subscription per filter on the FHIR server, then none again', async () => {
  const first = JSON.parse((await script()).stdout) as { created: string[]; existing: string[]; endpoint: string };
  expect(first.endpoint).toBe('https://cds.example.org/notifications');
  expect(first.created).toHaveLength(8);
  expect(first.existing).toEqual([]);
  const res = await fetch(`${fhir.url}/Subscription?_count=100`, { headers: { authorization: `Bearer ${TOKEN}` } });
  const subs = (((await res.json()) as { entry: { resource: any }[] }).entry ?? []).map((e) => e.resource);
  expect(subs).toHaveLength(8);
  for (const s of subs) {
    expect(s).toMatchObject({ status: 'requested', channel: { type: 'rest-hook', endpoint: 'https://cds.example.org/notifications', payload: 'application/fhir+json', header: [`Authorization: Bearer ${SECRET}`] } });
    expect(s.criteria).toMatch(/^Observation\?(code|category)=/);
  }
  const renal = subs.find((s) => s.criteria.includes('2160-0'));
  expect(renal.channel._payload.extension[0]).toEqual({ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content', valueCode: 'id-only' });

  const second = JSON.parse((await script()).stdout) as { created: string[]; existing: string[] };
  expect(second.created).toEqual([]);
  expect(second.existing).toHaveLength(8);
}, 90000);

test('refuses a FHIR server outside FHIR_ALLOWED_SERVERS (the egress policy), contacting nothing', async () => {
  await fhir.admin.clearRequests();
  await expect(script({ FHIR_ALLOWED_SERVERS: 'https://other.example.org/fhir' })).rejects.toMatchObject({ code: 1, stderr: expect.stringMatching(/backend FHIR server must be under FHIR_ALLOWED_SERVERS/) });
  expect(await fhir.admin.requests()).toEqual([]);
}, 60000);
