// Hostile input (issue #7), malformed FHIR and where the EHR token goes: malformed resources in prefetch and in the
// answers to the service's own queries, paging links to another host (never followed: a local server on another port
// stands in for that host and must receive nothing), fhirServer spellings that lead elsewhere, and a hostile patientId
// (test/support/hostile-input.ts).
//
// Reproduce a failure: FC_SEED=<seed printed in the failure> FC_RUNS=<n> (FC_SHRINK=1 to shrink the counterexample).
import fc from 'fast-check';
import { assertInvariant, callHook, fcParams, FHIR_DEADLINE_MS, MAX_MS, REQUEST_DEADLINE_MS, SEED, useHostileInputServices } from '../support/hostile-input.js';
import { invariantViolations, orderSelectBody, proposedDoses, writeJson } from '../support/robustness.js';
import { startTestService, type TestService } from '../support/service.js';

const env = useHostileInputServices();

describe('malformed FHIR resources in prefetch', () => {
  const KEYS = ['patient', 'weight', 'height', 'renal', 'inr', 'genomics', 'medicationRequests', 'medicationStatements', 'conditions'];
  const obsBase = { resourceType: 'Observation', id: 'm-1', status: 'final', subject: { reference: 'Patient/pgx-1' }, effectiveDateTime: '2026-10-01' };
  const nextTo = (url: unknown) => ({ resourceType: 'Bundle', type: 'searchset', entry: [], link: [{ relation: 'next', url }] });
  const malformed = (): fc.Arbitrary<unknown> =>
    fc.oneof(
      fc.constantFrom<unknown>(
        { resourceType: 'Patient', id: 'pgx-1' },
        { resourceType: 'Observation', id: 'pgx-1' },
        { resourceType: 'Bundle' },
        { resourceType: 'Bundle', entry: 'not an array' },
        { resourceType: 'Bundle', entry: { resource: { resourceType: 'Patient', id: 'pgx-1' } } },
        { resourceType: 'Bundle', entry: [null, 0, 'x', [], {}, { resource: null }, { resource: 'x' }, { resource: { resourceType: 5 } }, { resource: [] }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase } }] }, // no code
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: 'weight' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: 'x' } } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [null, { system: 'http://loinc.org', code: '29463-7' }] }, valueQuantity: '80 kg' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [{ system: 'http://loinc.org', code: '29463-7' }] }, valueQuantity: { value: '80', code: 'kg' } } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [{ system: 'http://loinc.org', code: '8302-2' }] }, valueQuantity: null, subject: 'Patient/pgx-1' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [{ system: 'http://loinc.org', code: '84413-4' }] }, valueCodeableConcept: 'CYP2C9 *1/*3', component: 'x' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { ...obsBase, code: { coding: [{ system: 'http://loinc.org', code: '84413-4' }] }, component: [null, { code: null }, { valueCodeableConcept: { coding: [{ code: null }] } }] } }] },
        { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationRequest', id: 'm', status: 'active', subject: { reference: 'Patient/pgx-1' }, medicationReference: { reference: '#x' }, contained: 'x' } }] },
        { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'MedicationStatement', status: 'active', subject: { reference: 'Patient/pgx-1' }, medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: 833528 }] } } }] },
        { resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Condition', subject: { reference: 'Patient/pgx-1' }, code: { coding: 5, text: 7 } } }] },
        { resourceType: 'Patient', id: 'pgx-1', birthDate: 19600501, gender: 5, extension: 'x' },
        { resourceType: 'Patient', id: 'pgx-1', birthDate: '1960-05-01', extension: [{ url: 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race', extension: [null, { url: 'ombCategory' }, { url: 'ombCategory', valueCoding: 'x' }] }] },
        { resourceType: 'Bundle', link: 'garbage' },
        { resourceType: 'Bundle', link: [null, 5, 'x', { relation: 'next' }] },
        nextTo(5),
        nextTo(''),
        nextTo('javascript:alert(1)'),
        nextTo('data:application/json,{"resourceType":"Bundle"}'),
        nextTo('file:///etc/passwd'),
        nextTo('::::'),
        { resourceType: 'OperationOutcome' },
        { resourceType: 'OperationOutcome', issue: 'x' },
        { resourceType: 'OperationOutcome', issue: [null, { severity: 'fatal' }] },
      ),
      // next links to the other host, in every spelling we could think of
      fc.constantFrom(
        () => nextTo(`${env.otherHost.url}/Observation?page=2`),
        () => nextTo(`//${env.otherHost.url.slice('http://'.length)}/Observation`),
        () => nextTo(`${env.stub.url}@${env.otherHost.url.slice('http://'.length)}/x`),
        () => nextTo(`${env.otherHost.url.replace('127.0.0.1', 'localhost')}/x`),
        () => nextTo(`${env.otherHost.url}/${env.stub.url}/Observation`),
        () => nextTo(`http:${env.otherHost.url.slice('http://'.length)}/x`),
        () => nextTo(` ${env.otherHost.url}/x`),
        () => ({ ...nextTo(`${env.stub.url}/Observation?patient=pgx-1`), link: [{ relation: 'self', url: `${env.stub.url}/x` }, { relation: 'next', url: `${env.otherHost.url}/a` }, { relation: 'next', url: `${env.stub.url}/Observation?patient=pgx-1` }] }),
      ).map((f) => f()),
    );

  test(`random malformed values for random prefetch keys (seed ${SEED})`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...KEYS), malformed(), { minKeys: 1, maxKeys: 4 }), async (bad) => {
        const b = orderSelectBody(env.stub.url);
        Object.assign(b['prefetch'] as Record<string, unknown>, bad);
        const body = writeJson(b);
        const r = await callHook(env.svc, body);
        assertInvariant(r, body);
        expect([200, 412]).toContain(r.status);
        expect(env.otherHost.requests).toEqual([]);
      }),
      fcParams(80),
    );
    expect(env.otherHost.requests).toEqual([]);
  }, 120000);

  test(`malformed answers to the service's own queries, no prefetch (seed ${SEED})`, async () => {
    const kinds = ['/Patient/', '29463-7', '8302-2', '2160-0', '6301-6', '84413-4', '/MedicationRequest', '/MedicationStatement', '/Condition'];
    const answer = fc.oneof(
      malformed().map((v) => ({ status: 200, body: writeJson(v) })),
      fc.constantFrom(
        { status: 200, body: '' },
        { status: 200, body: 'null' },
        { status: 200, body: '[]' },
        { status: 200, body: '{"resourceType":"Bundle","entry":[' },
        { status: 200, body: '\u0000\u0001' },
        { status: 200, body: '{"resourceType":"Patient","id":"pgx-1","birthDate":"1960-05-01","__proto__":{"id":"x"}}' },
        { status: 404, body: '{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}' },
        { status: 410, body: '' },
        { status: 301, body: '' },
        { status: 500, body: '<html>' },
        { status: 200, body: writeJson({ resourceType: 'Bundle', entry: [{ resource: { resourceType: 'Patient', id: 'pgx-1', birthDate: '1960-05-01' } }] }) },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...kinds), answer, { minKeys: 1, maxKeys: 4 }), async (bad) => {
        env.stub.override = (u) => Object.entries(bad).find(([k]) => `${u.pathname}${u.search}`.includes(k))?.[1];
        try {
          const body = writeJson(orderSelectBody(env.stub.url, { prefetch: null }));
          const r = await callHook(env.svc, body);
          assertInvariant(r, JSON.stringify(bad).slice(0, 1500));
          expect([200, 412]).toContain(r.status);
          expect(env.otherHost.requests).toEqual([]);
        } finally {
          env.stub.override = undefined;
        }
      }),
      fcParams(60),
    );
  }, 120000);

  test('a next link to another host is never requested (the EHR token would leak)', async () => {
    const b = orderSelectBody(env.stub.url);
    const pre = b['prefetch'] as Record<string, unknown>;
    for (const k of ['weight', 'height', 'renal', 'inr', 'genomics', 'medicationRequests', 'conditions']) pre[k] = nextTo(`${env.otherHost.url}/${k}?_page=2`);
    const r = await callHook(env.svc, writeJson(b));
    expect(r.status).toBe(200);
    expect(env.otherHost.requests).toEqual([]);
    // the same with no fhirServer at all (nothing to compare the origin with)
    delete b['fhirServer'];
    delete b['fhirAuthorization'];
    const r2 = await callHook(env.svc, writeJson(b));
    expect(r2.status).toBe(200);
    expect(env.otherHost.requests).toEqual([]);
  });
});

