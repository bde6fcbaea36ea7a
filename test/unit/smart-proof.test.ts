// AccessProver (src/smart/proof.ts): the allowlist is mandatory, the FHIR read decides, successes are cached briefly
// by a hash (never the token), and redirects are never followed.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AccessProver } from '../../src/smart/proof.js';
import { smartAppCsp } from '../../src/smart/router.js';
import { loadConfig, smartLaunchUrl } from '../../src/config.js';

const FHIR = 'https://ehr.example.org/fhir';
type Call = { url: string; init: RequestInit };

function prover(answer: (url: string) => Response | Promise<Response>, o: Partial<ConstructorParameters<typeof AccessProver>[0]> = {}) {
  const calls: Call[] = [];
  let now = 1_000_000;
  const p = new AccessProver({
    allowedServers: [FHIR],
    allowInsecureLoopback: false,
    cacheSeconds: 60,
    timeoutMs: 500,
    now: () => now,
    fetch: (async (url: string, init: RequestInit) => {
      calls.push({ url, init });
      return answer(url);
    }) as unknown as typeof fetch,
    ...o,
  });
  return { p, calls, advance: (ms: number) => (now += ms) };
}

const patient = (id: string) => new Response(JSON.stringify({ resourceType: 'Patient', id }), { status: 200 });
const claim = { token: 'tok-1', fhirServer: FHIR, patientId: 'p1' };

test('an empty allowlist refuses everything (never "any https server")', async () => {
  const { p, calls } = prover(() => patient('p1'), { allowedServers: [] });
  await expect(p.prove(claim)).resolves.toEqual({ ok: false, reason: 'server-not-allowed' });
  expect(calls).toHaveLength(0);
});

test('reads Patient/<id> with the token, no redirects followed; the success is cached for cacheSeconds', async () => {
  const { p, calls, advance } = prover(() => patient('p1'));
  await expect(p.prove(claim)).resolves.toEqual({ ok: true, cached: false });
  expect(calls[0]!.url).toBe(`${FHIR}/Patient/p1`);
  expect((calls[0]!.init.headers as Record<string, string>)['authorization']).toBe('Bearer tok-1');
  expect(calls[0]!.init.redirect).toBe('manual');
  await expect(p.prove(claim)).resolves.toEqual({ ok: true, cached: true });
  await expect(p.prove({ ...claim, fhirServer: `${FHIR}/` })).resolves.toEqual({ ok: true, cached: true });
  expect(calls).toHaveLength(1);
  // another token, or another patient, is proven on its own
  await p.prove({ ...claim, token: 'tok-2' });
  expect(calls).toHaveLength(2);
  advance(61_000);
  await expect(p.prove(claim)).resolves.toEqual({ ok: true, cached: false });
  expect(calls).toHaveLength(3);
});

/** A JWT-shaped token (unsigned: the prover never verifies it, it only reads exp to shorten the cache). */
const jwtWithExp = (expSeconds: number) => `${Buffer.from('{"alg":"RS384"}').toString('base64url')}.${Buffer.from(JSON.stringify({ exp: expSeconds })).toString('base64url')}.sig`;

test('a cached proof never outlives the token: a JWT expiring in 10 s is re-checked after 10 s, not after cacheSeconds (60)', async () => {
  const { p, calls, advance } = prover(() => patient('p1')); // now = 1,000,000 ms
  const token = jwtWithExp(1_000_000 / 1000 + 10);
  await expect(p.prove({ ...claim, token })).resolves.toEqual({ ok: true, cached: false });
  advance(9_000);
  await expect(p.prove({ ...claim, token })).resolves.toEqual({ ok: true, cached: true });
  advance(2_000); // past exp: the FHIR server decides again (a real one answers 401)
  await expect(p.prove({ ...claim, token })).resolves.toEqual({ ok: true, cached: false });
  expect(calls).toHaveLength(2);
});

test('an already expired JWT is never cached; an opaque or malformed token keeps cacheSeconds', async () => {
  const { p, calls } = prover(() => patient('p1'));
  const expired = jwtWithExp(1_000_000 / 1000 - 1);
  await p.prove({ ...claim, token: expired });
  await p.prove({ ...claim, token: expired });
  expect(calls).toHaveLength(2);
  for (const token of ['opaque-token', 'a.b.c', `x.${Buffer.from('{"exp":"soon"}').toString('base64url')}.y`]) {
    await p.prove({ ...claim, token });
    await expect(p.prove({ ...claim, token })).resolves.toEqual({ ok: true, cached: true });
  }
});

