// Hook audit records written through a worker thread (SQLite): every record lands in the database, and a writer that
// fails spools the whole batch exactly as a failing database does (docs/performance.md, src/store/auditWriter.ts).
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { SqliteWorkerWriter, type HookWriter } from '../../src/store/auditWriter.js';
import { AuditedStore } from '../../src/store/resilient.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { acceptedSuggestion, cardWithUpdate, dose, EHR, observingCall } from './applied-cases.js';
import { hookRecord, recommendation, tempDir } from './helpers.js';

test('records queued under load are all written by the writer thread, readable on the main connection', async () => {
  const t = tempDir();
  const file = path.join(t.dir, 'a.sqlite');
  const backend = new SqliteStore(file);
  const store = new AuditedStore({ backend, spoolDir: t.dir });
  await store.init();
  store.useWriter(await SqliteWorkerWriter.start(file, (r) => backend.recordHook(r)));
  try {
    const recs = Array.from({ length: 300 }, (_, i) => hookRecord([recommendation({ drug: 'warfarin' })], { patientId: `p-${i}` }));
    for (const r of recs) await store.recordHook(r);
    await store.settle();
    expect(await store.health()).toMatchObject({ ok: true, backlog: 0 });
    const db = (backend as unknown as { db: { prepare(s: string): { get(): unknown } } }).db;
    expect(db.prepare(`SELECT count(*) AS n FROM hook_call`).get()).toEqual({ n: 300 });
    const first = await store.getRecommendation(recs[0]!.recommendations[0]!.id);
    expect(first?.patientId).toBe('p-0');
  } finally {
    await store.close();
    t.remove();
  }
}, 30_000);

test('a writer that fails: the batch is spooled, the store degrades, and the spool replays into the database', async () => {
  const t = tempDir();
  const backend = new SqliteStore(path.join(t.dir, 'a.sqlite'));
  const store = new AuditedStore({ backend, spoolDir: t.dir, retryIntervalMs: 100 });
  await store.init();
  const failing: HookWriter = {
    recordHooks: async () => {
      throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
    },
    close: async () => undefined,
  };
  store.useWriter(failing);
  try {
    const recs = Array.from({ length: 5 }, () => hookRecord([recommendation({ drug: 'warfarin' })]));
    for (const r of recs) await store.recordHook(r);
    await store.settle();
    const spooled = readFileSync(store.spoolFile, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { hookInstance: string }).hookInstance);
    expect(spooled.sort()).toEqual(recs.map((r) => r.hookInstance).sort());
    expect(await store.health()).toMatchObject({ ok: false, state: 'degraded' });
    // the database itself is fine: the retry replays the spool through the backend
    await store.retry();
    expect(await store.health()).toMatchObject({ ok: true, backlog: 0 });
    for (const r of recs) expect(await store.getRecommendation(r.recommendations[0]!.id)).toBeDefined();
  } finally {
    await store.close();
    t.remove();
  }
}, 30_000);

test('SqliteStore.recordHooks writes a batch in one transaction: all of it or none, and a retried batch adds nothing', async () => {
  const t = tempDir();
  const store = new SqliteStore(path.join(t.dir, 'b.sqlite'));
  try {
    const db = (store as unknown as { db: { prepare(s: string): { get(): unknown } } }).db;
    const count = () => db.prepare(`SELECT (SELECT count(*) FROM hook_call) AS calls, (SELECT count(*) FROM recommendation) AS recs, (SELECT count(*) FROM card) AS cards`).get();
    // ids given, as the AuditedStore completes records before they are queued
    const good = [hookRecord([recommendation({ drug: 'warfarin' })], { patientId: 'p-1', id: 'call-1' }), hookRecord([recommendation({ drug: 'clopidogrel' })], { patientId: 'p-2', id: 'call-2' })];
    // a value the driver cannot bind makes the third insert fail: the two before it must be rolled back with it
    const bad = { ...hookRecord([recommendation({ drug: 'warfarin' })], { patientId: 'p-3', id: 'call-3' }), timings: { fhirMs: {} as unknown as number, evaluateMs: 0, totalMs: 0 } };
    await expect(store.recordHooks([...good, bad])).rejects.toThrow();
    expect(count()).toEqual({ calls: 0, recs: 0, cards: 0 });
    await store.recordHooks(good);
    const once = count();
    expect(once).toEqual({ calls: 2, recs: 2, cards: 2 });
    await store.recordHooks(good); // the AuditedStore may replay a batch the writer had stored: records are idempotent by id
    expect(count()).toEqual(once);
  } finally {
    await store.close();
    t.remove();
  }
});

test('through the writer thread, a record carries its intended orders and the drafts it showed (accepted → applied)', async () => {
  const t = tempDir();
  const file = path.join(t.dir, 'a.sqlite');
  const backend = new SqliteStore(file);
  const store = new AuditedStore({ backend, spoolDir: t.dir });
  await store.init();
  store.useWriter(await SqliteWorkerWriter.start(file, (r) => backend.recordHook(r)));
  try {
    const intended = { orderRef: 'MedicationRequest/mr-w', rxnorm: ['855332'], dose: dose(2.5) };
    const c = cardWithUpdate({ drug: 'warfarin', patientId: 'pw', at: '2026-06-01T10:00:00.000Z', intended });
    await store.recordHook(c.record);
    await store.settle();
    await store.recordFeedback('dosing-order-select', EHR, [acceptedSuggestion(c.card, c.suggestion, '2026-06-01T10:01:00Z')]);
    await store.recordHook(observingCall({ patientId: 'pw', at: '2026-06-01T10:02:00.000Z', seen: [{ ...intended, dose: dose(5) }] }));
    await store.settle();
    expect((await store.cardAudit(c.card))!.intendedOrders).toEqual([expect.objectContaining({ ...intended, resolution: expect.objectContaining({ outcome: 'not-applied' }) })]);
  } finally {
    await store.close();
    t.remove();
  }
}, 30_000);
