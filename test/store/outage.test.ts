// The audit store may fail; the prescriber must not notice. A real outage through a TCP proxy in front of PostgreSQL.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { hmacPatientKey } from '../../src/store/audit.js';
import { PgStore } from '../../src/store/postgres.js';
import { AuditedStore } from '../../src/store/resilient.js';
import { randomUUID } from 'node:crypto';
import { activeMed, fullPrefetch } from '../fixtures/synthetic-patients.js';
import { acceptedSuggestion, cardWithUpdate, dose, EHR, observingCall } from './applied-cases.js';
import { createPgSchema, hookRecord, orderSelectBody, recommendation, startHarness, tempDir, TcpProxy, waitFor, type PgSchema } from './helpers.js';

let schema: PgSchema;
let proxy: TcpProxy;
beforeEach(async () => {
  schema = await createPgSchema();
  proxy = await new TcpProxy().start();
});
afterEach(async () => {
  await proxy.stop();
  await schema.drop();
});

/** the discard port is named (development setting on), so the FHIR-error metric below counts a real failed query */
const UNREACHABLE_FHIR_NAMED = { 'fhir.allowedServers': ['http://127.0.0.1:9/fhir'], 'fhir.allowInsecureLoopback': true };

const countCalls = async () => Number((await schema.query<{ n: string }>(`SELECT count(*) AS n FROM $schema.hook_call`))[0]!.n);

