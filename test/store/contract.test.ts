// One store contract, run against SQLite (temp file) and the real PostgreSQL (a fresh schema per run).
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { PgStore } from '../../src/store/postgres.js';
import { buildReport } from '../../src/store/report.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { acceptedSuggestion, cardWithUpdate, dose, EHR, FHIR, observingCall, seedAppliedCases } from './applied-cases.js';
import { accepted, createPgSchema, hookRecord, overridden, recommendation, seedReportData, tempDir, type PgSchema } from './helpers.js';

interface Backend {
  name: string;
  open(): Promise<Store>;
  /** a second instance on the same database (another replica / a restart) */
  reopen(): Promise<Store & { appliedMigrations: number[] }>;
  cleanup(): Promise<void>;
}

function sqliteBackend(): Backend {
  const t = tempDir();
  const file = path.join(t.dir, 'audit.sqlite');
  return {
    name: 'sqlite',
    open: async () => new SqliteStore(file),
    reopen: async () => new SqliteStore(file),
    cleanup: async () => t.remove(),
  };
}

function pgBackend(): Backend {
  let schema: PgSchema;
  return {
    name: 'postgres',
    async open() {
      schema = await createPgSchema();
      const s = new PgStore({ connectionString: schema.url });
      await s.init();
      return s;
    },
    async reopen() {
      const s = new PgStore({ connectionString: schema.url });
      await s.init();
      return s;
    },
    cleanup: async () => schema?.drop(),
  };
}

const EHR_TENANT = { iss: 'https://ehr.test.local' };

