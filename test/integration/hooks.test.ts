// End to end through the real service and a real FHIR server process: prefetch, own queries, faults, paging, cards.
import { randomUUID } from 'node:crypto';
import type { Bundle, MedicationRequest } from 'fhir/r4';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { iwpcAgeDecade, iwpcClinical, iwpcPharmacogenetic } from '../../src/dosing/warfarin/iwpc.js';
import { orderSelectCall } from '../fixtures/orders.js';
import { activeMed, draftWarfarin, fullPrefetch, patient, SYNTHETIC, syntheticResources, vital } from '../fixtures/synthetic-patients.js';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { craftToken, makeTestClient, standardClaims, type TestClient } from '../support/jwt.js';
import { startTestService, type TestService } from '../support/service.js';
import { visibleText } from '../support/markdown.js';

const TOKEN = 'ehr-access-token-123';
let fhir: RunningFhirServer;
let svc: TestService;
let rsEhr: TestClient;

beforeAll(async () => {
  rsEhr = await makeTestClient({ alg: 'RS384', iss: 'https://epic-like.test.local' });
  [fhir, svc] = await Promise.all([startFhirServer({ token: TOKEN, seed: syntheticResources() }), startTestService({ 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000 }, [rsEhr])]);
  svc.allowFhirServer(fhir.url);
}, 30000);
afterAll(async () => {
  await Promise.all([fhir?.stop(), svc?.close()]);
});
beforeEach(async () => {
  await fhir.admin.setFault({ mode: 'none' });
  await fhir.admin.clearRequests();
});


const orderSelect = (patientId: string, draft: MedicationRequest, extra: Record<string, unknown> = {}) => orderSelectCall(fhir.url, TOKEN, patientId, draft, extra);


function expectedPgx1DailyMg(): number {
  const p = SYNTHETIC['pgx-1'];
  const weekly = iwpcPharmacogenetic({ ageDecade: iwpcAgeDecade(p.age(new Date())), heightCm: p.heightCm, weightKg: p.weightKg, race: p.race, cyp2c9: p.cyp2c9, vkorc1: p.vkorc1, amiodarone: true, enzymeInducer: false }).weeklyDoseMg;
  return Math.round(weekly / 7 / 0.5) * 0.5;
}

