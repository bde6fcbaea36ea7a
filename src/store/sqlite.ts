// SQLite store (better-sqlite3, WAL): the embedded default, a single file under the data directory.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FeedbackItem } from '../cds/protocol.js';
import type { Recommendation } from '../domain/recommendation.js';
import { normalizeFhirServer, observedRefs, resolveOpen } from './applied.js';
import { completeRecord } from './audit.js';
import { callFromRow, feedbackFromRow, INTENDED_OF_CARD_SQL, intendedFromRow, openIntendedFromRow, reportRowFrom, type CallRow } from './rows.js';
import type { CardAudit, FeedbackResult, HookRecord, PurgeResult, ReportRow, Store, StoredRecommendation, StoreHealth } from './store.js';

/** Versioned migrations; each runs once, in order, inside a transaction. */
const MIGRATIONS: { version: number; sql: string }[] = [
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
];

/**
 * Unresolved intended orders of the given refs whose card was shown to the same client (and FHIR server, when the card's
 * call had one) for the same patient by another, earlier call, and whose latest feedback is "accepted" no later than
 * this call (by the EHR's outcome time or by when we received it).
 */
const OPEN_INTENDED_SQL = `
  SELECT i.id, i.suggestion_uuid, i.order_ref, i.rxnorm, i.dose, f.accepted_suggestions
  FROM intended_order i
  JOIN card c ON c.uuid = i.card_uuid
  JOIN hook_call h ON h.id = c.hook_call_id
  JOIN feedback f ON f.id = (SELECT f2.id FROM feedback f2 WHERE f2.card_uuid = c.uuid ORDER BY f2.outcome_timestamp DESC, f2.id DESC LIMIT 1)
  WHERE i.order_ref IN ($REFS)
    AND NOT EXISTS (SELECT 1 FROM intended_outcome o WHERE o.intended_id = i.id)
    AND h.patient_id = ? AND h.client_iss = ? AND (h.fhir_server IS NULL OR h.fhir_server = ?)
    AND h.id <> ? AND c.created_at <= ?
    AND f.outcome = 'accepted' AND (f.outcome_timestamp <= ? OR f.received_at <= ?)`;

