// CDS Hooks 2.0, FHIR resource access (requirement 61 of the service requirement list): "CDS Services present a valid
// access token to the FHIR server with each API call". A hook call that names `fhirServer` but carries no
// `fhirAuthorization` is answered from prefetch only, even when that server is named for the client (`fhirServers`)
// and would answer without a token. The one exception is a server the operator lists in the client's
// `openFhirServers` (public synthetic data, e.g. the CDS Hooks Sandbox's default server): it is queried, without any
// Authorization header. Real service, real FHIR test server that needs no token (so a query would succeed: 0 requests
// is the service's choice, not the server's refusal).
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { orderSelectBody } from '../support/robustness.js';
import { startTestService, type TestService } from '../support/service.js';
import { syntheticResources } from '../fixtures/synthetic-patients.js';
import { parseTrustedClients } from '../../src/cds/trustedClients.js';
import { readFileSync } from 'node:fs';

let fhir: RunningFhirServer; // open: answers without a token
let svc: TestService;

beforeAll(async () => {
  fhir = await startFhirServer({ seed: syntheticResources() });
  svc = await startTestService({ 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000 });
  svc.allowFhirServer(fhir.url);
}, 30000);
afterAll(async () => {
  await Promise.all([svc?.close(), fhir?.stop()]);
});
beforeEach(async () => {
  await fhir.admin.clearRequests();
  svc.ehr.trusted.openFhirServers = undefined;
});

function tokenless(prefetch: 'none' | 'full'): Record<string, unknown> {
  const body = orderSelectBody(fhir.url, prefetch === 'none' ? { prefetch: null } : {});
  delete body['fhirAuthorization'];
  return body;
}

describe('no fhirAuthorization → no FHIR query (prefetch only)', () => {
  test('without prefetch: no request reaches the server, and the answer is 412 (the Patient could not be read)', async () => {
    const r = await svc.hook('dosing-order-select', tokenless('none'));
    expect(r.status).toBe(412);
    expect(await fhir.admin.requests()).toHaveLength(0);
  });
  test('with full prefetch: the cards come from the prefetch, no request reaches the server', async () => {
    const r = await svc.hook('dosing-order-select', tokenless('full'));
    expect(r.status).toBe(200);
    expect(r.json.cards.length).toBeGreaterThan(0);
    expect(await fhir.admin.requests()).toHaveLength(0);
  });
  test('with the token, the same server is queried with it (the rule is about the missing token, not the server)', async () => {
    const body = orderSelectBody(fhir.url, { prefetch: null });
    const r = await svc.hook('dosing-order-select', body);
    expect(r.status).toBe(200);
    const requests = await fhir.admin.requests();
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((q) => q.bearer === true)).toBe(true);
  });
});

describe('openFhirServers: an operator-named public test server is queried without a token', () => {
  test('named open → queried, no Authorization header sent, the warfarin card is computed from its data', async () => {
    svc.ehr.trusted.openFhirServers = [fhir.url];
    const r = await svc.hook('dosing-order-select', tokenless('none'));
    expect(r.status).toBe(200);
    expect(r.json.cards.length).toBeGreaterThan(0);
    const requests = await fhir.admin.requests();
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((q) => !q.bearer)).toBe(true);
  });
  test('open for another path only → not queried', async () => {
    svc.ehr.trusted.openFhirServers = [`${fhir.url}/other`];
    const r = await svc.hook('dosing-order-select', tokenless('none'));
    expect(r.status).toBe(412);
    expect(await fhir.admin.requests()).toHaveLength(0);
  });
  test('the shipped clients file names the sandbox’s public default server as open, and as one of its fhirServers', () => {
    const shipped = parseTrustedClients(JSON.parse(readFileSync('config/cds-clients.json', 'utf8')));
    const sandbox = shipped.clients.find((c) => c.iss === 'https://sandbox.cds-hooks.org')!;
    expect(sandbox.openFhirServers).toEqual(['https://launch.smarthealthit.org/v/r4/fhir']);
    expect(sandbox.fhirServers).toContain('https://launch.smarthealthit.org/v/r4/fhir');
  });
  test('a bad openFhirServers entry is a configuration error', () => {
    expect(() => parseTrustedClients({ clients: [{ iss: 'x', jku: ['https://x.example/jwks'], openFhirServers: ['ftp://x'] }] })).toThrow(/openFhirServers|FHIR base URL/);
  });
});
