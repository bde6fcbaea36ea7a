// Auth attacks through the REAL service (startTestService: createApp, real JWT middleware, SQLite), beyond the unit
// tests in test/unit/auth.test.ts: oversized Authorization headers, jku pointing at hosts that are not allowlisted
// (which must receive nothing), a key-set server that goes away after first use (cached keys keep working), forged
// kids that must not turn the service into a request amplifier, and floods of bad tokens that must stay cheap.
import { request } from 'node:http';
import { craftToken, makeTestClient, signRawJws, standardClaims, startJwksServer, type JwksServer, type TestClient } from '../support/jwt.js';
import { orderSelectBody, proposedDoses, startRecordingServer, type RecordingServer } from '../support/robustness.js';
import { startTestService, type TestService } from '../support/service.js';

const PATH = '/cds-services/dosing-order-select';
let svc: TestService;
let jwks: JwksServer; // allowlisted key set of `jkuEhr`
let evil: RecordingServer; // not allowlisted for anyone
let jkuEhr: TestClient;

beforeAll(async () => {
  jwks = await startJwksServer(undefined);
  jkuEhr = await makeTestClient({ alg: 'ES384', iss: 'https://jku-ehr.test.local', jku: jwks.url });
  jwks.setBody(jkuEhr.jwks);
  evil = await startRecordingServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [] }));
  });
  svc = await startTestService({}, [jkuEhr]);
}, 30000);
afterAll(async () => {
  await Promise.all([svc?.close(), jwks?.close().catch(() => {}), evil?.close()]);
});

const url = () => `${svc.url}${PATH}`;
/** a valid call with full prefetch: an authenticated caller gets the dose card (the FHIR server at :9 is never needed) */
const body = () => JSON.stringify(orderSelectBody('http://127.0.0.1:9'));
const expectDoseCard = (r: { status: number; json: any }) => {
  expect(r.status).toBe(200);
  expect(proposedDoses(r.json)).toHaveLength(1);
};

/** POST with a raw Authorization header over node:http (fetch would refuse some of these values). */
function rawPost(authorization: string): Promise<{ status: number; text: string; ms: number; error?: string }> {
  const t0 = performance.now();
  const payload = body();
  return new Promise((resolve) => {
    const req = request(url(), { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - t0 }));
    });
    // the server may answer 431 and hang up while we are still sending a 1 MB header: that is a refusal too
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ status: 0, text: '', ms: performance.now() - t0, error: e.code ?? e.message }));
    req.end(payload);
  });
}

async function post(authorization: string): Promise<{ status: number; json: any; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: body() });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, ms: performance.now() - t0 };
}

describe('oversized Authorization headers', () => {
  test.each([
    ['9 KB (over the 8 KB token limit, under Node’s header limit)', 9 * 1024],
    ['64 KB', 64 * 1024],
    ['1 MB', 1024 * 1024],
  ])('%s → 401 or 431 (or the connection refused), never 5xx, quickly', async (_n, size) => {
    const r = await rawPost(`Bearer ${'A'.repeat(size)}`);
    if (r.status !== 0) expect([401, 431]).toContain(r.status);
    else expect(r.error).toMatch(/ECONNRESET|EPIPE|socket hang up/);
    expect(r.ms).toBeLessThan(2000);
  });

  test('a validly signed token padded to 64 KB with a real signature is refused the same way', async () => {
    const t = await svc.ehr.sign(url(), { claims: { pad: 'x'.repeat(64 * 1024) } });
    const r = await rawPost(`Bearer ${t}`);
    if (r.status !== 0) expect([401, 431]).toContain(r.status);
    expect(r.ms).toBeLessThan(2000);
  });

  test('the service answers normally afterwards', async () => {
    expectDoseCard(await post(await svc.ehr.bearer(url())));
  });
});

describe('JWS header extensions', () => {
  test('b64:false (payload signed raw) and an unknown crit are refused with 401 through the service', async () => {
    const raw = Buffer.from(JSON.stringify(standardClaims(svc.ehr.iss, url()))).toString('base64url');
    const unencoded = signRawJws(svc.ehr, { b64: false, crit: ['b64'] }, raw);
    const crit = signRawJws(svc.ehr, { crit: ['urn:example:policy'], 'urn:example:policy': 'x' }, Buffer.from(JSON.stringify(standardClaims(svc.ehr.iss, url()))).toString('base64url'));
    for (const t of [unencoded, crit]) {
      const r = await post(`Bearer ${t}`);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: 'unauthorized' });
    }
    expectDoseCard(await post(await svc.ehr.bearer(url())));
  });
});