/** Fingerprints (of the given ones) of this patient's cards whose latest feedback is "overridden". */
const OVERRIDDEN_SQL = `
  SELECT DISTINCT c.facts_fingerprint AS fp FROM card c
  JOIN hook_call h ON h.id = c.hook_call_id
  JOIN feedback f ON f.card_uuid = c.uuid
  WHERE h.patient_id = ? AND c.facts_fingerprint IN ($FPS) AND f.outcome = 'overridden'
    AND NOT EXISTS (SELECT 1 FROM feedback g WHERE g.card_uuid = c.uuid AND g.outcome_timestamp > f.outcome_timestamp)`;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly insertCall;
  private readonly insertRec;
  private readonly insertCard;
  private readonly insertFeedback;
  private readonly insertIntended;
  private readonly insertOutcome;
  private readonly cardExists;
  private readonly selectRec;
  private readonly recordTx;
  private readonly recordManyTx;
  /** migration versions this instance applied (the others were already there) */
  readonly appliedMigrations: number[] = [];

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.insertCall = this.db.prepare(
      `INSERT OR IGNORE INTO hook_call (id, hook_instance, service_id, hook, client_iss, patient_id, ordered_drugs, outcome, detail, fhir_ms, evaluate_ms, total_ms, versions, card_uuids, fhir_server, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertRec = this.db.prepare(
      `INSERT OR IGNORE INTO recommendation (id, hook_call_id, hook_instance, patient_id, drug, kind, method_id, method_version, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertCard = this.db.prepare(
      `INSERT OR IGNORE INTO card (uuid, recommendation_id, hook_call_id, hook_instance, service_id, drug, kind, indicator, genes, suggestion_uuids, facts_fingerprint, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertFeedback = this.db.prepare(
      `INSERT OR IGNORE INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, accepted_suggestions, override_code, override_system,
         override_display, user_comment, client_iss, known_card, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertIntended = this.db.prepare(
      `INSERT OR IGNORE INTO intended_order (card_uuid, suggestion_uuid, order_ref, rxnorm, dose, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.insertOutcome = this.db.prepare(
      `INSERT OR IGNORE INTO intended_outcome (intended_id, outcome, seen, hook_instance, hook_call_id, observed_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.cardExists = this.db.prepare(`SELECT 1 FROM card WHERE uuid = ?`);
    this.selectRec = this.db.prepare(`SELECT body, patient_id, hook_instance, created_at FROM recommendation WHERE id = ?`);
    this.recordTx = this.db.transaction((input: HookRecord) => this.insertRecord(input));
    // a batch in one transaction: one commit (one WAL append) for the batch instead of one per record
    this.recordManyTx = this.db.transaction((inputs: HookRecord[]) => {
      for (const r of inputs) this.insertRecord(r);
    });
  }

  private insertRecord(input: HookRecord): void {
    const r = completeRecord(input);
    const drugOf = new Map(r.recommendations.map((x) => [x.id, x] as const));
    this.insertCall.run(
      r.id, r.hookInstance, r.serviceId, r.hook, r.clientIss, r.patientId, JSON.stringify(r.orderedDrugs ?? []), r.outcome, r.detail ?? null,
      r.timings.fhirMs, r.timings.evaluateMs, r.timings.totalMs, JSON.stringify(r.versions), JSON.stringify(r.cards.map((c) => c.uuid)),
      normalizeFhirServer(r.fhirServer) ?? null, r.at,
    );
    for (const rec of r.recommendations) {
      this.insertRec.run(rec.id, r.id, r.hookInstance, r.patientId, rec.drug.name, rec.kind, rec.method.id, rec.method.version, JSON.stringify(rec), r.at);
    }
    for (const c of r.cards) {
      const rec = drugOf.get(c.recommendationId);
      this.insertCard.run(
        c.uuid, c.recommendationId, r.id, r.hookInstance, r.serviceId, rec?.drug.name ?? '', c.kind ?? rec?.kind ?? '', c.indicator ?? rec?.severity ?? '',
        JSON.stringify(c.genes ?? rec?.genes?.map((g) => g.gene) ?? []), JSON.stringify(c.suggestionUuids), c.factsFingerprint ?? null, r.at,
      );
      for (const i of c.intendedOrders ?? []) this.insertIntended.run(c.uuid, i.suggestionUuid, i.orderRef, JSON.stringify(i.rxnorm), i.dose ? JSON.stringify(i.dose) : null, r.at);
    }
    this.resolveIntended(r);
  }

  /** In the record's transaction: what this call's drafts show about earlier accepted update suggestions (applied.ts). */
  private resolveIntended(r: ReturnType<typeof completeRecord>): void {
    const refs = observedRefs(r);
    if (refs.length === 0) return;
    const rows = this.db
      .prepare(OPEN_INTENDED_SQL.replace('$REFS', refs.map(() => '?').join(', ')))
      .all(...refs, r.patientId, r.clientIss, normalizeFhirServer(r.fhirServer) ?? null, r.id, r.at, r.at, r.at) as Record<string, unknown>[];
    for (const { id, resolution } of resolveOpen(rows.map(openIntendedFromRow), r)) {
      this.insertOutcome.run(Number(id), resolution.outcome, JSON.stringify(resolution.seen), resolution.hookInstance, r.id, resolution.at);
    }
  }

  private migrate(): void {
    this.db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`);
    const applied = new Set((this.db.prepare(`SELECT version FROM schema_migrations`).all() as { version: number }[]).map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (applied.has(m.version)) continue;
      // BEGIN IMMEDIATE takes the write lock first, so two processes starting together apply each migration once
      this.db.transaction(() => {
        const again = this.db.prepare(`SELECT 1 FROM schema_migrations WHERE version = ?`).get(m.version);
        if (again) return;
        this.db.exec(m.sql);
        this.db.prepare(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`).run(m.version, new Date().toISOString());
        this.appliedMigrations.push(m.version);
      }).immediate();
    }
  }

  async init(): Promise<void> {
    // migrations run in the constructor (synchronous driver)
  }

  /** Backends store the id they are given (AuditedStore pseudonymizes before it gets here). */
  patientKey(patientId: string): string {
    return patientId;
  }

  async recordHook(r: HookRecord): Promise<void> {
    this.recordTx(r);
  }

  /** Several records in one transaction: all are written, or none (each is idempotent by id, so a retry is safe). */
  async recordHooks(rs: HookRecord[]): Promise<void> {
    this.recordManyTx(rs);
  }

  async recordFeedback(serviceId: string, clientIss: string, items: FeedbackItem[]): Promise<FeedbackResult> {
    const res: FeedbackResult = { stored: 0, duplicates: 0, unknownCards: 0 };
    const now = new Date().toISOString();
    this.db.transaction(() => {
      for (const f of items) {
        const known = this.cardExists.get(f.card) !== undefined;
        if (!known) res.unknownCards++;
        const info = this.insertFeedback.run(
          serviceId,
          f.card,
          f.outcome,
          new Date(f.outcomeTimestamp).toISOString(),
          f.acceptedSuggestions ? JSON.stringify(f.acceptedSuggestions.map((s) => s.id)) : null,
          f.overrideReason?.reason?.code ?? null,
          f.overrideReason?.reason?.system ?? null,
          f.overrideReason?.reason?.display ?? null,
          f.overrideReason?.userComment ?? null,
          clientIss,
          known ? 1 : 0,
          now,
        );
        if (info.changes === 1) res.stored++;
        else res.duplicates++;
      }
    })();
    return res;
  }

  async getRecommendation(id: string): Promise<StoredRecommendation | undefined> {
    const row = this.selectRec.get(id) as { body: string; patient_id: string; hook_instance: string; created_at: string } | undefined;
    if (!row) return undefined;
    return { recommendation: JSON.parse(row.body) as Recommendation, patientId: row.patient_id, hookInstance: row.hook_instance, createdAt: row.created_at };
  }

  async recommendationsForPatient(patientId: string, limit = 50): Promise<StoredRecommendation[]> {
    const rows = this.db
      .prepare(`SELECT body, patient_id, hook_instance, created_at FROM recommendation WHERE patient_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`)
      .all(patientId, limit) as { body: string; patient_id: string; hook_instance: string; created_at: string }[];
    return rows.map((row) => ({ recommendation: JSON.parse(row.body) as Recommendation, patientId: row.patient_id, hookInstance: row.hook_instance, createdAt: row.created_at }));
  }

  async overriddenFingerprints(patientId: string, fingerprints: string[]): Promise<Set<string>> {
    if (fingerprints.length === 0) return new Set();
    const rows = this.db.prepare(OVERRIDDEN_SQL.replace('$FPS', fingerprints.map(() => '?').join(', '))).all(patientId, ...fingerprints) as { fp: string }[];
    return new Set(rows.map((r) => r.fp));
  }

  async cardAudit(cardUuid: string): Promise<CardAudit | undefined> {
    const card = this.db.prepare(`SELECT * FROM card WHERE uuid = ?`).get(cardUuid) as Record<string, string> | undefined;
    const feedback = (this.db.prepare(`SELECT * FROM feedback WHERE card_uuid = ? ORDER BY outcome_timestamp, id`).all(cardUuid) as Record<string, unknown>[]).map(feedbackFromRow);
    if (!card) return undefined;
    const rec = await this.getRecommendation(card['recommendation_id']!);
    const call = card['hook_call_id'] ? (this.db.prepare(`SELECT * FROM hook_call WHERE id = ?`).get(card['hook_call_id']) as CallRow | undefined) : undefined;
    const intended = this.db.prepare(INTENDED_OF_CARD_SQL).all(cardUuid) as Record<string, unknown>[];
    return {
      card: {
        uuid: card['uuid']!,
        recommendationId: card['recommendation_id']!,
        suggestionUuids: JSON.parse(card['suggestion_uuids']!) as string[],
        kind: card['kind']!,
        indicator: card['indicator']!,
        genes: JSON.parse(card['genes']!) as string[],
        ...(card['facts_fingerprint'] ? { factsFingerprint: card['facts_fingerprint'] } : {}),
        serviceId: card['service_id']!,
        hookInstance: card['hook_instance']!,
        drug: card['drug']!,
        createdAt: card['created_at']!,
      },
      call: call ? callFromRow(call) : undefined,
      recommendation: rec?.recommendation,
      feedback,
      intendedOrders: intended.map(intendedFromRow),
    };
  }

  async reportRows(since?: Date): Promise<ReportRow[]> {
    const rows = this.db
      .prepare(
        `SELECT c.uuid, c.service_id, c.drug, c.kind, c.indicator, c.genes, c.created_at, f.outcome, f.override_code, f.override_display, f.accepted_suggestions,
           (SELECT json_group_array(json_object('s', i.suggestion_uuid, 'o', o.outcome)) FROM intended_order i LEFT JOIN intended_outcome o ON o.intended_id = i.id
            WHERE i.card_uuid = c.uuid) AS intended
         FROM card c LEFT JOIN feedback f ON f.id = (SELECT f2.id FROM feedback f2 WHERE f2.card_uuid = c.uuid ORDER BY f2.outcome_timestamp DESC, f2.id DESC LIMIT 1)
         WHERE c.created_at >= ? ORDER BY c.created_at, c.uuid`,
      )
      .all(since ? since.toISOString() : '') as Record<string, string | null>[];
    return rows.map(reportRowFrom);
  }

  async unknownCardFeedback(since?: Date): Promise<number> {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM feedback f WHERE f.received_at >= ? AND NOT EXISTS (SELECT 1 FROM card c WHERE c.uuid = f.card_uuid)`)
      .get(since ? since.toISOString() : '') as { n: number };
    return row.n;
  }

  async purge(before: Date): Promise<PurgeResult> {
    const b = before.toISOString();
    return this.db.transaction((): PurgeResult => {
      // intended orders (and their outcomes) go with their cards; not counted separately
      const intendedOf = `SELECT id FROM intended_order WHERE created_at < ? OR card_uuid IN (SELECT uuid FROM card WHERE created_at < ?)`;
      this.db.prepare(`DELETE FROM intended_outcome WHERE intended_id IN (${intendedOf})`).run(b, b);
      this.db.prepare(`DELETE FROM intended_order WHERE id IN (${intendedOf})`).run(b, b);
      const feedback = this.db
        .prepare(`DELETE FROM feedback WHERE received_at < ? OR card_uuid IN (SELECT uuid FROM card WHERE created_at < ?)`)
        .run(b, b).changes;
      const cards = this.db.prepare(`DELETE FROM card WHERE created_at < ? OR recommendation_id IN (SELECT id FROM recommendation WHERE created_at < ?)`).run(b, b).changes;
      const recommendations = this.db.prepare(`DELETE FROM recommendation WHERE created_at < ?`).run(b).changes;
      const hookCalls = this.db.prepare(`DELETE FROM hook_call WHERE created_at < ?`).run(b).changes;
      return { before: b, hookCalls, recommendations, cards, feedback };
    }).immediate();
  }

  /** Feedback rows for tests and reports. */
  feedbackRows(): Record<string, unknown>[] {
    return this.db.prepare(`SELECT * FROM feedback ORDER BY id`).all() as Record<string, unknown>[];
  }

  async health(): Promise<StoreHealth> {
    try {
      this.db.prepare('SELECT 1').get();
      return { ok: true, state: 'ok' };
    } catch (e) {
      return { ok: false, state: 'down', detail: (e as Error).name };
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }
}