describe.each([['sqlite', sqliteBackend], ['postgres', pgBackend]] as const)('%s store', (_name, make) => {
  let backend: Backend;
  let store: Store;
  beforeEach(async () => {
    backend = make();
    store = await backend.open();
  });
  afterEach(async () => {
    await store.close();
    await backend.cleanup();
  });

  test('records the audit trail of a hook call and answers "what was recommended for this card, from what, and what happened"', async () => {
    const rec = recommendation({ drug: 'warfarin', genes: ['CYP2C9', 'VKORC1'], method: ['warfarin-model', '1.2.0'] });
    const r = hookRecord([rec], { at: '2026-05-01T08:00:00.000Z', patientId: 'pat-9' });
    await store.recordHook(r);
    const card = r.cardUuids[0]!;
    expect(await store.recordFeedback('dosing-order-select', 'https://ehr.test.local', [overridden(card, '2026-05-01T08:03:00Z', 'clinical', 'Clinical judgement')])).toEqual({ stored: 1, duplicates: 0, unknownCards: 0 });

    const audit = (await store.cardAudit(card))!;
    expect(audit.card).toMatchObject({ uuid: card, recommendationId: rec.id, drug: 'warfarin', kind: 'dose', indicator: 'info', genes: ['CYP2C9', 'VKORC1'], serviceId: 'dosing-order-select', createdAt: '2026-05-01T08:00:00.000Z' });
    expect(audit.call).toMatchObject({
      hookInstance: r.hookInstance,
      hook: 'order-select',
      clientIss: 'https://ehr.test.local',
      patientId: 'pat-9',
      orderedDrugs: ['warfarin'],
      outcome: 'cards',
      timings: { fhirMs: 12.5, evaluateMs: 3.25, totalMs: 20 },
      cardUuids: [card],
      at: '2026-05-01T08:00:00.000Z',
    });
    expect(audit.call!.versions.methods).toEqual({ 'warfarin-model': '1.2.0' });
    expect(audit.call!.versions.service).toMatch(/^\d+\.\d+\.\d+/);
    expect(audit.call!.versions.knowledge['drug-codes.json']).toBeDefined();
    expect(audit.recommendation).toEqual(rec); // inputs with their sources, method, evidence — as evaluated
    expect(audit.feedback).toEqual([
      expect.objectContaining({ cardUuid: card, outcome: 'overridden', outcomeTimestamp: '2026-05-01T08:03:00.000Z', overrideReason: { code: 'clinical', system: 'http://example.org/override', display: 'Clinical judgement' }, userComment: 'test comment', knownCard: true }),
    ]);
    expect(JSON.stringify(audit)).not.toMatch(/Bearer|access_token/);
    expect(await store.cardAudit(randomUUID())).toBeUndefined();
  });

  test('a replayed record (same id) is stored once', async () => {
    const r = hookRecord([recommendation({ drug: 'warfarin' })], { id: randomUUID() });
    await store.recordHook(r);
    await store.recordHook(r);
    const rows = await store.reportRows();
    expect(rows.map((x) => x.cardUuid)).toEqual(r.cardUuids);
    expect((await store.cardAudit(r.cardUuids[0]!))!.call!.id).toBe(r.id);
  });

  test('feedback: duplicates idempotent, unknown cards stored and flagged', async () => {
    const r = hookRecord([recommendation({ drug: 'warfarin' })]);
    await store.recordHook(r);
    const unknown = randomUUID();
    const fb = [accepted(r.cardUuids[0]!, '2026-05-01T08:03:00+02:00'), overridden(unknown, '2026-05-01T08:04:00Z')];
    expect(await store.recordFeedback('dosing-order-select', 'https://ehr.test.local', fb)).toEqual({ stored: 2, duplicates: 0, unknownCards: 1 });
    expect(await store.recordFeedback('dosing-order-select', 'https://ehr.test.local', fb)).toEqual({ stored: 0, duplicates: 2, unknownCards: 1 });
    expect(await store.unknownCardFeedback()).toBe(1);
    expect((await store.cardAudit(r.cardUuids[0]!))!.feedback).toEqual([expect.objectContaining({ outcome: 'accepted', acceptedSuggestions: ['s'], outcomeTimestamp: '2026-05-01T06:03:00.000Z' })]);
  });

  test('recommendation by id and by patient (newest first)', async () => {
    const first = recommendation({ drug: 'warfarin' });
    const second = recommendation({ drug: 'clopidogrel', kind: 'alternative' });
    await store.recordHook(hookRecord([first], { at: '2026-05-01T08:00:00.000Z', patientId: 'pat-7' }));
    await store.recordHook(hookRecord([second], { at: '2026-05-02T08:00:00.000Z', patientId: 'pat-7' }));
    await store.recordHook(hookRecord([recommendation({ drug: 'warfarin' })], { patientId: 'someone-else' }));
    expect((await store.getRecommendation(first.id))).toMatchObject({ recommendation: first, patientId: 'pat-7', createdAt: '2026-05-01T08:00:00.000Z' });
    expect((await store.recommendationsForPatient('pat-7', undefined)).map((x) => x.recommendation.id)).toEqual([second.id, first.id]);
    expect(await store.getRecommendation(randomUUID())).toBeUndefined();
  });

  test('report rows: one per card with its latest feedback, filtered by date', async () => {
    const ids = await seedReportData(store);
    const all = await store.reportRows();
    expect(all).toHaveLength(7);
    const since = await store.reportRows(new Date('2026-01-01'));
    expect(since.map((r) => r.cardUuid).sort()).toEqual([ids.A, ids.B, ids.C, ids.D, ids.E, ids.G].sort());
    expect(since.find((r) => r.cardUuid === ids.D)).toMatchObject({ outcome: 'accepted', drug: 'clopidogrel', kind: 'alternative', indicator: 'critical', genes: ['CYP2C19'] });
    expect(since.find((r) => r.cardUuid === ids.B)).toMatchObject({ outcome: 'overridden', overrideCode: 'patient-preference', overrideDisplay: 'Patient preference' });
    expect(since.find((r) => r.cardUuid === ids.C)!.outcome).toBeUndefined();
    const report = buildReport(since, { unknownCardFeedback: await store.unknownCardFeedback(new Date('2026-01-01')) });
    expect(report.total).toMatchObject({ cards: 6, withFeedback: 5, accepted: 2, overridden: 3, acceptanceRate: 0.4, overrideRate: 0.6 });
    expect(report.unknownCardFeedback).toBe(1);
  });

  test('purge deletes what is older than the cut-off, with its feedback', async () => {
    const ids = await seedReportData(store);
    const r = await store.purge(new Date('2026-01-01T00:00:00Z'));
    expect(r).toEqual({ before: '2026-01-01T00:00:00.000Z', hookCalls: 1, recommendations: 1, cards: 1, feedback: 1 });
    expect(await store.cardAudit(ids.F)).toBeUndefined();
    expect(await store.reportRows()).toHaveLength(6);
    expect((await store.purge(new Date('2026-01-01T00:00:00Z'))).cards).toBe(0);
  });

  test('overridden fingerprints: only this patient\'s cards whose latest feedback is "overridden", only the fingerprints asked', async () => {
    const withFp = (r: ReturnType<typeof hookRecord>, fps: string[]) => ({ ...r, cards: r.cards.map((c, i) => ({ ...c, factsFingerprint: fps[i]! })) });
    const a = withFp(hookRecord([recommendation({ drug: 'gabapentin' }), recommendation({ drug: 'metformin' })], { patientId: 'pat-A', serviceId: 'dosing-monitor' }), ['fp-1', 'fp-2']);
    const b = withFp(hookRecord([recommendation({ drug: 'gabapentin' })], { patientId: 'pat-B', serviceId: 'dosing-monitor' }), ['fp-1']);
    const c = withFp(hookRecord([recommendation({ drug: 'apixaban' })], { patientId: 'pat-A', serviceId: 'dosing-monitor' }), ['fp-3']);
    for (const r of [a, b, c]) await store.recordHook(r);
    expect(await store.overriddenFingerprints(EHR_TENANT, 'pat-A', ['fp-1', 'fp-2', 'fp-3'])).toEqual(new Set());

    await store.recordFeedback('dosing-monitor', 'https://ehr.test.local', [overridden(a.cardUuids[0]!, '2026-05-01T08:03:00Z', 'patient-declined')]);
    // overridden then accepted: the latest outcome counts
    await store.recordFeedback('dosing-monitor', 'https://ehr.test.local', [overridden(c.cardUuids[0]!, '2026-05-01T08:03:00Z'), accepted(c.cardUuids[0]!, '2026-05-01T09:00:00Z')]);
    await store.recordFeedback('dosing-monitor', 'https://ehr.test.local', [accepted(a.cardUuids[1]!, '2026-05-01T08:04:00Z')]);

    expect(await store.overriddenFingerprints(EHR_TENANT, 'pat-A', ['fp-1', 'fp-2', 'fp-3', 'fp-x'])).toEqual(new Set(['fp-1']));
    expect(await store.overriddenFingerprints(EHR_TENANT, 'pat-A', ['fp-2'])).toEqual(new Set());
    // the same fingerprint overridden for another patient does not count
    expect(await store.overriddenFingerprints(EHR_TENANT, 'pat-B', ['fp-1'])).toEqual(new Set());
    expect(await store.overriddenFingerprints(EHR_TENANT, 'pat-A', [])).toEqual(new Set());
    expect((await store.cardAudit(a.cardUuids[0]!))!.card.factsFingerprint).toBe('fp-1');
  });

  test('accepted is not applied: the table of cases resolves as documented in applied-cases.ts, and the report counts it', async () => {
    const { cases: c, next } = await seedAppliedCases(store);
    const audit = async (card: string) => (await store.cardAudit(card))!.intendedOrders;
    expect(await audit(c.c1.card)).toEqual([
      {
        suggestionUuid: c.c1.suggestion, orderRef: 'MedicationRequest/mr-applied-1', rxnorm: ['855332'], dose: dose(2.5),
        resolution: { outcome: 'applied', at: '2026-06-01T10:02:00.000Z', hookInstance: next.applied1.hookInstance, seen: next.applied1.seenOrders![0] },
      },
    ]);
    expect((await store.cardAudit(c.c1.card))!.call!.fhirServer).toBe(FHIR);
    expect((await audit(c.c2.card))[0]!.resolution).toMatchObject({ outcome: 'not-applied', hookInstance: next.old2.hookInstance, seen: { dose: dose(5) } });
    expect((await audit(c.c3.card))[0]!.resolution).toBeUndefined();
    // another client, another FHIR server, another patient: the same order id is not this order
    expect((await audit(c.c4.card))[0]!.resolution).toBeUndefined();
    // overridden: nothing to resolve
    expect((await audit(c.c5.card))[0]!.resolution).toBeUndefined();
    // within 1e-6 mg is applied; the later call with another dose changes nothing (resolved once)
    expect((await audit(c.c6.card))[0]!.resolution).toMatchObject({ outcome: 'applied', hookInstance: next.applied6.hookInstance, at: '2026-06-01T10:02:00.000Z' });
    expect((await audit(c.c7.card))[0]!.resolution).toMatchObject({ outcome: 'not-applied', hookInstance: next.frequency7.hookInstance });
    expect(await audit(c.c8.card)).toEqual([]);

    const rows = await store.reportRows();
    const status = Object.fromEntries(Object.entries(c).map(([k, v]) => [k, rows.find((r) => r.cardUuid === v.card)!.applied ?? null]));
    expect(status).toEqual({ c1: 'applied', c2: 'not-applied', c3: 'not-seen-again', c4: 'not-seen-again', c5: null, c6: 'applied', c7: 'not-applied', c8: null, c9: null });
    const report = buildReport(rows);
    expect(report.total).toEqual({
      dimension: 'total', value: 'all', cards: 9, withFeedback: 8, accepted: 7, overridden: 1, acceptanceRate: 0.875, overrideRate: 0.125,
      applied: 2, notApplied: 2, notSeenAgain: 2, appliedRate: 0.5,
    });
    expect(report.byDrug.map((d) => [d.value, d.accepted, d.applied, d.notApplied, d.notSeenAgain, d.appliedRate])).toEqual([
      ['warfarin', 4, 1, 1, 2, 0.5],
      ['gabapentin', 2, 1, 1, 0, 0.5],
      ['clopidogrel', 1, 0, 0, 0, null],
    ]);

    // replays (same record ids) change nothing: no second intended order, no second or different resolution
    for (const r of [c.c1.record, next.old2, next.old6]) await store.recordHook(r);
    expect(await audit(c.c1.card)).toHaveLength(1);
    expect((await audit(c.c6.card))[0]!.resolution!.hookInstance).toBe(next.applied6.hookInstance);
    expect(buildReport(await store.reportRows()).total).toMatchObject({ applied: 2, notApplied: 2, notSeenAgain: 2 });
  });

  test('accepted is not applied: a call before the acceptance does not resolve it; the first call after it does; purge takes it along', async () => {
    const intended = { orderRef: 'MedicationRequest/mr-t', rxnorm: ['855332'], dose: dose(2.5) };
    const c = cardWithUpdate({ drug: 'warfarin', patientId: 'pt', at: '2026-06-01T10:00:00.000Z', intended });
    await store.recordHook(c.record);
    const before = observingCall({ patientId: 'pt', at: '2026-06-01T10:01:00.000Z', seen: [intended] });
    await store.recordFeedback('dosing-order-select', EHR, [acceptedSuggestion(c.card, c.suggestion, '2026-06-01T10:03:00Z')]);
    await store.recordHook(before); // written late (e.g. replayed from the spool), but the call was before the acceptance
    expect((await store.cardAudit(c.card))!.intendedOrders[0]!.resolution).toBeUndefined();
    const after = observingCall({ patientId: 'pt', at: '2026-06-01T10:04:00.000Z', seen: [{ ...intended, rxnorm: ['855332', '11289'] }] });
    await store.recordHook(after);
    expect((await store.cardAudit(c.card))!.intendedOrders[0]!.resolution).toMatchObject({ outcome: 'not-applied', hookInstance: after.hookInstance });
    // a patient-view call shows active orders, not drafts: it never resolves anything
    const c2 = cardWithUpdate({ drug: 'warfarin', patientId: 'pt2', at: '2026-06-01T10:00:00.000Z', intended });
    await store.recordHook(c2.record);
    await store.recordFeedback('dosing-order-select', EHR, [acceptedSuggestion(c2.card, c2.suggestion, '2026-06-01T10:01:00Z')]);
    await store.recordHook(observingCall({ patientId: 'pt2', at: '2026-06-01T10:02:00.000Z', seen: [intended], hook: 'patient-view' }));
    expect((await store.cardAudit(c2.card))!.intendedOrders[0]!.resolution).toBeUndefined();

    expect((await store.purge(new Date('2026-07-01T00:00:00Z'))).cards).toBe(2);
    expect(await store.reportRows()).toEqual([]);
    // nothing left behind: a card recorded again with the same uuid starts unresolved
    await store.recordHook({ ...c.record, id: randomUUID(), at: '2026-08-01T00:00:00.000Z' });
    expect((await store.cardAudit(c.card))!.intendedOrders).toEqual([expect.not.objectContaining({ resolution: expect.anything() })]);
  });

  test('migrations are versioned and applied once: a second instance on the same database applies none', async () => {
    const again = await backend.reopen();
    try {
      expect(again.appliedMigrations).toEqual([]);
      expect((await again.health()).ok).toBe(true);
    } finally {
      await again.close();
    }
  });
});

