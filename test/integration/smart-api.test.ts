// The SMART app's recommendation API: access is proven by reading the patient on an allowlisted FHIR server with the
// app's own token (real JWTs from a real OAuth2 server, checked by the real FHIR test server); nothing leaks on refusal.
import { draftClopidogrel, draftWarfarin } from '../fixtures/synthetic-patients.js';
import { startSmartEnv, type SmartEnv } from '../support/smart-env.js';

let env: SmartEnv;
let warfarinId: string;
let clopidogrelId: string;

beforeAll(async () => {
  env = await startSmartEnv();
  const w = await env.orderSelect('pgx-1', draftWarfarin('api-w', 'pgx-1', 5));
  const c = await env.orderSelect('cyp-1', draftClopidogrel('api-c', 'cyp-1'));
  expect(w.status).toBe(200);
  expect(c.status).toBe(200);
  const idOf = (card: { links?: { appContext?: string }[] }) => (JSON.parse(card.links![0]!.appContext!) as { recommendationId: string }).recommendationId;
  warfarinId = idOf(w.json.cards[0]);
  clopidogrelId = idOf(c.json.cards[0]);
}, 30000);
afterAll(async () => {
  await env?.stop();
});

async function get(path: string, headers: Record<string, string>) {
  const res = await fetch(`${env.svc.url}${path}`, { headers });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

const as = (token: string, patient: string, server = env.fhir.url) => ({ authorization: `Bearer ${token}`, 'x-fhir-server': server, 'x-patient-id': patient });

/** Nothing from the recommendation, its patient or any other patient in an error body. */
function expectNoLeak(text: string): void {
  for (const s of [warfarinId, clopidogrelId, 'pgx-1', 'cyp-1', 'warfarin', 'clopidogrel', 'eyJ']) expect(text).not.toContain(s);
}

test('the card carries a SMART link to the app with the recommendation id as appContext, and nothing else', async () => {
  const w = await env.orderSelect('pgx-1', draftWarfarin('api-w2', 'pgx-1', 5));
  const link = w.json.cards[0].links[0];
  expect(link).toMatchObject({ type: 'smart', url: `${env.svc.url}/smart/launch.html` });
  expect(Object.keys(JSON.parse(link.appContext))).toEqual(['recommendationId']);
});

test('a token for the patient reads that patient’s recommendation; a second call within a minute reuses the proof', async () => {
  const token = await env.auth.accessToken({ patient: 'pgx-1' });
  await env.fhir.admin.clearRequests();
  const r = await get(`/api/recommendations/${warfarinId}`, as(token, 'pgx-1'));
  expect(r.status).toBe(200);
  const rec = r.json['recommendation'] as { id: string; drug: { name: string }; inputs: unknown[] };
  expect(rec.id).toBe(warfarinId);
  expect(rec.drug.name).toBe('warfarin');
  expect(r.json).not.toHaveProperty('patientId');
  const again = await get(`/api/recommendations/${warfarinId}`, as(token, 'pgx-1'));
  expect(again.status).toBe(200);
  const reads = (await env.fhir.admin.requests()).filter((q) => q.path === '/Patient/pgx-1');
  expect(reads).toHaveLength(1);
  expect(reads[0]!.bearer).toBe(true);
});

test('the list holds only the proven patient’s recommendations (also from ?patient=)', async () => {
  const token = await env.auth.accessToken({ patient: 'pgx-1' });
  const r = await get('/api/recommendations?patient=pgx-1', { authorization: `Bearer ${token}`, 'x-fhir-server': env.fhir.url });
  expect(r.status).toBe(200);
  const items = r.json['recommendations'] as { id: string; drug: string }[];
  expect(items.map((i) => i.id)).toContain(warfarinId);
  expect(items.map((i) => i.id)).not.toContain(clopidogrelId);
  expect(items.every((i) => i.drug === 'warfarin')).toBe(true);
});

test('no token → 401 with WWW-Authenticate, nothing leaked', async () => {
  const r = await get(`/api/recommendations/${warfarinId}`, { 'x-fhir-server': env.fhir.url, 'x-patient-id': 'pgx-1' });
  expect(r.status).toBe(401);
  expect(r.headers.get('www-authenticate')).toBe('Bearer');
  // a fixed message and its stable reason code (the SMART app words its failure screen from the code), nothing else
  expect(r.json).toEqual({ error: 'a SMART access token is required (Authorization: Bearer)', reason: 'no-token' });
  expectNoLeak(r.text);
});

test('no FHIR server or patient from the launch → 400', async () => {
  const token = await env.auth.accessToken({ patient: 'pgx-1' });
  const r = await get(`/api/recommendations/${warfarinId}`, { authorization: `Bearer ${token}` });
  expect(r.status).toBe(400);
  expectNoLeak(r.text);
});

test('an expired token and a forged token: the FHIR server answers 401, so does the API', async () => {
  const expired = await env.auth.accessToken({ patient: 'pgx-1' }, -60);
  const forged = `${(await env.auth.accessToken({ patient: 'pgx-1' })).slice(0, -6)}AAAAAA`;
  for (const token of [expired, forged, 'not-a-jwt']) {
    const r = await get(`/api/recommendations/${warfarinId}`, as(token, 'pgx-1'));
    expect(r.status).toBe(401);
    expectNoLeak(r.text);
  }
});

test('a token for another patient: the FHIR server refuses the patient (403), or the recommendation is not that patient’s (404 like an unknown id)', async () => {
  const other = await env.auth.accessToken({ patient: 'cyp-1' });
  // claims pgx-1 with cyp-1's token: the FHIR server refuses to show Patient/pgx-1
  const refused = await get(`/api/recommendations/${warfarinId}`, as(other, 'pgx-1'));
  expect(refused.status).toBe(403);
  expectNoLeak(refused.text);
  // honest about its patient, asks for pgx-1's recommendation: indistinguishable from an id that does not exist
  const mismatch = await get(`/api/recommendations/${warfarinId}`, as(other, 'cyp-1'));
  const unknown = await get('/api/recommendations/00000000-0000-4000-8000-000000000000', as(other, 'cyp-1'));
  expect(mismatch.status).toBe(404);
  expect(mismatch.text).toBe(unknown.text);
  expectNoLeak(mismatch.text);
  // its own recommendation is served
  expect((await get(`/api/recommendations/${clopidogrelId}`, as(other, 'cyp-1'))).status).toBe(200);
});

test('a FHIR server not on the allowlist is refused without being called; the token is never sent there', async () => {
  const token = await env.auth.accessToken({ patient: 'pgx-1' });
  await env.fhir.admin.clearRequests();
  const port = new URL(env.fhir.url).port;
  for (const server of [`http://localhost:${port}`, 'https://evil.example.org/fhir', 'http://127.0.0.1:1', `http://user:pw@127.0.0.1:${port}`]) {
    const r = await get(`/api/recommendations/${warfarinId}`, as(token, 'pgx-1', server));
    expect(r.status).toBe(403);
    expectNoLeak(r.text);
  }
  expect(await env.fhir.admin.requests()).toHaveLength(0);
});

test('a patient id that is not a FHIR id never reaches a URL', async () => {
  const token = await env.auth.accessToken({ patient: 'pgx-1' });
  await env.fhir.admin.clearRequests();
  const r = await get(`/api/recommendations/${warfarinId}`, as(token, '../Observation/pgx-1-wt'));
  expect(r.status).toBe(403);
  expect(await env.fhir.admin.requests()).toHaveLength(0);
});

test('the FHIR server down → 502, nothing leaked', async () => {
  const token = await env.auth.accessToken({ patient: 'pgx-1' }, 3599);
  await env.fhir.admin.setFault({ mode: 'error500', times: 1 });
  const r = await get(`/api/recommendations/${warfarinId}`, as(token, 'pgx-1'));
  expect(r.status).toBe(502);
  expectNoLeak(r.text);
});

test('the app is served with its own CSP: scripts from self only, connect-src limited to the FHIR and auth servers', async () => {
  const res = await fetch(`${env.svc.url}/smart/config.json`);
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({ clientId: 'pgx-dosing-details', scope: 'launch openid fhirUser patient/Patient.rs' });
  const csp = res.headers.get('content-security-policy')!;
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).toContain(`connect-src 'self' ${env.fhir.url} ${env.auth.url}`);
  expect(csp).toContain("frame-ancestors 'none'");
  // the API keeps the service's own strict policy
  const api = await fetch(`${env.svc.url}/api/recommendations/x`);
  expect(api.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
});
