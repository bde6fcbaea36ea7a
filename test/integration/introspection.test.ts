// RFC 7662 token introspection for the SMART recommendation API (issue 17 scope 5), against the real OAuth2 server
// process (oauth2-mock-server, test/support/smart-auth.ts: its /introspect answers from the token it signed, with the
// SMART App Launch 2 `patient` member, and requires client credentials, RFC 7662 §2.1).
// The FHIR test server here enforces nothing (no token check), like the SMART launcher's proxy: the case where the
// service's FHIR read of Patient/{X-Patient-Id} proves nothing about the token's patient.
import { randomUUID } from 'node:crypto';
import { loadConfig } from '../../src/config.js';
import { TokenIntrospector } from '../../src/smart/introspection.js';
import { orderSelectCall } from '../fixtures/orders.js';
import { draftClopidogrel, draftWarfarin, syntheticResources } from '../fixtures/synthetic-patients.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { startTestService, type TestService } from '../support/service.js';
import { startSmartAuthServer, type SmartAuthServer } from '../support/smart-auth.js';

let auth: SmartAuthServer;
let fhir: RunningFhirServer;
let plain: TestService; // no SMART_INTROSPECTION_URL: today's behaviour
let intro: TestService; // SMART_INTROSPECTION_URL set
const recs = new Map<TestService, { warfarin: string; clopidogrel: string }>();

async function recommendationsOf(svc: TestService): Promise<{ warfarin: string; clopidogrel: string }> {
  const idOf = (r: { json: any }) => (JSON.parse(r.json.cards[0].links[0].appContext) as { recommendationId: string }).recommendationId;
  const w = await svc.hook('dosing-order-select', orderSelectCall(fhir.url, 'unused', 'pgx-1', draftWarfarin(`in-w-${randomUUID()}`, 'pgx-1', 5)));
  const c = await svc.hook('dosing-order-select', orderSelectCall(fhir.url, 'unused', 'cyp-1', draftClopidogrel(`in-c-${randomUUID()}`, 'cyp-1')));
  expect([w.status, c.status]).toEqual([200, 200]);
  return { warfarin: idOf(w), clopidogrel: idOf(c) };
}

beforeAll(async () => {
  auth = await startSmartAuthServer();
  fhir = await startFhirServer({ seed: syntheticResources() });
  const smart = { 'smart.allowedFhirServers': [fhir.url], 'smart.proofCacheSeconds': 0 };
  [plain, intro] = await Promise.all([
    startTestService(smart),
    startTestService({
      ...smart,
      'smart.introspectionUrl': auth.introspectUrl,
      'smart.introspectionClientId': auth.introspectionClient.id,
      'smart.introspectionClientSecret': auth.introspectionClient.secret,
      'smart.introspectionCacheSeconds': 0,
    }),
  ]);
  for (const s of [plain, intro]) {
    s.allowFhirServer(fhir.url);
    recs.set(s, await recommendationsOf(s));
  }
}, 40000);
afterAll(async () => {
  await Promise.all([plain?.close(), intro?.close(), fhir?.stop(), auth?.stop()]);
});

async function get(svc: TestService, path: string, token: string, patient: string) {
  const res = await fetch(`${svc.url}${path}`, { headers: { authorization: `Bearer ${token}`, 'x-fhir-server': fhir.url, 'x-patient-id': patient } });
  const text = await res.text();
  return { status: res.status, text, json: JSON.parse(text) as Record<string, unknown> };
}

