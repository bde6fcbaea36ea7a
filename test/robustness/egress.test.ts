// Where the EHR's bearer token may go (issue 21 scope 2), through the REAL service: a trusted client naming a
// `fhirServer` that is not among the FHIR servers named for its issuer (clients file `fhirServers`, or the global
// `fhir.allowedServers`) gets no request sent there. Every spelling below points at a real FHIR test server (or the
// service itself), which counts the requests it receives: 0. Prefetch is still used; the 412/card says, in fixed words,
// what could not be fetched, and never a network error code.
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { makeTestClient, type TestClient } from '../support/jwt.js';
import { FHIR_TOKEN, fullPrefetch, orderSelectBody, proposedDoses, writeJson } from '../support/robustness.js';
import { startTestService, type TestService } from '../support/service.js';
import { syntheticResources } from '../fixtures/synthetic-patients.js';

const NOT_ALLOWED = 'the FHIR server is not allowed for this client';
const LOW_LEVEL = /ECONN|ENOTFOUND|EAI_AGAIN|ERR_SSL|ERR_TLS|CERT|HTTP \d{3}|UND_ERR|socket|TypeError|fetch failed/i;

let fhir: RunningFhirServer; // named for `other` only
let svc: TestService; // development setting on (loopback allowed), as in every test
let prod: TestService; // the shipped default: allowInsecureLoopback false
let other: TestClient; // another trusted issuer, whose server the test EHR must not reach

beforeAll(async () => {
  fhir = await startFhirServer({ token: FHIR_TOKEN, seed: syntheticResources() });
  other = await makeTestClient({ alg: 'ES384', iss: 'https://other-ehr.test.local' });
  other.trusted.fhirServers = [fhir.url];
  [svc, prod] = await Promise.all([
    startTestService({ 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000 }, [other]),
    startTestService({ 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000, 'fhir.allowInsecureLoopback': false }),
  ]);
  svc.allowFhirServer('https://ehr.test.local/fhir'); // the test EHR's own (unreachable here) server
}, 30000);
afterAll(async () => {
  await Promise.all([svc?.close(), prod?.close(), fhir?.stop()]);
});
beforeEach(async () => {
  await fhir.admin.clearRequests();
});

const noPrefetch = (fhirServer: string) => writeJson(orderSelectBody(fhirServer, { prefetch: null }));
const hook = (s: TestService, body: string) => s.post('/cds-services/dosing-order-select', body);

describe('the SSRF table: the test EHR names these fhirServer values, none of them named for it → 0 requests', () => {
  const port = () => new URL(fhir.url).port;
  const rows: [string, () => string][] = [
    ['another issuer’s server (exactly as named for it)', () => fhir.url],
    ['the same server with a trailing path', () => `${fhir.url}/Patient`],
    ['https to that loopback port', () => `https://127.0.0.1:${port()}`],
    ['localhost instead of 127.0.0.1', () => `http://localhost:${port()}`],
    ['another loopback address', () => `http://127.0.0.2:${port()}`],
    ['IPv4 in decimal (2130706433 = 127.0.0.1)', () => `http://2130706433:${port()}`],
    ['IPv6 loopback', () => `http://[::1]:${port()}`],
    ['the service’s own /admin', () => `${svc.url}/admin`],
    ['a loopback port scan (discard port)', () => 'http://127.0.0.1:9'],
    ['lookalike host: the EHR’s host as a prefix of another', () => `https://ehr.test.local.127.0.0.1.nip.io:${port()}/fhir`],
    ['lookalike path: sibling of the named path', () => 'https://ehr.test.local/fhir-admin'],
    ['userinfo: the named host as the user part', () => `http://ehr.test.local@127.0.0.1:${port()}/fhir`],
    ['userinfo: the named URL as user:password', () => `http://ehr.test.local:fhir@127.0.0.1:${port()}`],
    ['dot segments out of the named path', () => `https://ehr.test.local/fhir/../admin`],
    ['plain http to the named host', () => 'http://ehr.test.local/fhir'],
  ];
  test.each(rows)('%s', async (_n, target) => {
    const r = await hook(svc, noPrefetch(target()));
    expect(r.status).toBe(412);
    expect(r.json.details).toEqual([`patient: ${NOT_ALLOWED}`]);
    expect(r.text).not.toMatch(LOW_LEVEL);
    expect(await fhir.admin.requests()).toEqual([]);
  });

  test('the other issuer itself reaches its own server (the server counts those requests)', async () => {
    const aud = `${svc.url}/cds-services/dosing-order-select`;
    const res = await fetch(aud, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await other.bearer(aud) }, body: noPrefetch(fhir.url) });
    expect(res.status).toBe(200);
    expect((await fhir.admin.requests()).length).toBeGreaterThan(0);
  });
});

describe('prefetch is still used; what could not be fetched is said in fixed words', () => {
  test('full prefetch with a fhirServer not named: the dose card, 0 requests', async () => {
    const r = await hook(svc, writeJson(orderSelectBody(fhir.url)));
    expect(r.status).toBe(200);
    expect(proposedDoses(r.json)).toHaveLength(1);
    expect(await fhir.admin.requests()).toEqual([]);
  });

  test('genomics not prefetched: the card says genotypes could not be retrieved, 0 requests', async () => {
    const prefetch = fullPrefetch('pgx-1');
    delete prefetch['genomics'];
    const r = await hook(svc, writeJson(orderSelectBody(fhir.url, { prefetch })));
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.json)).toMatch(/Genomic results could not be retrieved/);
    expect(r.text).not.toMatch(LOW_LEVEL);
    expect(await fhir.admin.requests()).toEqual([]);
  });

  test('a named server that is down: "could not be reached", never ECONNREFUSED', async () => {
    svc.allowFhirServer('http://127.0.0.1:9');
    const r = await hook(svc, noPrefetch('http://127.0.0.1:9'));
    expect(r.status).toBe(412);
    expect(r.json.details).toEqual(['patient: the FHIR server could not be reached']);
    expect(r.text).not.toMatch(LOW_LEVEL);
  });

  test('a named server answering 404: "refused the query", never "HTTP 404"', async () => {
    svc.allowFhirServer(`${fhir.url}/nowhere`);
    const r = await hook(svc, noPrefetch(`${fhir.url}/nowhere`));
    expect(r.status).toBe(412);
    expect(r.json.details).toEqual(['patient: the FHIR server refused the query']);
    expect(r.text).not.toMatch(LOW_LEVEL);
  });
});

describe('the shipped default (no development setting): loopback is never contacted, even when named', () => {
  test('http and https to the loopback FHIR server, named for the EHR → 0 requests', async () => {
    prod.allowFhirServer(fhir.url, fhir.url.replace('http:', 'https:'));
    for (const target of [fhir.url, fhir.url.replace('http:', 'https:')]) {
      const r = await hook(prod, noPrefetch(target));
      expect(r.status).toBe(412);
      expect(r.json.details).toEqual([`patient: ${NOT_ALLOWED}`]);
    }
    expect(await fhir.admin.requests()).toEqual([]);
  });
});