describe('where the service sends the EHR token', () => {
  let allow: TestService; // FHIR_ALLOWED_SERVERS = the stub only
  beforeAll(async () => {
    allow = await startTestService({ 'fhir.deadlineMs': FHIR_DEADLINE_MS, requestDeadlineMs: REQUEST_DEADLINE_MS, 'fhir.allowedServers': [env.stub.url] });
  });
  afterAll(async () => {
    await allow?.close();
  });

  test('fhirServer spellings that lead elsewhere are refused (412), and the other host hears nothing', async () => {
    const o = new URL(env.otherHost.url);
    const st = new URL(env.stub.url);
    const variants = [
      env.otherHost.url,
      `${env.otherHost.url}/`,
      `HTTP://${o.host}`,
      `http://${st.host}@${o.host}`,
      `http://user:pass@${st.host}`,
      `http://${o.host}/?${env.stub.url}`,
      `http://${o.host}#${env.stub.url}`,
      `http://${o.host}/${env.stub.url}`,
      `http://0x7f.0.0.1:${o.port}`,
      `http://2130706433:${o.port}`,
      `http://[::ffff:127.0.0.1]:${o.port}`,
      `http://localhost:${o.port}`,
      `${env.stub.url}.${o.host}`,
      `${env.stub.url}/..${o.port}`,
    ];
    for (const fhirServer of variants) {
      const r = await callHook(allow, writeJson(orderSelectBody(fhirServer, { prefetch: null })));
      expect(invariantViolations(r, MAX_MS)).toEqual([]);
      expect([400, 412]).toContain(r.status);
    }
    expect(env.otherHost.requests).toEqual([]);
    // the allowed server itself works
    const ok = await callHook(allow, writeJson(orderSelectBody(env.stub.url, { prefetch: null })));
    expect(proposedDoses(ok.json)).toHaveLength(1);
  });

  test('a hostile patientId cannot change which FHIR paths are queried', async () => {
    const before = env.stub.requests.length;
    const b = orderSelectBody(env.stub.url, { prefetch: null, patientId: '../../admin?_format=xml&x=#/Patient/pgx-1' });
    const r = await callHook(env.svc, writeJson(b));
    expect(invariantViolations(r, MAX_MS)).toEqual([]);
    // the patient id must be a FHIR id (issue 21): refused before any query is made
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.json)).toMatch(/context\.patientId: must be a FHIR id/);
    expect(env.stub.requests.slice(before)).toEqual([]);
  });
});