describe('the authorization server (test support) answers RFC 7662 introspection', () => {
  test('active with the patient for its own token; inactive for a revoked, expired or foreign one; 401 without client credentials', async () => {
    const ok = new TokenIntrospector({ url: auth.introspectUrl, clientId: auth.introspectionClient.id, clientSecret: auth.introspectionClient.secret, cacheSeconds: 0, timeoutMs: 2000 });
    const t = await auth.accessToken({ patient: 'pgx-1' });
    expect(await ok.introspect(t)).toMatchObject({ ok: true, value: { active: true, patient: 'pgx-1' } });
    expect(await ok.introspect(await auth.accessToken({ patient: 'pgx-1' }, -10))).toMatchObject({ ok: true, value: { active: false } });
    expect(await ok.introspect('eyJhbGciOiJSUzI1NiJ9.eyJwYXRpZW50IjoicGd4LTEifQ.c2ln')).toMatchObject({ ok: true, value: { active: false } });
    const revoked = await auth.accessToken({ patient: 'pgx-1' });
    auth.revoke(revoked);
    expect(await ok.introspect(revoked)).toMatchObject({ ok: true, value: { active: false } });
    const anonymous = new TokenIntrospector({ url: auth.introspectUrl, cacheSeconds: 0, timeoutMs: 2000 });
    expect(await anonymous.introspect(t)).toEqual({ ok: false, status: 401 });
    const wrong = new TokenIntrospector({ url: auth.introspectUrl, clientId: auth.introspectionClient.id, clientSecret: 'wrong', cacheSeconds: 0, timeoutMs: 2000 });
    expect(await wrong.introspect(t)).toEqual({ ok: false, status: 401 });
  });

  test('answers are cached per token, never past the token exp', async () => {
    let now = Date.now();
    const cached = new TokenIntrospector({ url: auth.introspectUrl, clientId: auth.introspectionClient.id, clientSecret: auth.introspectionClient.secret, cacheSeconds: 60, timeoutMs: 2000, now: () => now });
    const t = await auth.accessToken({ patient: 'cyp-1' }, 30);
    const n0 = auth.introspections();
    expect(await cached.introspect(t)).toMatchObject({ ok: true, cached: false, value: { active: true, patient: 'cyp-1' } });
    expect(await cached.introspect(t)).toMatchObject({ ok: true, cached: true });
    expect(auth.introspections() - n0).toBe(1);
    now += 31_000; // past the token's exp (30 s), within the 60 s cache time: asked again, and now inactive
    expect(await cached.introspect(t)).toMatchObject({ ok: true, cached: false });
    expect(auth.introspections() - n0).toBe(2);
  });
});

describe('without SMART_INTROSPECTION_URL: the FHIR server is trusted to enforce the token patient (documented)', () => {
  test('on a FHIR server that does not enforce it, a token launched for cyp-1 reads pgx-1 (the trust assumption)', async () => {
    const cypToken = await auth.accessToken({ patient: 'cyp-1' });
    const r = await get(plain, `/api/recommendations/${recs.get(plain)!.warfarin}`, cypToken, 'pgx-1');
    expect(r.status).toBe(200);
  });
});

describe('with SMART_INTROSPECTION_URL (real introspection on every call here: cache 0)', () => {
  test('a token for the patient reads that patient’s recommendation and list', async () => {
    const t = await auth.accessToken({ patient: 'pgx-1' });
    expect((await get(intro, `/api/recommendations/${recs.get(intro)!.warfarin}`, t, 'pgx-1')).status).toBe(200);
    const list = await get(intro, '/api/recommendations', t, 'pgx-1');
    expect(list.status).toBe(200);
    expect((list.json['recommendations'] as unknown[]).length).toBeGreaterThan(0);
  });

  // SMART App Launch 2 (token introspection: `patient` of the launch); RFC 7662 §2.2 (`active`)
  test.each([
    ['a token launched for another patient (cyp-1) asking for pgx-1', async (): Promise<string> => auth.accessToken({ patient: 'cyp-1' }), 403, /does not give access to this patient/],
    ['a token with no patient context', async (): Promise<string> => auth.accessToken({ patient: '' }), 403, /does not give access to this patient/],
    ['an expired token', async (): Promise<string> => auth.accessToken({ patient: 'pgx-1' }, -10), 401, /not active/],
    ['a revoked token (its signature still verifies)', async (): Promise<string> => {
      const t = await auth.accessToken({ patient: 'pgx-1' });
      auth.revoke(t);
      return t;
    }, 401, /not active/],
    ['a token the authorization server never issued', async (): Promise<string> => 'eyJhbGciOiJSUzI1NiJ9.eyJwYXRpZW50IjoicGd4LTEifQ.c2ln', 401, /not active/],
  ] as const)('%s', async (_n, token, status, message) => {
    const t = await token();
    for (const path of [`/api/recommendations/${recs.get(intro)!.warfarin}`, '/api/recommendations']) {
      const r = await get(intro, path, t, 'pgx-1');
      expect(r.status).toBe(status);
      expect(r.json['error']).toMatch(message);
      for (const s of ['pgx-1', 'cyp-1', 'warfarin', recs.get(intro)!.warfarin, 'eyJ']) expect(r.text).not.toContain(s);
    }
  });

  test('the same token still reads its own patient (cyp-1)', async () => {
    const t = await auth.accessToken({ patient: 'cyp-1' });
    expect((await get(intro, `/api/recommendations/${recs.get(intro)!.clopidogrel}`, t, 'cyp-1')).status).toBe(200);
  });
});