test('postgres: replicas starting together on an empty schema apply the migrations exactly once', async () => {
  const schema = await createPgSchema();
  const stores = Array.from({ length: 4 }, () => new PgStore({ connectionString: schema.url }));
  try {
    await Promise.all(stores.map((s) => s.init()));
    const applied = stores.map((s) => s.appliedMigrations);
    expect(applied.filter((a) => a.length > 0)).toEqual([[1, 2, 3, 4, 5, 6]]);
    expect(await schema.query(`SELECT version FROM $schema.schema_migrations ORDER BY version`)).toEqual([{ version: 1 }, { version: 2 }, { version: 3 }, { version: 4 }, { version: 5 }, { version: 6 }]);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await schema.drop();
  }
});

test('sqlite: a database from the first release (migration 1 only) is upgraded in place', async () => {
  const t = tempDir();
  const file = path.join(t.dir, 'old.sqlite');
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(file);
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
    CREATE TABLE hook_call (hook_instance TEXT NOT NULL, service_id TEXT NOT NULL, hook TEXT NOT NULL, client_iss TEXT NOT NULL, patient_id TEXT NOT NULL, outcome TEXT NOT NULL, fhir_ms REAL NOT NULL, evaluate_ms REAL NOT NULL, total_ms REAL NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX hook_call_instance ON hook_call(hook_instance);
    CREATE TABLE recommendation (id TEXT PRIMARY KEY, hook_instance TEXT NOT NULL, patient_id TEXT NOT NULL, drug TEXT NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE INDEX recommendation_patient ON recommendation(patient_id, created_at);
    CREATE TABLE card (uuid TEXT PRIMARY KEY, recommendation_id TEXT NOT NULL REFERENCES recommendation(id), hook_instance TEXT NOT NULL, service_id TEXT NOT NULL, suggestion_uuids TEXT NOT NULL, created_at TEXT NOT NULL);
    CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, service_id TEXT NOT NULL, card_uuid TEXT NOT NULL, outcome TEXT NOT NULL, outcome_timestamp TEXT NOT NULL, accepted_suggestions TEXT, override_code TEXT, override_system TEXT, override_display TEXT, user_comment TEXT, client_iss TEXT NOT NULL, known_card INTEGER NOT NULL, received_at TEXT NOT NULL, UNIQUE (card_uuid, outcome, outcome_timestamp));
    INSERT INTO schema_migrations VALUES (1, '2026-01-01T00:00:00.000Z');
    INSERT INTO hook_call VALUES ('h1', 'dosing-order-select', 'order-select', 'iss', 'p1', 'cards', 1, 1, 2, '2026-02-01T00:00:00.000Z');
    INSERT INTO recommendation VALUES ('r1', 'h1', 'p1', 'warfarin', 'dose', '{"id":"r1"}', '2026-02-01T00:00:00.000Z');
    INSERT INTO card VALUES ('c1', 'r1', 'h1', 'dosing-order-select', '[]', '2026-02-01T00:00:00.000Z');`);
  db.close();
  const s = new SqliteStore(file);
  try {
    expect(s.appliedMigrations).toEqual([2, 3, 4, 5, 6]);
    expect(await s.reportRows()).toEqual([expect.objectContaining({ cardUuid: 'c1', drug: 'warfarin', kind: 'dose', genes: [] })]);
    // a first-release row has no hook call id: its client comes from the call with the same hook instance
    expect((await s.cardAudit('c1'))!.card).toMatchObject({ clientIss: 'iss' });
    expect((await s.cardAudit('c1'))!.card.fhirServer).toBeUndefined();
  } finally {
    await s.close();
    t.remove();
  }
});
