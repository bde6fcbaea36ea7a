// SQLite schema: the versioned migrations of the embedded store (src/store/sqlite.ts applies them in order, once each).
import type Database from 'better-sqlite3';
import { normalizeFhirServer } from '../domain/tenant.js';

/** Versioned migrations; each runs once, in order, inside a transaction. */
export const SQLITE_MIGRATIONS: { version: number; sql: string; before?: (db: Database.Database) => void }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE hook_call (
        hook_instance TEXT NOT NULL,
        service_id TEXT NOT NULL,
        hook TEXT NOT NULL,
        client_iss TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        outcome TEXT NOT NULL,
        fhir_ms REAL NOT NULL,
        evaluate_ms REAL NOT NULL,
        total_ms REAL NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX hook_call_instance ON hook_call(hook_instance);
      CREATE TABLE recommendation (
        id TEXT PRIMARY KEY,
        hook_instance TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        drug TEXT NOT NULL,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE INDEX recommendation_patient ON recommendation(patient_id, created_at);
      CREATE TABLE card (
        uuid TEXT PRIMARY KEY,
        recommendation_id TEXT NOT NULL REFERENCES recommendation(id),
        hook_instance TEXT NOT NULL,
        service_id TEXT NOT NULL,
        suggestion_uuids TEXT NOT NULL,
        created_at TEXT NOT NULL
      );
      CREATE TABLE feedback (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        service_id TEXT NOT NULL,
        card_uuid TEXT NOT NULL,
        outcome TEXT NOT NULL,
        outcome_timestamp TEXT NOT NULL,
        accepted_suggestions TEXT,
        override_code TEXT,
        override_system TEXT,
        override_display TEXT,
        user_comment TEXT,
        client_iss TEXT NOT NULL,
        known_card INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (card_uuid, outcome, outcome_timestamp)
      );
    `,
  },
  {
    // audit trail: record ids (idempotent replays), ordered drugs, versions, and the analytics dimensions at card time
    version: 2,
    sql: `
      ALTER TABLE hook_call ADD COLUMN id TEXT;
      UPDATE hook_call SET id = lower(hex(randomblob(16))) WHERE id IS NULL;
      CREATE UNIQUE INDEX hook_call_id ON hook_call(id);
      CREATE INDEX hook_call_created ON hook_call(created_at);
      ALTER TABLE hook_call ADD COLUMN ordered_drugs TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE hook_call ADD COLUMN detail TEXT;
      ALTER TABLE hook_call ADD COLUMN versions TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE hook_call ADD COLUMN card_uuids TEXT NOT NULL DEFAULT '[]';
      ALTER TABLE recommendation ADD COLUMN hook_call_id TEXT;
      ALTER TABLE recommendation ADD COLUMN method_id TEXT;
      ALTER TABLE recommendation ADD COLUMN method_version TEXT;
      CREATE INDEX recommendation_created ON recommendation(created_at);
      ALTER TABLE card ADD COLUMN hook_call_id TEXT;
      ALTER TABLE card ADD COLUMN drug TEXT NOT NULL DEFAULT '';
      ALTER TABLE card ADD COLUMN kind TEXT NOT NULL DEFAULT '';
      ALTER TABLE card ADD COLUMN indicator TEXT NOT NULL DEFAULT '';
      ALTER TABLE card ADD COLUMN genes TEXT NOT NULL DEFAULT '[]';
      UPDATE card SET drug = COALESCE((SELECT r.drug FROM recommendation r WHERE r.id = card.recommendation_id), ''),
                      kind = COALESCE((SELECT r.kind FROM recommendation r WHERE r.id = card.recommendation_id), '');
      CREATE INDEX card_created ON card(created_at);
      CREATE INDEX feedback_card ON feedback(card_uuid);
      CREATE INDEX feedback_received ON feedback(received_at);
    `,
  },
  {
    // monitoring (patient-view): what the card was computed from, so an override of the same facts is not repeated
    version: 3,
    sql: `
      ALTER TABLE card ADD COLUMN facts_fingerprint TEXT;
      CREATE INDEX card_fingerprint ON card(facts_fingerprint);
    `,
  },
  {
    // accepted is not applied: the order each update suggestion intends, and what the next call for that order showed
    // (one outcome row per intended order, inserted once, never changed)
    version: 4,
    sql: `
      ALTER TABLE hook_call ADD COLUMN fhir_server TEXT;
      CREATE TABLE intended_order (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        card_uuid TEXT NOT NULL,
        suggestion_uuid TEXT NOT NULL,
        order_ref TEXT NOT NULL,
        rxnorm TEXT NOT NULL,
        dose TEXT,
        created_at TEXT NOT NULL,
        UNIQUE (card_uuid, suggestion_uuid, order_ref)
      );
      CREATE INDEX intended_order_ref ON intended_order(order_ref);
      CREATE INDEX intended_order_created ON intended_order(created_at);
      CREATE TABLE intended_outcome (
        intended_id INTEGER PRIMARY KEY,
        outcome TEXT NOT NULL,
        seen TEXT NOT NULL,
        hook_instance TEXT NOT NULL,
        hook_call_id TEXT NOT NULL,
        observed_at TEXT NOT NULL
      );
    `,
  },
  {
    // tenancy (issue 21): every record says which client (iss) and which FHIR server it concerns. Existing rows get
    // them from their hook call (by id, or for rows older than migration 2 by hook instance when one client made it);
    // rows whose call is not known keep NULL: no client can answer such a card and no SMART app is shown it.
    // Feedback is keyed by its own client: another client's feedback on a card never collides with the card's own.
    version: 5,
    sql: `
      ALTER TABLE recommendation ADD COLUMN client_iss TEXT;
      ALTER TABLE recommendation ADD COLUMN fhir_server TEXT;
      ALTER TABLE card ADD COLUMN client_iss TEXT;
      ALTER TABLE card ADD COLUMN fhir_server TEXT;
      UPDATE recommendation SET client_iss = h.client_iss, fhir_server = h.fhir_server FROM hook_call h WHERE h.id = recommendation.hook_call_id;
      UPDATE recommendation SET client_iss = (SELECT min(h.client_iss) FROM hook_call h WHERE h.hook_instance = recommendation.hook_instance HAVING count(DISTINCT h.client_iss) = 1),
                                fhir_server = (SELECT min(h.fhir_server) FROM hook_call h WHERE h.hook_instance = recommendation.hook_instance HAVING count(DISTINCT h.client_iss) = 1 AND count(DISTINCT h.fhir_server) <= 1)
        WHERE client_iss IS NULL;
      UPDATE card SET client_iss = r.client_iss, fhir_server = r.fhir_server FROM recommendation r WHERE r.id = card.recommendation_id;
      CREATE TABLE feedback_v5 (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        service_id TEXT NOT NULL,
        card_uuid TEXT NOT NULL,
        outcome TEXT NOT NULL,
        outcome_timestamp TEXT NOT NULL,
        accepted_suggestions TEXT,
        override_code TEXT,
        override_system TEXT,
        override_display TEXT,
        user_comment TEXT,
        client_iss TEXT NOT NULL,
        fhir_server TEXT,
        known_card INTEGER NOT NULL,
        received_at TEXT NOT NULL,
        UNIQUE (client_iss, card_uuid, outcome, outcome_timestamp)
      );
      INSERT INTO feedback_v5 (id, service_id, card_uuid, outcome, outcome_timestamp, accepted_suggestions, override_code, override_system, override_display,
          user_comment, client_iss, fhir_server, known_card, received_at)
        SELECT f.id, f.service_id, f.card_uuid, f.outcome, f.outcome_timestamp, f.accepted_suggestions, f.override_code, f.override_system, f.override_display,
          f.user_comment, f.client_iss, (SELECT c.fhir_server FROM card c WHERE c.uuid = f.card_uuid AND c.client_iss = f.client_iss), f.known_card, f.received_at
        FROM feedback f;
      DROP TABLE feedback;
      ALTER TABLE feedback_v5 RENAME TO feedback;
      CREATE INDEX feedback_card ON feedback(card_uuid);
      CREATE INDEX feedback_received ON feedback(received_at);
      CREATE INDEX recommendation_tenant ON recommendation(fhir_server, patient_id, created_at);
    `,
    // first, the calls' servers are spelled one way (src/domain/tenant.ts), so the copies above carry that spelling
    before: normalizeCallServers,
  },
  {
    // subscription notifications (issue 18, src/notify/): a durable queue, one row per (subscription, event number),
    // so a repeated event is processed once and a restart loses nothing; the newest event number seen per subscription
    // detects missed events
    version: 6,
    sql: `
      CREATE TABLE notify_event (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        subscription TEXT NOT NULL,
        event_number INTEGER,
        kind TEXT NOT NULL,
        focus TEXT,
        resource TEXT,
        since TEXT,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TEXT NOT NULL,
        lease_until TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        done_at TEXT,
        UNIQUE (subscription, event_number)
      );
      CREATE INDEX notify_event_due ON notify_event(state, next_at);
      CREATE TABLE notify_subscription (
        subscription TEXT PRIMARY KEY,
        last_event INTEGER NOT NULL,
        last_at TEXT NOT NULL
      );
    `,
  },
];


/** hook_call.fhir_server as normalizeFhirServer spells it (migration 4 only dropped trailing slashes). */
function normalizeCallServers(db: Database.Database): void {
  const update = db.prepare(`UPDATE hook_call SET fhir_server = ? WHERE fhir_server = ?`);
  for (const { s } of db.prepare(`SELECT DISTINCT fhir_server AS s FROM hook_call WHERE fhir_server IS NOT NULL`).all() as { s: string }[]) {
    const n = normalizeFhirServer(s);
    if (n !== s) update.run(n ?? null, s);
  }
}
