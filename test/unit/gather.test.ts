// Bounded work per prefetch key (src/fhir/gather.ts): a Bundle with more resources than any search asks for is cut to
// MAX_RESOURCES_PER_KEY, first (newest, as the templates sort) kept, and the key is marked incomplete.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import type { Bundle, Observation } from 'fhir/r4';
import { DEFAULT_MAX_RESPONSE_BYTES, gatherData, MAX_RESOURCES_PER_KEY } from '../../src/fhir/gather.js';
import { FETCH_ERRORS } from '../../src/fhir/fetchErrors.js';

const weight = (i: number): Observation => ({
  resourceType: 'Observation',
  id: `w${i}`,
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] },
  subject: { reference: 'Patient/p1' },
  valueQuantity: { value: 70, code: 'kg', system: 'http://unitsofmeasure.org' },
});
const bundle = (n: number): Bundle => ({ resourceType: 'Bundle', type: 'searchset', entry: Array.from({ length: n }, (_, i) => ({ resource: weight(i) })) });
const gather = (prefetch: Record<string, unknown>) =>
  gatherData({ queries: { weight: undefined }, prefetch, fhirServer: undefined, fhirAuthorization: undefined, deadlineMs: 1000, maxPages: 5, policy: { allowedServers: [], allowInsecureLoopback: false } });

test.each([
  [10, 10, false],
  [MAX_RESOURCES_PER_KEY, MAX_RESOURCES_PER_KEY, false],
  [MAX_RESOURCES_PER_KEY + 1, MAX_RESOURCES_PER_KEY, true],
  [70_000, MAX_RESOURCES_PER_KEY, true],
])('a prefetch Bundle of %i resources → %i kept, incomplete: %s', async (n, kept, incomplete) => {
  const g = await gather({ weight: bundle(n) });
  expect(g.byKey['weight']!.resources).toHaveLength(kept);
  expect(g.byKey['weight']!.resources[0]!.id).toBe('w0');
  expect(g.byKey['weight']!.incomplete === true).toBe(incomplete);
  expect(g.byKey['weight']!.status).toBe('prefetch');
});

describe('byte cap on FHIR answers (maxResponseBytes)', () => {
  // Source: the product rule "a failing FHIR server → answer within the deadline; missing data → say what is missing":
  // an answer over the cap fails its key like any failed query (short PHI-free reason), and nothing of it is used.
  const CAP = 64 * 1024;
  const seen: { url: string; acceptEncoding: string | undefined }[] = [];
  let server: Server;
  let base: string;
  /** a valid Bundle of one weight Observation, padded with JSON whitespace to exactly `size` bytes */
  const padded = (size: number): Buffer => {
    const json = JSON.stringify(bundle(1));
    return Buffer.from(json.slice(0, -1) + ' '.repeat(size - json.length) + '}');
  };
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', acceptEncoding: req.headers['accept-encoding'] });
      res.on('error', () => undefined); // the client hangs up on refused answers
      const path = (req.url ?? '').replace(/\?.*$/, '');
      const json = { 'content-type': 'application/fhir+json' };
      if (path === '/cl-at-cap') return void res.writeHead(200, { ...json, 'content-length': CAP }).end(padded(CAP));
      if (path === '/cl-over-cap') return void res.writeHead(200, { ...json, 'content-length': CAP + 1 }).end(padded(CAP + 1));
      if (path === '/cl-huge-no-body') return void res.writeHead(200, { ...json, 'content-length': 2 ** 30 }).flushHeaders(); // never sends the body
      if (path === '/chunked-under-cap' || path === '/chunked-over-cap') {
        const body = padded(path === '/chunked-over-cap' ? 4 * CAP : CAP - 1000);
        res.writeHead(200, json); // no Content-Length: chunked
        for (let i = 0; i < body.length; i += 4096) res.write(body.subarray(i, i + 4096));
        return void res.end();
      }
      if (path === '/gzip') return void res.writeHead(200, { ...json, 'content-encoding': 'gzip' }).end(gzipSync(padded(10 * CAP)));
      res.writeHead(200, json).end(JSON.stringify(bundle(2)));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const query = async (path: string) => {
    const calls: { ok: boolean }[] = [];
    const g = await gatherData({
      queries: { weight: `${path}?code=29463-7` },
      prefetch: undefined,
      fhirServer: base,
      fhirAuthorization: undefined,
      deadlineMs: 5000,
      maxPages: 5,
      maxResponseBytes: CAP,
      policy: { allowedServers: [base], allowInsecureLoopback: true },
      onCall: (e) => calls.push(e),
    });
    return { key: g.byKey['weight']!, calls };
  };

  test.each([
    ['Content-Length one byte over the cap', '/cl-over-cap', FETCH_ERRORS.tooLarge],
    ['a chunked body (no Content-Length) four times the cap', '/chunked-over-cap', FETCH_ERRORS.tooLarge],
    ['a content-encoded answer although identity was asked for (small on the wire, 10 × the cap inflated)', '/gzip', FETCH_ERRORS.encoded],
  ])('%s → the key fails, "%s", no resources', async (_n, path, reason) => {
    const { key, calls } = await query(path);
    expect(key).toEqual({ resources: [], status: 'failed', error: reason });
    expect(calls).toEqual([expect.objectContaining({ ok: false })]);
  });

  test('Content-Length over the cap is refused at the headers, without waiting for the body', async () => {
    const t0 = performance.now();
    const { key } = await query('/cl-huge-no-body');
    expect(key.error).toBe(FETCH_ERRORS.tooLarge); // not "timeout": nothing of the body was awaited
    expect(performance.now() - t0).toBeLessThan(2000); // the deadline is 5 s
  });

  test.each([
    ['Content-Length exactly the cap', '/cl-at-cap'],
    ['a chunked body just under the cap', '/chunked-under-cap'],
    ['a small answer after refused ones (the connection pool is not poisoned)', '/small'],
  ])('%s → used', async (_n, path) => {
    const { key } = await query(path);
    expect(key.status).toBe('query');
    expect(key.error).toBeUndefined();
    expect(key.resources.length).toBeGreaterThan(0);
    expect(key.resources[0]!.id).toBe('w0');
  });

  test('every query asks for identity encoding (the cap then bounds what is parsed)', () => {
    expect(seen.length).toBeGreaterThan(0);
    for (const s of seen) expect(s.acceptEncoding).toBe('identity');
  });

  test('the default cap is the configured default', async () => {
    expect(DEFAULT_MAX_RESPONSE_BYTES).toBe(8 * 1024 * 1024);
  });
});
