// PostgreSQL schema: the versioned migrations of the shared store (src/store/postgres.ts applies them under an
// advisory lock, in order, in one transaction).
import type pg from 'pg';
import { normalizeFhirServer } from '../domain/tenant.js';

/** Versioned migrations, applied in order in one transaction. Never edit an applied one: add the next version. */
export const PG_MIGRATIONS: { version: number; sql: string; before?: (c: pg.PoolClient) => Promise<void> }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE hook_call (
        id TEXT PRIMARY KEY,
        hook_instance TEXT NOT NULL,
        service_id TEXT NOT NULL,
        hook TEXT NOT NULL,
        client_iss TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        ordered_drugs JSONB NOT NULL,
        outcome TEXT NOT NULL,
        detail TEXT,
        fhir_ms DOUBLE PRECISION NOT NULL,
        evaluate_ms DOUBLE PRECISION NOT NULL,
        total_ms DOUBLE PRECISION NOT NULL,
        versions JSONB NOT NULL,
        card_uuids JSONB NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX hook_call_instance ON hook_call (hook_instance);
      CREATE INDEX hook_call_created ON hook_call (created_at);
      CREATE TABLE recommendation (
        id TEXT PRIMARY KEY,
        hook_call_id TEXT,
        hook_instance TEXT NOT NULL,
        patient_id TEXT NOT NULL,
        drug TEXT NOT NULL,
        kind TEXT NOT NULL,
        method_id TEXT,
        method_version TEXT,
        body JSONB NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX recommendation_patient ON recommendation (patient_id, created_at);
      CREATE INDEX recommendation_created ON recommendation (created_at);
      CREATE TABLE card (
        uuid TEXT PRIMARY KEY,
        recommendation_id TEXT NOT NULL REFERENCES recommendation (id),
        hook_call_id TEXT,
        hook_instance TEXT NOT NULL,
        service_id TEXT NOT NULL,
        drug TEXT NOT NULL,
        kind TEXT NOT NULL,
        indicator TEXT NOT NULL,
        genes JSONB NOT NULL,
        suggestion_uuids JSONB NOT NULL,
        created_at TIMESTAMPTZ NOT NULL
      );
      CREATE INDEX card_created ON card (created_at);
      CREATE INDEX card_recommendation ON card (recommendation_id);
      CREATE TABLE feedback (
        id BIGSERIAL PRIMARY KEY,
        service_id TEXT NOT NULL,
        card_uuid TEXT NOT NULL,
        outcome TEXT NOT NULL,
        outcome_timestamp TIMESTAMPTZ NOT NULL,
        accepted_suggestions JSONB,
        override_code TEXT,
        override_system TEXT,
        override_display TEXT,
        user_comment TEXT,
        client_iss TEXT NOT NULL,
        known_card BOOLEAN NOT NULL,
        received_at TIMESTAMPTZ NOT NULL,
        UNIQUE (card_uuid, outcome, outcome_timestamp)
      );
      CREATE INDEX feedback_card ON feedback (card_uuid);
      CREATE INDEX feedback_received ON feedback (received_at);
    `,
  },
  {
    // monitoring (patient-view): what the card was computed from, so an override of the same facts is not repeated
    version: 2,
    sql: `
      ALTER TABLE card ADD COLUMN facts_fingerprint TEXT;
      CREATE INDEX card_fingerprint ON card (facts_fingerprint);
    `,
  },
  {
    // CDS client tokens seen by any replica (SHA-256 of iss + jti), until they expire: replay protection across replicas
    version: 3,
    sql: `
      CREATE TABLE cds_jti (key TEXT PRIMARY KEY, expires_at TIMESTAMPTZ NOT NULL);
      CREATE INDEX cds_jti_expires ON cds_jti (expires_at);
    `,
  },
  {
    // accepted is not applied: the order each update suggestion intends, and what the next call for that order showed
    // (one outcome row per intended order, inserted once, never changed)
    version: 4,
    sql: `
      ALTER TABLE hook_call ADD COLUMN fhir_server TEXT;
      CREATE TABLE intended_order (
        id BIGSERIAL PRIMARY KEY,
        card_uuid TEXT NOT NULL,
        suggestion_uuid TEXT NOT NULL,
        order_ref TEXT NOT NULL,
        rxnorm JSONB NOT NULL,
        dose JSONB,
        created_at TIMESTAMPTZ NOT NULL,
        UNIQUE (card_uuid, suggestion_uuid, order_ref)
      );
      CREATE INDEX intended_order_ref ON intended_order (order_ref);
      CREATE INDEX intended_order_created ON intended_order (created_at);
      CREATE TABLE intended_outcome (
        intended_id BIGINT PRIMARY KEY,
        outcome TEXT NOT NULL,
        seen JSONB NOT NULL,
        hook_instance TEXT NOT NULL,
        hook_call_id TEXT NOT NULL,
        observed_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
  {
    // tenancy (issue 21), as migration 5 of the SQLite store: client and FHIR server on recommendations, cards and
    // feedback (from their hook call where it is known; NULL otherwise: answered by no client, shown to no SMART app),
    // and feedback keyed by its own client
    version: 5,
    sql: `
      ALTER TABLE recommendation ADD COLUMN client_iss TEXT, ADD COLUMN fhir_server TEXT;
      ALTER TABLE card ADD COLUMN client_iss TEXT, ADD COLUMN fhir_server TEXT;
      ALTER TABLE feedback ADD COLUMN fhir_server TEXT;
      UPDATE recommendation r SET client_iss = h.client_iss, fhir_server = h.fhir_server FROM hook_call h WHERE h.id = r.hook_call_id;
      UPDATE recommendation r SET client_iss = x.client_iss, fhir_server = x.fhir_server
        FROM (SELECT hook_instance, min(client_iss) AS client_iss, CASE WHEN count(DISTINCT fhir_server) <= 1 THEN min(fhir_server) END AS fhir_server
              FROM hook_call GROUP BY hook_instance HAVING count(DISTINCT client_iss) = 1) x
        WHERE r.client_iss IS NULL AND x.hook_instance = r.hook_instance;
      UPDATE card c SET client_iss = r.client_iss, fhir_server = r.fhir_server FROM recommendation r WHERE r.id = c.recommendation_id;
      UPDATE feedback f SET fhir_server = c.fhir_server FROM card c WHERE c.uuid = f.card_uuid AND c.client_iss = f.client_iss;
      ALTER TABLE feedback DROP CONSTRAINT IF EXISTS feedback_card_uuid_outcome_outcome_timestamp_key;
      ALTER TABLE feedback ADD CONSTRAINT feedback_client_card_outcome_key UNIQUE (client_iss, card_uuid, outcome, outcome_timestamp);
      CREATE INDEX recommendation_tenant ON recommendation (fhir_server, patient_id, created_at);
    `,
    // first, the calls' servers are spelled one way (src/domain/tenant.ts), so the copies carry that spelling
    before: normalizeCallServers,
  },
  {
    // subscription notifications (issue 18), as migration 6 of the SQLite store: the durable queue and the newest
    // event number seen per subscription
    version: 6,
    sql: `
      CREATE TABLE notify_event (
        id BIGSERIAL PRIMARY KEY,
        subscription TEXT NOT NULL,
        event_number BIGINT,
        kind TEXT NOT NULL,
        focus TEXT,
        resource JSONB,
        since TIMESTAMPTZ,
        state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_at TIMESTAMPTZ NOT NULL,
        lease_until TIMESTAMPTZ,
        last_error TEXT,
        created_at TIMESTAMPTZ NOT NULL,
        done_at TIMESTAMPTZ,
        UNIQUE (subscription, event_number)
      );
      CREATE INDEX notify_event_due ON notify_event (state, next_at);
      CREATE TABLE notify_subscription (
        subscription TEXT PRIMARY KEY,
        last_event BIGINT NOT NULL,
        last_at TIMESTAMPTZ NOT NULL
      );
    `,
  },
];


/** hook_call.fhir_server as normalizeFhirServer spells it (migration 4 only dropped trailing slashes). */
async function normalizeCallServers(c: pg.PoolClient): Promise<void> {
  const { rows } = await c.query<{ s: string }>(`SELECT DISTINCT fhir_server AS s FROM hook_call WHERE fhir_server IS NOT NULL`);
  for (const { s } of rows) {
    const n = normalizeFhirServer(s);
    if (n !== s) await c.query(`UPDATE hook_call SET fhir_server = $1 WHERE fhir_server = $2`, [n ?? null, s]);
  }
}
