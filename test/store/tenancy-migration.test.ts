// Migration 5 (tenancy) on existing rows, both stores: rows get the client and FHIR server of their hook call
// (normalized); rows whose call is not known keep none and are then answered by no client and shown to no SMART app;
// feedback another client sent for a card stops counting for it.
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { PG_MIGRATIONS } from '../../src/store/pgSchema.js';
import { PgStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqliteSchema.js';
import type { Store } from '../../src/store/store.js';
import { createPgSchema, tempDir } from './helpers.js';

const A = 'https://ehr-a.test';
const C = 'https://ehr-c.test';
const T = '2026-05-01T08:00:00.000Z';

/** Rows as release 4 wrote them: r1/c1 by A at a server spelled loosely, r2/c2 with no known call. */
const ROWS = [
  `INSERT INTO hook_call (id, hook_instance, service_id, hook, client_iss, patient_id, ordered_drugs, outcome, fhir_ms, evaluate_ms, total_ms, versions, card_uuids, fhir_server, created_at)
     VALUES ('h1', 'hi1', 'dosing-monitor', 'patient-view', '${A}', 'p1', '[]', 'cards', 1, 1, 2, '{}', '["c1"]', 'HTTPS://EHR-A.Test/fhir', '${T}')`,
  `INSERT INTO recommendation (id, hook_call_id, hook_instance, patient_id, drug, kind, body, created_at) VALUES ('r1', 'h1', 'hi1', 'p1', 'warfarin', 'dose', '{"id":"r1"}', '${T}')`,
  `INSERT INTO recommendation (id, hook_call_id, hook_instance, patient_id, drug, kind, body, created_at) VALUES ('r2', NULL, 'gone', 'p1', 'warfarin', 'dose', '{"id":"r2"}', '${T}')`,
  `INSERT INTO card (uuid, recommendation_id, hook_call_id, hook_instance, service_id, drug, kind, indicator, genes, suggestion_uuids, facts_fingerprint, created_at)
     VALUES ('c1', 'r1', 'h1', 'hi1', 'dosing-monitor', 'warfarin', 'dose', 'critical', '[]', '[]', 'fp-1', '${T}')`,
  `INSERT INTO card (uuid, recommendation_id, hook_call_id, hook_instance, service_id, drug, kind, indicator, genes, suggestion_uuids, facts_fingerprint, created_at)
     VALUES ('c2', 'r2', NULL, 'gone', 'dosing-monitor', 'warfarin', 'dose', 'critical', '[]', '[]', 'fp-2', '${T}')`,
  // C's "overridden" on A's card (the attack, stored before this release), and A's own acceptance
  `INSERT INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, client_iss, known_card, received_at) VALUES ('dosing-monitor', 'c1', 'overridden', '2026-05-01T09:00:00.000Z', '${C}', true, '${T}')`,
  `INSERT INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, client_iss, known_card, received_at) VALUES ('dosing-monitor', 'c1', 'accepted', '2026-05-01T08:30:00.000Z', '${A}', true, '${T}')`,
];

async function expectMigrated(s: Store): Promise<void> {
  const c1 = (await s.cardAudit('c1'))!;
  expect(c1.card).toMatchObject({ clientIss: A, fhirServer: 'https://ehr-a.test/fhir' });
  expect(c1.call!.fhirServer).toBe('https://ehr-a.test/fhir');
  expect(await s.getRecommendation('r1')).toMatchObject({ clientIss: A, fhirServer: 'https://ehr-a.test/fhir' });
  // C's override does not count: A's own latest feedback (accepted) does
  expect(await s.overriddenFingerprints({ iss: A, fhirServer: 'https://ehr-a.test/fhir' }, 'p1', ['fp-1'])).toEqual(new Set());
  expect((await s.reportRows()).find((r) => r.cardUuid === 'c1')).toMatchObject({ outcome: 'accepted' });
  expect(c1.feedback.find((f) => f.clientIss === A)).toMatchObject({ fhirServer: 'https://ehr-a.test/fhir' });
  expect(c1.feedback.find((f) => f.clientIss === C)!.fhirServer).toBeUndefined();
  // the row without a known call: no client, no server; shown to no SMART app (only the server-less lookup finds it)
  expect((await s.getRecommendation('r2'))!.fhirServer).toBeUndefined();
  expect((await s.recommendationsForPatient('p1', 'https://ehr-a.test/fhir')).map((r) => r.recommendation.id)).toEqual(['r1']);
  expect((await s.recommendationsForPatient('p1', undefined)).map((r) => r.recommendation.id)).toEqual(['r2']);
  // and no client can answer its card
  expect(await s.recordFeedback('dosing-monitor', A, [{ card: 'c2', outcome: 'overridden', outcomeTimestamp: '2026-05-02T08:00:00Z' }])).toEqual({ stored: 1, duplicates: 0, unknownCards: 1 });
  // ...and such feedback does not count for it in the report either
  expect((await s.reportRows()).find((r) => r.cardUuid === 'c2')!.outcome).toBeUndefined();
  // C may now store "overridden" at the same time as A's feedback without taking A's slot (feedback keyed by client)
  expect(await s.recordFeedback('dosing-monitor', A, [{ card: 'c1', outcome: 'overridden', outcomeTimestamp: '2026-05-01T09:00:00.000Z' }])).toEqual({ stored: 1, duplicates: 0, unknownCards: 0 });
}

test('sqlite: migration 5 on rows written by release 4', async () => {
  const t = tempDir();
  const file = path.join(t.dir, 'v4.sqlite');
  const db = new Database(file);
  db.exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`);
  for (const m of SQLITE_MIGRATIONS.filter((x) => x.version <= 4)) {
    db.exec(m.sql);
    db.prepare(`INSERT INTO schema_migrations VALUES (?, ?)`).run(m.version, T);
  }
  for (const r of ROWS) db.exec(r.replace(', true,', ', 1,'));
  db.close();
  const s = new SqliteStore(file);
  try {
    expect(s.appliedMigrations).toEqual([5, 6]);
    await expectMigrated(s);
  } finally {
    await s.close();
    t.remove();
  }
});

test('postgres: migration 5 on rows written by release 4', async () => {
  const schema = await createPgSchema();
  const c = new pg.Client({ connectionString: schema.url });
  await c.connect();
  try {
    await c.query(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_by TEXT)`);
    for (const m of PG_MIGRATIONS.filter((x) => x.version <= 4)) {
      await c.query(m.sql);
      await c.query(`INSERT INTO schema_migrations (version) VALUES ($1)`, [m.version]);
    }
    for (const r of ROWS) await c.query(r);
  } finally {
    await c.end();
  }
  const s = new PgStore({ connectionString: schema.url });
  try {
    await s.init();
    expect(s.appliedMigrations).toEqual([5, 6]);
    await expectMigrated(s);
  } finally {
    await s.close();
    await schema.drop();
  }
});