describe('introspection failing is never "active"', () => {
  test.each([
    ['the endpoint is down (closed port)', (): string => 'http://127.0.0.1:9/introspect', undefined],
    ['the endpoint refuses this service (wrong client secret)', (): string => auth.introspectUrl, 'wrong-secret'],
  ] as const)('%s → 502, nothing served', async (_n, url, secret) => {
    const svc = await startTestService({
      'smart.allowedFhirServers': [fhir.url],
      'smart.introspectionUrl': url(),
      'smart.introspectionClientId': auth.introspectionClient.id,
      'smart.introspectionClientSecret': secret ?? auth.introspectionClient.secret,
      'smart.proofTimeoutMs': 500,
    });
    try {
      svc.allowFhirServer(fhir.url);
      const { warfarin } = await recommendationsOf(svc);
      const r = await get(svc, `/api/recommendations/${warfarin}`, await auth.accessToken({ patient: 'pgx-1' }), 'pgx-1');
      expect(r.status).toBe(502);
      expect(r.json).toEqual({ error: 'the authorization server could not confirm the access token; try again', reason: 'introspection-unavailable' });
    } finally {
      await svc.close();
    }
  });
});

describe('configuration', () => {
  test.each([
    [{ SMART_INTROSPECTION_URL: 'https://auth.ehr.example/introspect' }, true],
    [{ SMART_INTROSPECTION_URL: 'http://auth.ehr.example/introspect' }, false],
    [{ SMART_INTROSPECTION_URL: 'http://127.0.0.1:9000/introspect' }, false], // loopback http only with FHIR_ALLOW_INSECURE_LOOPBACK
    [{ SMART_INTROSPECTION_URL: 'http://127.0.0.1:9000/introspect', FHIR_ALLOW_INSECURE_LOOPBACK: 'true' }, true],
    [{ SMART_INTROSPECTION_URL: 'https://user:pw@auth.ehr.example/introspect' }, false],
    [{ SMART_INTROSPECTION_URL: 'not a url' }, false],
  ])('%j accepted: %s', (env, ok) => {
    if (ok) expect(loadConfig(env).smart.introspectionUrl).toBe(env.SMART_INTROSPECTION_URL);
    else expect(() => loadConfig(env)).toThrow();
  });
  test('client credentials from the environment', () => {
    const c = loadConfig({ SMART_INTROSPECTION_URL: 'https://a.example/i', SMART_INTROSPECTION_CLIENT_ID: 'svc', SMART_INTROSPECTION_CLIENT_SECRET: 's3cret' });
    expect([c.smart.introspectionClientId, c.smart.introspectionClientSecret]).toEqual(['svc', 's3cret']);
    expect(loadConfig({}).smart.introspectionUrl).toBe('');
  });
});