test('the Patient answer is capped like every FHIR answer (real fetch, local server): over the cap → fhir-unavailable', async () => {
  const CAP = 64 * 1024;
  const seen: (string | undefined)[] = [];
  // the Patient padded with JSON whitespace to the cap ("fits") or one byte over it ("big" with a Content-Length, "stream" chunked)
  const server = createServer((req, res) => {
    seen.push(req.headers['accept-encoding']);
    const id = /\/Patient\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '';
    const json = JSON.stringify({ resourceType: 'Patient', id });
    const size = id === 'fits' ? CAP : CAP + 1;
    const padded = `${json.slice(0, -1)}${' '.repeat(size - json.length)}}`; // exactly `size` bytes
    if (id === 'stream') {
      res.writeHead(200, { 'content-type': 'application/fhir+json' });
      res.write(padded.slice(0, 1000));
      res.end(padded.slice(1000));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/fhir+json', 'content-length': Buffer.byteLength(padded) }).end(padded);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`;
  try {
    const p = new AccessProver({ allowedServers: [base], allowInsecureLoopback: true, cacheSeconds: 0, timeoutMs: 2000, maxResponseBytes: CAP });
    await expect(p.prove({ token: 't', fhirServer: base, patientId: 'fits' })).resolves.toEqual({ ok: true, cached: false });
    await expect(p.prove({ token: 't', fhirServer: base, patientId: 'big' })).resolves.toMatchObject({ ok: false, reason: 'fhir-unavailable' });
    await expect(p.prove({ token: 't', fhirServer: base, patientId: 'stream' })).resolves.toMatchObject({ ok: false, reason: 'fhir-unavailable' });
    expect(seen.every((e) => e === 'identity')).toBe(true);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test.each([
  [401, 'token-rejected'],
  [403, 'patient-denied'],
  [404, 'patient-denied'],
  [302, 'fhir-unavailable'],
  [500, 'fhir-unavailable'],
])('FHIR answers %i → %s, and failures are not cached', async (status, reason) => {
  const { p, calls } = prover(() => new Response('{}', { status, headers: status === 302 ? { location: 'https://elsewhere.example.org/' } : {} }));
  await expect(p.prove(claim)).resolves.toMatchObject({ ok: false, reason });
  await p.prove(claim);
  expect(calls).toHaveLength(2);
});

test('a 200 that is not this Patient (another id, an OperationOutcome, not JSON) proves nothing', async () => {
  for (const body of [JSON.stringify({ resourceType: 'Patient', id: 'p2' }), JSON.stringify({ resourceType: 'OperationOutcome' }), 'not json']) {
    const { p } = prover(() => new Response(body, { status: 200 }));
    await expect(p.prove(claim)).resolves.toMatchObject({ ok: false });
  }
});

test('a network failure or timeout → fhir-unavailable', async () => {
  const { p } = prover(() => Promise.reject(new TypeError('fetch failed')));
  await expect(p.prove(claim)).resolves.toEqual({ ok: false, reason: 'fhir-unavailable' });
});

test('patient ids that are not FHIR ids and servers off the list never reach fetch', async () => {
  const { p, calls } = prover(() => patient('p1'));
  for (const c of [{ ...claim, patientId: '../Observation/x' }, { ...claim, patientId: 'a b' }, { ...claim, fhirServer: 'https://evil.example.org/fhir' }, { ...claim, fhirServer: 'https://ehr.example.org/fhirx' }]) {
    await expect(p.prove(c)).resolves.toMatchObject({ ok: false, reason: 'server-not-allowed' });
  }
  expect(calls).toHaveLength(0);
});

test('the app CSP: no inline script, connect-src = self + FHIR and auth origins, frame-ancestors from config', () => {
  const c = loadConfig({}, { 'smart.allowedFhirServers': [FHIR], 'smart.authorizationServers': ['https://auth.example.org'], 'smart.frameAncestors': ['https://ehr.example.org'] });
  expect(smartAppCsp(c)).toBe(
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' https://ehr.example.org https://auth.example.org; frame-ancestors https://ehr.example.org; base-uri 'none'; form-action 'none'",
  );
  expect(() => loadConfig({ SMART_FRAME_ANCESTORS: "https://ehr.example.org/x; script-src 'unsafe-inline'" })).toThrow(/origins/);
});

test('card links: the served app once SMART_ALLOWED_FHIR_SERVERS is set, an external app by SMART_LAUNCH_URL, else none', () => {
  expect(smartLaunchUrl(loadConfig({}, { publicBaseUrl: 'https://cds.example.org' }))).toBeUndefined();
  expect(smartLaunchUrl(loadConfig({ SMART_ALLOWED_FHIR_SERVERS: FHIR }, { publicBaseUrl: 'https://cds.example.org' }))).toBe('https://cds.example.org/smart/launch.html');
  expect(smartLaunchUrl(loadConfig({ SMART_LAUNCH_URL: 'https://apps.example.org/dosing/launch.html' }))).toBe('https://apps.example.org/dosing/launch.html');
});