describe('jku', () => {
  test('a jku on a host that is not allowlisted: 401, and that host receives zero requests', async () => {
    const tokens = [
      // a trusted iss (inline keys) pointing jku at the attacker's key set
      await svc.ehr.sign(url(), { header: { jku: `${evil.url}/jwks.json` } }),
      // the jku client with a lookalike of its allowlisted URL on the evil port
      await jkuEhr.sign(url(), { header: { jku: jwks.url.replace(/:\d+\//, `:${new URL(evil.url).port}/`) } }),
      await jkuEhr.sign(url(), { header: { jku: `${jwks.url}?redirect=${encodeURIComponent(evil.url)}` } }),
      await jkuEhr.sign(url(), { header: { jku: `${evil.url}/.well-known/jwks.json#${jwks.url}` } }),
      await jkuEhr.sign(url(), { header: { jku: jwks.url.replace('http://', `http://${new URL(evil.url).host}@`) } }),
      // unknown iss with a jku (nothing to allowlist against)
      craftToken({ alg: 'ES384', typ: 'JWT', kid: 'k', jku: `${evil.url}/jwks.json` }, standardClaims('https://rogue.test', url()), 'c2ln'),
    ];
    for (const t of tokens) {
      const r = await post(`Bearer ${t}`);
      expect(r.status).toBe(401);
      expect(r.json).toEqual({ error: 'unauthorized' });
    }
    expect(evil.requests).toEqual([]);
  });

  test('allowlisted jku: works; after its server goes down, cached keys keep working', async () => {
    const before = jwks.requests.length;
    expectDoseCard(await post(await jkuEhr.bearer(url())));
    expect(jwks.requests.length).toBeGreaterThan(before);
    await jwks.close();
    for (let i = 0; i < 3; i++) {
      const r = await post(await jkuEhr.bearer(url()));
      expectDoseCard(r);
      expect(r.ms).toBeLessThan(3000);
    }
  });

  test('forged kids for a jku client while its key server is down: 401, quickly, no pile-up', async () => {
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: 20 }, async (_, i) => post(await jkuEhr.bearer(url(), { header: { kid: `forged-${i}` } }))));
    expect(rs.every((r) => r.status === 401)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(5000); // key-set fetch timeout (2 s) at most once, with the cooldown
    expectDoseCard(await post(await jkuEhr.bearer(url())));
  });
});

describe('floods', () => {
  test('200 tokens with bad signatures, concurrently: all 401, no 5xx, the service still serves', async () => {
    const good = await svc.ehr.sign(url());
    const [h, p] = good.split('.');
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: 200 }, (_, i) => post(`Bearer ${h}.${p}.${Buffer.from(`sig-${i}`).toString('base64url')}`)));
    expect(rs.every((r) => r.status === 401)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(10000);
    expectDoseCard(await post(await svc.ehr.bearer(url())));
  });

  test('hostile header and claim values: 401, never 5xx', async () => {
    const claims = standardClaims(svc.ehr.iss, url());
    const values = [
      craftToken({ alg: 'ES384', typ: 'JWT', kid: svc.ehr.kid, jku: ['a', 'b'] }, claims, 'c2ln'),
      craftToken({ alg: 'ES384', typ: 'JWT', kid: { $ne: null } }, claims, 'c2ln'),
      craftToken({ alg: 'ES384', typ: 'JWT', kid: svc.ehr.kid, crit: ['exp'] }, claims, 'c2ln'),
      craftToken({ alg: 'ES384', typ: 'JWT', kid: svc.ehr.kid, __proto__: { alg: 'none' } } as Record<string, unknown>, claims, 'c2ln'),
      craftToken({ alg: 'ES384', typ: 'JWT', kid: svc.ehr.kid }, { ...claims, exp: 1e308, iat: -1e308 }, 'c2ln'),
      craftToken({ alg: 'ES384', typ: 'JWT', kid: svc.ehr.kid }, { ...claims, aud: Array.from({ length: 500 }, () => url()) }, 'c2ln'),
      craftToken({ alg: 'ES384', typ: 'JWT', kid: '../../../../etc/passwd' }, claims, 'c2ln'),
      `${Buffer.from('{"alg":"ES384","typ":"JWT","kid":"k","kid":"' + svc.ehr.kid + '"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.c2ln`,
    ];
    for (const v of values) {
      const r = await post(`Bearer ${v}`);
      expect([401, 431]).toContain(r.status); // 431: the 500-entry aud makes the header larger than Node accepts
    }
    expectDoseCard(await post(await svc.ehr.bearer(url())));
  });
});
