// SQLite store (better-sqlite3, WAL): the embedded default, a single file under the data directory.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FeedbackItem } from '../cds/protocol.js';
import type { Recommendation } from '../domain/recommendation.js';
import type { FeedbackResult, HookRecord, Store, StoredRecommendation } from './store.js';

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
];

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly insertCall;
  private readonly insertRec;
  private readonly insertCard;
  private readonly insertFeedback;
  private readonly cardExists;
  private readonly selectRec;
  private readonly recordTx;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.insertCall = this.db.prepare(
      `INSERT INTO hook_call (hook_instance, service_id, hook, client_iss, patient_id, outcome, fhir_ms, evaluate_ms, total_ms, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertRec = this.db.prepare(
      `INSERT OR IGNORE INTO recommendation (id, hook_instance, patient_id, drug, kind, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertCard = this.db.prepare(
      `INSERT OR IGNORE INTO card (uuid, recommendation_id, hook_instance, service_id, suggestion_uuids, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.insertFeedback = this.db.prepare(
      `INSERT OR IGNORE INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, accepted_suggestions, override_code, override_system,
         override_display, user_comment, client_iss, known_card, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.cardExists = this.db.prepare(`SELECT 1 FROM card WHERE uuid = ?`);
    this.selectRec = this.db.prepare(`SELECT body, patient_id, hook_instance, created_at FROM recommendation WHERE id = ?`);
    this.recordTx = this.db.transaction((r: HookRecord, now: string) => {
      this.insertCall.run(r.hookInstance, r.serviceId, r.hook, r.clientIss, r.patientId, r.outcome, r.timings.fhirMs, r.timings.evaluateMs, r.timings.totalMs, now);
      for (const rec of r.recommendations) this.insertRec.run(rec.id, r.hookInstance, r.patientId, rec.drug.name, rec.kind, JSON.stringify(rec), now);
      for (const c of r.cards) this.insertCard.run(c.uuid, c.recommendationId, r.hookInstance, r.serviceId, JSON.stringify(c.suggestionUuids), now);
    });
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
      }).immediate();
    }
  }

  async recordHook(r: HookRecord): Promise<void> {
    this.recordTx(r, new Date().toISOString());
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

  /** Feedback rows for tests and reports. */
  feedbackRows(): Record<string, unknown>[] {
    return this.db.prepare(`SELECT * FROM feedback ORDER BY id`).all() as Record<string, unknown>[];
  }

  async health(): Promise<{ ok: boolean; detail?: string }> {
    try {
      this.db.prepare('SELECT 1').get();
      return { ok: true };
    } catch (e) {
      return { ok: false, detail: (e as Error).name };
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