test('database cut mid-run: hooks answer within the deadline, records spool and arrive once it returns; feedback is 503 meanwhile', async () => {
  const t = tempDir();
  const store = new AuditedStore({ backend: new PgStore({ connectionString: schema.urlVia(proxy.port), connectTimeoutMs: 500 }), spoolDir: t.dir, retryIntervalMs: 100 });
  await store.init();
  const svc = await startHarness(store, { 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000, ...UNREACHABLE_FHIR_NAMED });
  try {
    const first = await svc.hook();
    expect(first.status).toBe(200);
    expect(first.json.cards).toHaveLength(1);
    await store.settle();
    expect(await countCalls()).toBe(1);

    proxy.cut();
    const during = [];
    for (let i = 0; i < 3; i++) during.push(await svc.hook());
    for (const r of during) {
      expect(r.status).toBe(200);
      expect(r.json.cards).toHaveLength(1);
      expect(r.ms).toBeLessThan(1000); // well inside the 3 s deadline: the audit write is not on the response path
    }
    await store.settle();
    const ready = await svc.get('/readyz');
    expect(ready.status).toBe(200); // hooks work, so the pod stays ready …
    expect(ready.json).toEqual({ status: 'ready', store: 'degraded', auditBacklog: 3 }); // … and says the audit store is degraded
    expect(readFileSync(path.join(t.dir, 'audit-spool.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
    const card = during[0]!.json.cards[0];
    const fb = { feedback: [{ card: card.uuid, outcome: 'accepted', acceptedSuggestions: [{ id: card.suggestions[0].uuid }], outcomeTimestamp: new Date().toISOString() }] };
    const refused = await svc.post('/cds-services/dosing-order-select/feedback', fb);
    expect(refused.status).toBe(503);
    expect(refused.json.error).toMatch(/could not be stored/);
    expect(await countCalls()).toBe(1); // nothing reached the database during the outage
    expect((await svc.get('/metrics')).text).toMatch(/^store_audit_backlog 3$/m);

    proxy.restore();
    await waitFor(async () => (await svc.get('/readyz')).json.store === 'ok', 8000, 'the spool to drain');
    expect(await countCalls()).toBe(4);
    for (const r of during) expect((await store.cardAudit(r.json.cards[0].uuid))?.call?.outcome).toBe('cards');
    expect(existsSync(path.join(t.dir, 'audit-spool.jsonl'))).toBe(false);
    expect(existsSync(path.join(t.dir, 'audit-spool.draining.jsonl'))).toBe(false);
    const stored = await svc.post('/cds-services/dosing-order-select/feedback', fb);
    expect(stored).toEqual({ status: 200, json: { stored: 1, duplicates: 0, unknownCards: 0 } });
    expect((await svc.get('/readyz')).json).toEqual({ status: 'ready', store: 'ok', auditBacklog: 0 });

    // metrics: hook latency per service, cards by indicator and kind, store writes, FHIR errors, model histogram
    const unreachable = { ...orderSelectBody(), prefetch: undefined, fhirServer: 'http://127.0.0.1:9/fhir', fhirAuthorization: { access_token: 't', token_type: 'Bearer', expires_in: 60, scope: 'patient/*.read', subject: 's' } };
    expect((await svc.hook(unreachable)).status).toBe(412);
    await store.settle();
    const metrics = (await svc.get('/metrics')).text;
    expect(metrics).toMatch(/cds_hook_duration_seconds_count\{service="dosing-order-select",outcome="cards"\} [1-9]/);
    expect(metrics).toMatch(/cds_hook_duration_seconds_count\{service="dosing-order-select",outcome="precondition-failed"\} [1-9]/);
    expect(metrics).toMatch(/cds_cards_total\{service="dosing-order-select",indicator="(info|warning)",kind="dose"\} [1-9]/);
    expect(metrics).toMatch(/store_write_duration_seconds_count\{backend="postgres",op="hook",result="ok"\} [1-9]/);
    expect(metrics).toMatch(/store_write_duration_seconds_count\{backend="postgres",op="replay",result="ok"\} [1-9]/);
    expect(metrics).toMatch(/fhir_request_errors_total\{key="patient",status="0"\} [1-9]/);
    expect(metrics).toMatch(/# TYPE model_inference_seconds histogram/);
    const calls = await schema.query<{ outcome: string; detail: string }>(`SELECT outcome, detail FROM $schema.hook_call WHERE outcome <> 'cards'`);
    expect(calls).toEqual([{ outcome: 'precondition-failed', detail: expect.stringMatching(/^patient: /) }]);
  } finally {
    await svc.close();
    await store.close();
    t.remove();
  }
}, 30000);

test('database unreachable at start: the store starts degraded; a spool left by a stopped process is replayed at the next start; patient ids pseudonymized', async () => {
  const t = tempDir();
  const patientKey = hmacPatientKey('a-test-key-of-32-characters-long');
  const open = () => new AuditedStore({ backend: new PgStore({ connectionString: schema.urlVia(proxy.port), connectTimeoutMs: 500 }), spoolDir: t.dir, retryIntervalMs: 100, patientKey });
  proxy.cut();
  const first = open();
  await first.init(); // does not throw: the service starts and answers hooks
  expect((await first.health()).state).toBe('degraded');
  const records = [hookRecord([recommendation({ drug: 'warfarin' })], { patientId: 'MRN-12345' }), hookRecord([recommendation({ drug: 'warfarin' })], { patientId: 'MRN-12345' })];
  for (const r of records) await first.recordHook(r);
  await first.close(200);
  const spool = readFileSync(path.join(t.dir, 'audit-spool.jsonl'), 'utf8');
  expect(spool.trim().split('\n')).toHaveLength(2);
  expect(spool).not.toContain('MRN-12345'); // pseudonymized before it touches the disk

  proxy.restore();
  const second = open();
  try {
    await second.init();
    await waitFor(async () => (await second.health()).state === 'ok', 5000, 'replay at start');
    expect(await countCalls()).toBe(2);
    const ids = await schema.query<{ patient_id: string }>(`SELECT DISTINCT patient_id FROM $schema.hook_call`);
    expect(ids).toEqual([{ patient_id: patientKey('MRN-12345') }]);
    expect(ids[0]!.patient_id).toMatch(/^h1:[A-Za-z0-9_-]{43}$/);
    // lookups go through the same function
    expect((await second.recommendationsForPatient('MRN-12345', undefined)).map((r) => r.recommendation.id).sort()).toEqual(records.map((r) => r.recommendations[0]!.id).sort());
    expect(await second.recommendationsForPatient(patientKey('MRN-12345'), undefined)).toEqual([]);
  } finally {
    await second.close();
    t.remove();
  }
}, 30000);

test('monitoring on PostgreSQL with pseudonymized ids: an overridden card is not repeated; with the database cut the card is shown (fail open) in time', async () => {
  const t = tempDir();
  const store = new AuditedStore({
    backend: new PgStore({ connectionString: schema.urlVia(proxy.port), connectTimeoutMs: 500 }),
    spoolDir: t.dir,
    retryIntervalMs: 100,
    patientKey: hmacPatientKey('a-test-key-of-32-characters-long'),
  });
  await store.init();
  const svc = await startHarness(store, { 'fhir.deadlineMs': 1500, requestDeadlineMs: 3000, ...UNREACHABLE_FHIR_NAMED });
  // cyp-1: CYP2C19 *2/*2 with an active clopidogrel order → the CPIC card on every chart opening until overridden
  const chartOpened = () => ({
    hook: 'patient-view',
    hookInstance: randomUUID(),
    context: { userId: 'Practitioner/example', patientId: 'cyp-1' },
    prefetch: fullPrefetch('cyp-1', [activeMed('cyp-1-clop', 'cyp-1', '32968', 'clopidogrel 75 MG Oral Tablet')]),
  });
  try {
    const first = await svc.hook(chartOpened(), 'dosing-monitor');
    expect(first.status).toBe(200);
    expect(first.json.cards).toHaveLength(1);
    await store.settle();
    const card = first.json.cards[0];
    const fb = { feedback: [{ card: card.uuid, outcome: 'overridden', overrideReason: { reason: card.overrideReasons[0] }, outcomeTimestamp: new Date().toISOString() }] };
    expect((await svc.post('/cds-services/dosing-monitor/feedback', fb)).status).toBe(200);
    const after = await svc.hook(chartOpened(), 'dosing-monitor');
    expect(after.json.cards).toEqual([]);
    // the pseudonym, not the MRN, is what the lookup matched on
    expect(await schema.query(`SELECT count(*)::int AS n FROM $schema.hook_call WHERE patient_id = 'cyp-1'`)).toEqual([{ n: 0 }]);

    proxy.cut();
    const during = await svc.hook(chartOpened(), 'dosing-monitor');
    expect(during.status).toBe(200);
    expect(during.json.cards).toHaveLength(1); // the lookup could not answer: showing the card is the safe side
    expect(during.ms).toBeLessThan(1500);
    proxy.restore();
    await waitFor(async () => (await svc.get('/readyz')).json.store === 'ok', 8000, 'the spool to drain');
    expect((await svc.hook(chartOpened(), 'dosing-monitor')).json.cards).toEqual([]);
  } finally {
    await svc.close();
    await store.close();
    t.remove();
  }
});

test('accepted is not applied across an outage: the spooled record carries the drafts it showed and resolves the suggestion when replayed', async () => {
  const t = tempDir();
  const patientKey = hmacPatientKey('a-test-key-of-32-characters-long');
  const store = new AuditedStore({ backend: new PgStore({ connectionString: schema.urlVia(proxy.port), connectTimeoutMs: 500 }), spoolDir: t.dir, retryIntervalMs: 100, patientKey });
  await store.init();
  try {
    const intended = { orderRef: 'MedicationRequest/mr-out', rxnorm: ['855332'], dose: dose(2.5) };
    const c = cardWithUpdate({ drug: 'warfarin', patientId: 'pat-out', at: '2026-06-01T10:00:00.000Z', intended });
    await store.recordHook(c.record);
    await store.settle();
    await store.recordFeedback('dosing-order-select', EHR, [acceptedSuggestion(c.card, c.suggestion, '2026-06-01T10:01:00Z')]);

    proxy.cut();
    await store.recordHook(observingCall({ patientId: 'pat-out', at: '2026-06-01T10:02:00.000Z', seen: [intended] }));
    await store.settle();
    const spooled = readFileSync(store.spoolFile, 'utf8');
    expect(JSON.parse(spooled.trim())).toMatchObject({ patientId: patientKey('pat-out'), seenOrders: [intended] });
    expect(spooled).not.toContain('pat-out');

    proxy.restore();
    await waitFor(async () => (await store.health()).state === 'ok', 8000, 'the spool to drain');
    expect((await store.cardAudit(c.card))!.intendedOrders[0]!.resolution).toMatchObject({ outcome: 'applied', at: '2026-06-01T10:02:00.000Z' });
  } finally {
    await store.close();
    t.remove();
  }
}, 30000);
