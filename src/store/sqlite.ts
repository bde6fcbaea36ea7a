// SQLite store (better-sqlite3, WAL): the embedded default, a single file under the data directory.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { FeedbackItem } from '../cds/protocol.js';
import type { Recommendation } from '../domain/recommendation.js';
import type { Tenant } from '../domain/tenant.js';
import { normalizeFhirServer, observedRefs, resolveOpen } from './applied.js';
import { completeRecord } from './audit.js';
import { SqliteNotificationQueue } from './notifyQueueSqlite.js';
import { SQLITE_MIGRATIONS } from './sqliteSchema.js';
import { callFromRow, feedbackFromRow, INTENDED_OF_CARD_SQL, intendedFromRow, openIntendedFromRow, reportRowFrom, type CallRow } from './rows.js';
import type { CardAudit, FeedbackResult, HookRecord, PurgeResult, ReportRow, Store, StoredRecommendation, StoreHealth } from './store.js';

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
  JOIN feedback f ON f.id = (SELECT f2.id FROM feedback f2 WHERE f2.card_uuid = c.uuid AND f2.client_iss = c.client_iss ORDER BY f2.outcome_timestamp DESC, f2.id DESC LIMIT 1)
  WHERE i.order_ref IN ($REFS)
    AND NOT EXISTS (SELECT 1 FROM intended_outcome o WHERE o.intended_id = i.id)
    AND h.patient_id = ? AND h.client_iss = ? AND (h.fhir_server IS NULL OR h.fhir_server = ?)
    AND h.id <> ? AND c.created_at <= ?
    AND f.outcome = 'accepted' AND (f.outcome_timestamp <= ? OR f.received_at <= ?)`;

/**
 * Fingerprints (of the given ones) of this patient's cards shown to this client at this FHIR server (or both without
 * one) whose latest feedback from that client is "overridden". Another client's feedback never counts.
 */
const OVERRIDDEN_SQL = `
  SELECT DISTINCT c.facts_fingerprint AS fp FROM card c
  JOIN hook_call h ON h.id = c.hook_call_id
  JOIN feedback f ON f.card_uuid = c.uuid AND f.client_iss = c.client_iss
  WHERE h.patient_id = ? AND c.client_iss = ? AND c.fhir_server IS ? AND c.facts_fingerprint IN ($FPS) AND f.outcome = 'overridden'
    AND NOT EXISTS (SELECT 1 FROM feedback g WHERE g.card_uuid = c.uuid AND g.client_iss = c.client_iss AND g.outcome_timestamp > f.outcome_timestamp)`;

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  private readonly insertCall;
  private readonly insertRec;
  private readonly insertCard;
  private readonly insertFeedback;
  private readonly insertIntended;
  private readonly insertOutcome;
  private readonly cardOfClient;
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
      `INSERT OR IGNORE INTO recommendation (id, hook_call_id, hook_instance, patient_id, drug, kind, method_id, method_version, body, client_iss, fhir_server, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertCard = this.db.prepare(
      `INSERT OR IGNORE INTO card (uuid, recommendation_id, hook_call_id, hook_instance, service_id, drug, kind, indicator, genes, suggestion_uuids, facts_fingerprint,
         client_iss, fhir_server, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertFeedback = this.db.prepare(
      `INSERT OR IGNORE INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, accepted_suggestions, override_code, override_system,
         override_display, user_comment, client_iss, fhir_server, known_card, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.insertIntended = this.db.prepare(
      `INSERT OR IGNORE INTO intended_order (card_uuid, suggestion_uuid, order_ref, rxnorm, dose, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.insertOutcome = this.db.prepare(
      `INSERT OR IGNORE INTO intended_outcome (intended_id, outcome, seen, hook_instance, hook_call_id, observed_at) VALUES (?, ?, ?, ?, ?, ?)`,
    );
    this.cardOfClient = this.db.prepare(`SELECT fhir_server FROM card WHERE uuid = ? AND client_iss = ?`);
    this.selectRec = this.db.prepare(`SELECT body, patient_id, hook_instance, client_iss, fhir_server, created_at FROM recommendation WHERE id = ?`);
    // write transactions BEGIN IMMEDIATE: a deferred one that reads first and then writes fails at once with
    // SQLITE_BUSY_SNAPSHOT when another connection (the audit writer thread, another process) committed in between;
    // busy_timeout does not help there. IMMEDIATE takes the write lock first and waits for it (busy_timeout).
    const recordTx = this.db.transaction((input: HookRecord) => this.insertRecord(input));
    this.recordTx = (input: HookRecord) => recordTx.immediate(input);
    // a batch in one transaction: one commit (one WAL append) for the batch instead of one per record
    const recordManyTx = this.db.transaction((inputs: HookRecord[]) => {
      for (const r of inputs) this.insertRecord(r);
    });
    this.recordManyTx = (inputs: HookRecord[]) => recordManyTx.immediate(inputs);
  }

  private insertRecord(input: HookRecord): void {
    const r = completeRecord(input);
    const drugOf = new Map(r.recommendations.map((x) => [x.id, x] as const));
    const server = normalizeFhirServer(r.fhirServer) ?? null;
    this.insertCall.run(
      r.id, r.hookInstance, r.serviceId, r.hook, r.clientIss, r.patientId, JSON.stringify(r.orderedDrugs ?? []), r.outcome, r.detail ?? null,
      r.timings.fhirMs, r.timings.evaluateMs, r.timings.totalMs, JSON.stringify(r.versions), JSON.stringify(r.cards.map((c) => c.uuid)),
      server, r.at,
    );
    for (const rec of r.recommendations) {
      this.insertRec.run(rec.id, r.id, r.hookInstance, r.patientId, rec.drug.name, rec.kind, rec.method.id, rec.method.version, JSON.stringify(rec), r.clientIss, server, r.at);
    }
    for (const c of r.cards) {
      const rec = drugOf.get(c.recommendationId);
      this.insertCard.run(
        c.uuid, c.recommendationId, r.id, r.hookInstance, r.serviceId, rec?.drug.name ?? '', c.kind ?? rec?.kind ?? '', c.indicator ?? rec?.severity ?? '',
        JSON.stringify(c.genes ?? rec?.genes?.map((g) => g.gene) ?? []), JSON.stringify(c.suggestionUuids), c.factsFingerprint ?? null, r.clientIss, server, r.at,
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
    for (const m of SQLITE_MIGRATIONS) {
      if (applied.has(m.version)) continue;
      // BEGIN IMMEDIATE takes the write lock first, so two processes starting together apply each migration once
      this.db.transaction(() => {
        const again = this.db.prepare(`SELECT 1 FROM schema_migrations WHERE version = ?`).get(m.version);
        if (again) return;
        m.before?.(this.db);
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
        // known only when this client received the card; otherwise the same answer as for a card never issued
        const card = this.cardOfClient.get(f.card, clientIss) as { fhir_server: string | null } | undefined;
        const known = card !== undefined;
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
          card?.fhir_server ?? null,
          known ? 1 : 0,
          now,
        );
        if (info.changes === 1) res.stored++;
        else res.duplicates++;
      }
    }).immediate();
    return res;
  }

  async getRecommendation(id: string): Promise<StoredRecommendation | undefined> {
    const row = this.selectRec.get(id) as RecRow | undefined;
    return row ? storedRec(row) : undefined;
  }

  async recommendationsForPatient(patientId: string, fhirServer: string | undefined, limit = 50): Promise<StoredRecommendation[]> {
    const rows = this.db
      .prepare(
        `SELECT body, patient_id, hook_instance, client_iss, fhir_server, created_at FROM recommendation WHERE patient_id = ? AND fhir_server IS ?
         ORDER BY created_at DESC, rowid DESC LIMIT ?`,
      )
      .all(patientId, normalizeFhirServer(fhirServer) ?? null, limit) as RecRow[];
    return rows.map(storedRec);
  }

  async overriddenFingerprints(tenant: Tenant, patientId: string, fingerprints: string[]): Promise<Set<string>> {
    if (fingerprints.length === 0) return new Set();
    const rows = this.db
      .prepare(OVERRIDDEN_SQL.replace('$FPS', fingerprints.map(() => '?').join(', ')))
      .all(patientId, tenant.iss, normalizeFhirServer(tenant.fhirServer) ?? null, ...fingerprints) as { fp: string }[];
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
        ...(card['client_iss'] ? { clientIss: card['client_iss'] } : {}),
        ...(card['fhir_server'] ? { fhirServer: card['fhir_server'] } : {}),
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
         FROM card c LEFT JOIN feedback f ON f.id = (SELECT f2.id FROM feedback f2 WHERE f2.card_uuid = c.uuid AND (f2.client_iss = c.client_iss OR (c.client_iss IS NULL AND f2.known_card = 1)) ORDER BY f2.outcome_timestamp DESC, f2.id DESC LIMIT 1)
         WHERE c.created_at >= ? ORDER BY c.created_at, c.uuid`,
      )
      .all(since ? since.toISOString() : '') as Record<string, string | null>[];
    return rows.map(reportRowFrom);
  }

  async unknownCardFeedback(since?: Date): Promise<number> {
    const row = this.db
      .prepare(`SELECT count(*) AS n FROM feedback f WHERE f.received_at >= ? AND NOT EXISTS (SELECT 1 FROM card c WHERE c.uuid = f.card_uuid AND c.client_iss = f.client_iss)`)
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
      // processed notifications (kept to recognise a repeated event number); parked ones stay until looked at
      this.db.prepare(`DELETE FROM notify_event WHERE state = 'done' AND done_at < ?`).run(b);
      return { before: b, hookCalls, recommendations, cards, feedback };
    }).immediate();
  }

  /** Feedback rows for tests and reports. */
  feedbackRows(): Record<string, unknown>[] {
    return this.db.prepare(`SELECT * FROM feedback ORDER BY id`).all() as Record<string, unknown>[];
  }

  private notifyQueue: SqliteNotificationQueue | undefined;
  notifications(): SqliteNotificationQueue {
    return (this.notifyQueue ??= new SqliteNotificationQueue(this.db));
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

interface RecRow {
  body: string;
  patient_id: string;
  hook_instance: string;
  client_iss: string | null;
  fhir_server: string | null;
  created_at: string;
}

function storedRec(row: RecRow): StoredRecommendation {
  return {
    recommendation: JSON.parse(row.body) as Recommendation,
    patientId: row.patient_id,
    hookInstance: row.hook_instance,
    createdAt: row.created_at,
    ...(row.client_iss ? { clientIss: row.client_iss } : {}),
    ...(row.fhir_server ? { fhirServer: row.fhir_server } : {}),
  };
}