describe('discovery', () => {
  test('lists the four services with prefetch templates for dosing data', async () => {
    const res = await fetch(`${svc.url}/cds-services`, { headers: { authorization: await svc.ehr.bearer(`${svc.url}/cds-services`) } });
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { services: { hook: string; id: string; prefetch: Record<string, string> }[] };
    expect(doc.services.map((s) => s.hook).sort()).toEqual(['medication-prescribe', 'order-select', 'order-sign', 'patient-view']);
    for (const s of doc.services) {
      expect(Object.keys(s.prefetch)).toEqual(expect.arrayContaining(['patient', 'weight', 'height', 'renal', 'inr', 'genomics', 'medicationRequests', 'medicationStatements', 'conditions']));
      expect(s.prefetch['patient']).toBe('Patient/{{context.patientId}}');
    }
  });
  test('requires the client JWT', async () => {
    expect((await fetch(`${svc.url}/cds-services`)).status).toBe(401);
  });
  test('answers CORS preflight without a token', async () => {
    const res = await fetch(`${svc.url}/cds-services/dosing-order-select`, { method: 'OPTIONS', headers: { origin: 'https://sandbox.cds-hooks.org', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Authorization/);
    expect(res.headers.get('access-control-allow-headers')).toMatch(/Content-Type/);
  });
});

describe('warfarin order-select', () => {
  test('full prefetch: a conformant card with the IWPC pharmacogenetic dose, and no FHIR query made', async () => {
    const draft = draftWarfarin('mr-1', 'pgx-1', 5);
    const r = await svc.hook('dosing-order-select', orderSelect('pgx-1', draft, { prefetch: fullPrefetch('pgx-1') }));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards).toHaveLength(1);
    const card = r.json.cards[0];
    const daily = expectedPgx1DailyMg();
    expect(card.summary).toContain(`${daily} mg daily`);
    expect(card.detail).toContain('IWPC pharmacogenetic');
    expect(card.detail).toContain('Observation/pgx-1-wt'); // newest weight (lb → kg) used, with its source
    expect(visibleText(card.detail)).toContain('*1/*3');
    expect(card.detail).toContain('A/G');
    expect(card.detail).toMatch(/Amiodarone \| taking \| MedicationRequest\/pgx-1-amio/);
    const action = card.suggestions[0].actions[0];
    expect(action.type).toBe('update');
    expect(action.resource.id).toBe('mr-1');
    expect(action.resource.dosageInstruction[0].doseAndRate[0].doseQuantity).toEqual({ value: daily, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' });
    expect(action.resource.medicationCodeableConcept).toEqual(draft.medicationCodeableConcept);
    expect(action.resource.dosageInstruction[0].route).toEqual(draft.dosageInstruction![0]!.route);
    expect(card.selectionBehavior).toBe('at-most-one');
    expect(await fhir.admin.requests()).toHaveLength(0);
  });

  test('no prefetch: the service queries the FHIR server with the bearer token and reaches the same dose', async () => {
    const r = await svc.hook('dosing-order-select', orderSelect('pgx-1', draftWarfarin('mr-2', 'pgx-1')));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards[0].summary).toContain(`${expectedPgx1DailyMg()} mg daily`);
    const log = await fhir.admin.requests();
    // the shared keys and what the warfarin evaluator declares (weight, height, genotypes by code and by the genetics
    // category, INR, doses given, the patient's Devices: a home INR meter); no creatinine, vancomycin levels or dialysis Procedures
    expect(log).toHaveLength(11);
    expect(log.every((e) => e.bearer)).toBe(true);
    expect(log.some((e) => e.url.startsWith('/Patient/pgx-1'))).toBe(true);
    for (const code of ['29463-7', '8302-2', '84413-4', '6301-6']) expect([code, log.some((e) => e.url.includes(code))]).toEqual([code, true]);
    expect(log.some((e) => e.path === '/MedicationAdministration')).toBe(true);
    for (const code of ['2160-0', '20578-1']) expect([code, log.some((e) => e.url.includes(code))]).toEqual([code, false]);
    expect(log.some((e) => e.path === '/Procedure')).toBe(false);
  });

  test('clinical equation when no genotype is on file (height in inches converted)', async () => {
    const p = SYNTHETIC['clin-1'];
    const weekly = iwpcClinical({ ageDecade: iwpcAgeDecade(p.age(new Date())), heightCm: p.heightCm, weightKg: p.weightKg, race: 'Asian', amiodarone: false, enzymeInducer: false }).weeklyDoseMg;
    const r = await svc.hook('dosing-order-select', orderSelect('clin-1', draftWarfarin('mr-3', 'clin-1')));
    expect(r.status).toBe(200);
    expect(r.json.cards[0].summary).toContain(`${Math.round(weekly / 7 / 0.5) * 0.5} mg daily`);
    expect(r.json.cards[0].summary).toContain('clinical');
  });

  test('missing height: a card that says what is missing and proposes no dose', async () => {
    const r = await svc.hook('dosing-order-select', orderSelect('nohgt-1', draftWarfarin('mr-4', 'nohgt-1', 5)));
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    const card = r.json.cards[0];
    expect(card.summary).toMatch(/not personalized: missing body height/);
    expect(card.suggestions).toBeUndefined();
    expect(card.detail).not.toMatch(/Suggested starting dose/);
  });

  test('partial prefetch: null weight means "no data"; an OperationOutcome is re-fetched; absent keys are fetched', async () => {
    const pre = fullPrefetch('pgx-1');
    pre['weight'] = null;
    pre['genomics'] = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout' }] };
    delete pre['height'];
    const r = await svc.hook('dosing-order-select', orderSelect('pgx-1', draftWarfarin('mr-5', 'pgx-1'), { prefetch: pre }));
    expect(r.status).toBe(200);
    expect(r.json.cards[0].summary).toMatch(/missing body weight/);
    const urls = (await fhir.admin.requests()).map((e) => e.url);
    expect(urls.some((u) => u.includes('84413-4'))).toBe(true); // genomics re-fetched
    expect(urls.some((u) => u.includes('8302-2'))).toBe(true); // height fetched
    expect(urls.some((u) => u.includes('29463-7'))).toBe(false); // weight: null = known empty, not fetched
  });

  test('a paginated prefetch Bundle is followed to its last page (amiodarone on page 2 counts)', async () => {
    const meds = Array.from({ length: 25 }, (_, i) => activeMed(`pg-med-${i}`, 'page-1', '197361', 'amlodipine 5 MG Oral Tablet'));
    meds.push(activeMed('pg-amio', 'page-1', '833528', 'amiodarone hydrochloride 200 MG Oral Tablet'));
    await fhir.seed([patient('page-1', '1960-05-01', 'male', { code: '2106-3', display: 'White' }), vital('page-1-wt', 'page-1', '29463-7', 'Body weight', 80, 'kg', 'kg', '2026-10-01'), vital('page-1-ht', 'page-1', '8302-2', 'Body height', 178, 'cm', 'cm', '2026-10-01'), ...meds]);
    await fhir.admin.clearRequests();
    // first page as the EHR prefetched it, with a next link to the server
    const first = await fetch(`${fhir.url}/MedicationRequest?patient=page-1&status=active&_count=20`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((x) => x.json() as Promise<Bundle>);
    expect(first.link?.some((l) => l.relation === 'next')).toBe(true);
    const r = await svc.hook('dosing-order-select', orderSelect('page-1', draftWarfarin('mr-6', 'page-1'), { prefetch: { medicationRequests: first } }));
    expect(r.status).toBe(200);
    expect(r.json.cards[0].detail).toMatch(/Amiodarone \| taking \| MedicationRequest\/pg-amio/);
  });

  test('a paginated search the service makes itself is followed too (101 active orders, page size 100)', async () => {
    const meds = Array.from({ length: 100 }, (_, i) => activeMed(`pg2-med-${i}`, 'page-2', '197361', 'amlodipine 5 MG Oral Tablet'));
    meds.push(activeMed('pg2-amio', 'page-2', '833528', 'amiodarone hydrochloride 200 MG Oral Tablet'));
    await fhir.seed([patient('page-2', '1960-05-01', 'male'), vital('page-2-wt', 'page-2', '29463-7', 'Body weight', 80, 'kg', 'kg', '2026-10-01'), vital('page-2-ht', 'page-2', '8302-2', 'Body height', 178, 'cm', 'cm', '2026-10-01'), ...meds]);
    await fhir.admin.clearRequests();
    const r = await svc.hook('dosing-order-select', orderSelect('page-2', draftWarfarin('mr-7', 'page-2')));
    expect(r.json.cards[0].detail).toMatch(/Amiodarone \| taking/);
    const medCalls = (await fhir.admin.requests()).filter((e) => e.path === '/MedicationRequest');
    expect(medCalls.length).toBeGreaterThanOrEqual(2);
  });

  test('incomplete drafts: no medication yet → no card and no error; non-selected orders are ignored', async () => {
    const empty: MedicationRequest = { resourceType: 'MedicationRequest', id: 'mr-empty', status: 'draft', intent: 'order', subject: { reference: 'Patient/pgx-1' } };
    const r1 = await svc.hook('dosing-order-select', orderSelect('pgx-1', empty as MedicationRequest));
    expect(r1.status).toBe(200);
    expect(r1.json).toEqual({ cards: [] });
    const body = orderSelect('pgx-1', draftWarfarin('mr-8', 'pgx-1'));
    (body.context as { selections: string[] }).selections = ['MedicationRequest/other'];
    const r2 = await svc.hook('dosing-order-select', body);
    expect(r2.json).toEqual({ cards: [] });
  });

  test('no card when the draft already carries the personalized dose', async () => {
    const r = await svc.hook('dosing-order-select', orderSelect('pgx-1', draftWarfarin('mr-9', 'pgx-1', expectedPgx1DailyMg()), { prefetch: fullPrefetch('pgx-1') }));
    expect(r.json).toEqual({ cards: [] });
  });
});

describe('other hooks', () => {
  test('order-sign evaluates every draft order', async () => {
    const body = orderSelect('pgx-1', draftWarfarin('mr-10', 'pgx-1', 10), { prefetch: fullPrefetch('pgx-1') }) as Record<string, any>;
    body['hook'] = 'order-sign';
    delete body['context'].selections;
    const r = await svc.hook('dosing-order-sign', body);
    expect(r.status).toBe(200);
    expect(checkCdsResponse(r.json)).toEqual([]);
    expect(r.json.cards[0].indicator).toBe('warning'); // 10 mg/day differs from the proposal by more than 20%
  });
  test('medication-prescribe (deprecated) reads context.medications', async () => {
    const body = orderSelect('pgx-1', draftWarfarin('mr-11', 'pgx-1'), { prefetch: fullPrefetch('pgx-1') }) as Record<string, any>;
    body['hook'] = 'medication-prescribe';
    body['context'] = { userId: 'Practitioner/example', patientId: 'pgx-1', medications: body['context'].draftOrders };
    const r = await svc.hook('dosing-medication-prescribe', body);
    expect(r.status).toBe(200);
    expect(r.json.cards[0].summary).toContain(`${expectedPgx1DailyMg()} mg daily`);
  });
});

describe('FHIR server faults', () => {
  test('server down and nothing prefetched → 412 within the deadline', async () => {
    const body = orderSelect('pgx-1', draftWarfarin('mr-12', 'pgx-1'));
    body.fhirServer = 'http://127.0.0.1:9'; // discard port: connection refused
    svc.allowFhirServer(body.fhirServer); // named for the EHR, so it is tried
    const r = await svc.hook('dosing-order-select', body);
    expect(r.status).toBe(412);
    expect(r.ms).toBeLessThan(3000);
  });
  test('server slower than the deadline → 412 (patient could not be read) within the deadline', async () => {
    await fhir.admin.setFault({ mode: 'delay', delayMs: 5000 });
    const r = await svc.hook('dosing-order-select', orderSelect('pgx-1', draftWarfarin('mr-13', 'pgx-1')));
    expect(r.status).toBe(412);
    expect(r.ms).toBeLessThan(3000);
  });
  test('server returning 500 for observations only → card says what is missing (patient still read)', async () => {
    await fhir.admin.setFault({ mode: 'error500', match: '/Observation' });
    const r = await svc.hook('dosing-order-select', orderSelect('pgx-1', draftWarfarin('mr-14', 'pgx-1')));
    expect(r.status).toBe(200);
    expect(r.json.cards[0].summary).toMatch(/not personalized: missing/);
  });
  test('garbage from the server is handled like a failure', async () => {
    await fhir.admin.setFault({ mode: 'garbage' });
    const r = await svc.hook('dosing-order-select', orderSelect('pgx-1', draftWarfarin('mr-15', 'pgx-1')));
    expect(r.status).toBe(412);
  });
  test('the service does not query a FHIR server without the EHR token rejected by the server', async () => {
    const body = orderSelect('pgx-1', draftWarfarin('mr-16', 'pgx-1')) as Record<string, any>;
    delete body['fhirAuthorization'];
    const r = await svc.hook('dosing-order-select', body);
    expect(r.status).toBe(412); // the test server requires the token
    expect((await fhir.admin.requests()).every((e) => !e.bearer)).toBe(true);
  });
});

describe('bad input → clear 4xx, never 500', () => {
  const cases: [string, string, Record<string, string>, number][] = [
    ['not JSON', '{"hook": ', {}, 400],
    ['JSON but not an object', '[1,2,3]', {}, 400],
    ['missing context', JSON.stringify({ hook: 'order-select', hookInstance: randomUUID() }), {}, 400],
    ['wrong types', JSON.stringify({ hook: 'order-select', hookInstance: 5, context: { patientId: 7, selections: 'x', draftOrders: [] } }), {}, 400],
    ['hook does not match the service', JSON.stringify({ hook: 'order-sign', hookInstance: randomUUID(), context: { patientId: 'p', draftOrders: { resourceType: 'Bundle' } } }), {}, 400],
    ['fhirAuthorization without fhirServer', JSON.stringify({ hook: 'order-select', hookInstance: randomUUID(), fhirAuthorization: { access_token: 'x', token_type: 'Bearer', expires_in: 1, scope: 's', subject: 's' }, context: { patientId: 'p', selections: [], draftOrders: { resourceType: 'Bundle' } } }), {}, 400],
    ['wrong content type', '{}', { 'content-type': 'text/plain' }, 415],
    ['body over the limit', JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }), {}, 413],
  ];
  test.each(cases)('%s → 4xx with a message', async (_name, body, headers, status) => {
    const r = await svc.post('/cds-services/dosing-order-select', body, headers);
    expect(r.status).toBe(status);
    expect(typeof r.json?.error).toBe('string');
    expect(r.text).not.toMatch(/at .*\.ts:\d+/); // no stack traces
  });
  test('unknown service → 404', async () => {
    const r = await svc.post('/cds-services/nope', JSON.stringify({}));
    expect(r.status).toBe(404);
  });
});

describe('feedback', () => {
  test('stored durably, duplicates tolerated, unknown cards flagged, invalid rejected', async () => {
    const r = await svc.hook('dosing-order-select', orderSelect('pgx-1', draftWarfarin('mr-20', 'pgx-1'), { prefetch: fullPrefetch('pgx-1') }));
    const card = r.json.cards[0];
    const fb = {
      feedback: [
        { card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: card.suggestions[0].uuid }], outcomeTimestamp: '2026-11-25T10:00:00Z' },
        { card: randomUUID(), outcome: 'overridden', overrideReason: { reason: { code: 'clinical-judgement', system: 'urn:pgx-dosing-cds:override-reason' }, userComment: 'x' }, outcomeTimestamp: '2026-11-25T10:01:00Z' },
      ],
    };
    const first = await svc.post('/cds-services/dosing-order-select/feedback', JSON.stringify(fb));
    expect(first.status).toBe(200);
    expect(first.json).toEqual({ stored: 2, duplicates: 0, unknownCards: 1 });
    const again = await svc.post('/cds-services/dosing-order-select/feedback', JSON.stringify(fb));
    expect(again.status).toBe(200);
    expect(again.json).toEqual({ stored: 0, duplicates: 2, unknownCards: 1 });
    const rows = svc.store.feedbackRows().filter((x) => x['card_uuid'] === card.uuid);
    expect(rows).toHaveLength(1);
    expect(rows[0]!['known_card']).toBe(1);
    const bad = await svc.post('/cds-services/dosing-order-select/feedback', JSON.stringify({ feedback: [{ card: card.uuid, outcome: 'accepted', outcomeTimestamp: 'yesterday' }] }));
    expect(bad.status).toBe(400);
    expect(bad.json.details.join(' ')).toMatch(/acceptedSuggestions|outcomeTimestamp/);
  });
});

describe('client JWT on the real service (RS384 as Epic-style clients send; ES384 as the sandbox does)', () => {
  const url = () => `${svc.url}/cds-services/dosing-order-select`;
  const call = (authorization: string) =>
    fetch(url(), { method: 'POST', headers: { 'content-type': 'application/json', authorization }, body: JSON.stringify(orderSelect('pgx-1', draftWarfarin('mr-30', 'pgx-1'), { prefetch: fullPrefetch('pgx-1') })) });
  test('RS384 with sub and nbf accepted', async () => {
    const r = await call(await rsEhr.bearer(url(), { claims: { sub: 'client-123', nbf: Math.floor(Date.now() / 1000) - 5 } }));
    expect(r.status).toBe(200);
  });
  test.each([
    ['expired', async () => rsEhr.bearer(url(), { nowSec: Math.floor(Date.now() / 1000) - 3600 })],
    ['aud of another endpoint', async () => rsEhr.bearer(`${svc.url}/cds-services/dosing-order-sign`)],
    ['aud with another host', async () => svc.ehr.bearer(url().replace('127.0.0.1', 'localhost'))],
    ['alg none', async () => `Bearer ${craftToken({ alg: 'none', typ: 'JWT', kid: svc.ehr.kid }, standardClaims(svc.ehr.iss, url()))}.`],
    ['unknown issuer', async () => (await makeTestClient({ alg: 'ES384', iss: 'https://rogue.test' })).bearer(url())],
  ])('%s → 401 with no details', async (_n, token) => {
    const r = await call(await token());
    expect(r.status).toBe(401);
    expect(await r.json()).toEqual({ error: 'unauthorized' });
  });
  test('a replayed token is refused the second time', async () => {
    const t = await svc.ehr.bearer(url());
    expect((await call(t)).status).toBe(200);
    expect((await call(t)).status).toBe(401);
  });
  test('refusals are counted per reason, and the replay cache fill against its bound is exposed at /metrics', async () => {
    const t = await svc.ehr.bearer(url());
    expect((await call(t)).status).toBe(200);
    expect((await call(t)).status).toBe(401);
    const metrics = await (await fetch(`${svc.url}/metrics`)).text();
    expect(metrics).toMatch(/^cds_auth_rejected_total\{reason="replayed_jti"\} [1-9]/m);
    expect(metrics).toMatch(/^cds_auth_rejected_total\{reason="expired"\} [1-9]/m);
    expect(metrics).toMatch(/^cds_auth_rejected_total\{reason="unknown_iss"\} [1-9]/m);
    expect(metrics).toMatch(/^cds_replay_cache_capacity 1000000$/m);
    expect(Number(/^cds_replay_cache_entries (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
  });
});
