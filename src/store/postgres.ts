// PostgreSQL store (pg): shared by every replica; migrations under an advisory lock so replicas starting together apply them once.
import os from 'node:os';
import pg from 'pg';
import type { FeedbackItem } from '../cds/protocol.js';
import type { Recommendation } from '../domain/recommendation.js';
import type { Tenant } from '../domain/tenant.js';
import { normalizeFhirServer, observedRefs, resolveOpen } from './applied.js';
import { completeRecord } from './audit.js';
import { PgNotificationQueue } from './notifyQueuePg.js';
import { PG_MIGRATIONS } from './pgSchema.js';
import { callFromRow, feedbackFromRow, INTENDED_OF_CARD_SQL, intendedFromRow, isoOf, openIntendedFromRow, reportRowFrom } from './rows.js';
import type { CardAudit, FeedbackResult, HookRecord, PurgeResult, ReportRow, Store, StoredRecommendation, StoreHealth } from './store.js';

/** As OPEN_INTENDED_SQL in sqlite.ts: unresolved intended orders of accepted cards this call may resolve. */
const OPEN_INTENDED_SQL = `
  SELECT i.id, i.suggestion_uuid, i.order_ref, i.rxnorm, i.dose, f.accepted_suggestions
  FROM intended_order i
  JOIN card c ON c.uuid = i.card_uuid
  JOIN hook_call h ON h.id = c.hook_call_id
  JOIN LATERAL (
    SELECT outcome, accepted_suggestions, outcome_timestamp, received_at FROM feedback f2 WHERE f2.card_uuid = c.uuid AND f2.client_iss = c.client_iss ORDER BY f2.outcome_timestamp DESC, f2.id DESC LIMIT 1
  ) f ON true
  WHERE i.order_ref = ANY($1::text[])
    AND NOT EXISTS (SELECT 1 FROM intended_outcome o WHERE o.intended_id = i.id)
    AND h.patient_id = $2 AND h.client_iss = $3 AND (h.fhir_server IS NULL OR h.fhir_server = $4::text)
    AND h.id <> $5 AND c.created_at <= $6::timestamptz
    AND f.outcome = 'accepted' AND (f.outcome_timestamp <= $6::timestamptz OR f.received_at <= $6::timestamptz)`;

export interface PgStoreOptions {
  connectionString: string;
  poolSize?: number;
  /** how long to wait for a connection before failing (the hook path never waits on it) */
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  onPoolError?: (e: Error) => void;
}

export class PgStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: pg.Pool;
  private initialized?: Promise<void>;
  /** migration versions this instance applied (the others were already there) */
  appliedMigrations: number[] = [];

  constructor(o: PgStoreOptions) {
    this.pool = new pg.Pool({
      connectionString: o.connectionString,
      max: o.poolSize ?? 10,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 2000,
      idleTimeoutMillis: 30_000,
      statement_timeout: o.statementTimeoutMs ?? 5000,
      query_timeout: (o.statementTimeoutMs ?? 5000) + 1000,
      application_name: 'pgx-dosing-cds',
    });
    // an idle connection dropped by the server must not crash the process; the next query reconnects
    this.pool.on('error', (e) => o.onPoolError?.(e));
  }

  /** Apply pending migrations (once per instance; retried after a failure). */
  init(): Promise<void> {
    this.initialized ??= this.migrate().catch((e: unknown) => {
      this.initialized = undefined;
      throw e;
    });
    return this.initialized;
  }

  private async migrate(): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      // replicas starting together queue here; the first applies, the others find the versions recorded
      await client.query(`SELECT pg_advisory_xact_lock(hashtext('pgx-dosing-migrations:' || coalesce(current_schema(), '')))`);
      await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), applied_by TEXT)`);
      const applied = new Set((await client.query<{ version: number }>(`SELECT version FROM schema_migrations`)).rows.map((r) => r.version));
      const mine: number[] = [];
      for (const m of PG_MIGRATIONS) {
        if (applied.has(m.version)) continue;
        await m.before?.(client);
        await client.query(m.sql);
        await client.query(`INSERT INTO schema_migrations (version, applied_by) VALUES ($1, $2)`, [m.version, `${os.hostname()}:${process.pid}`]);
        mine.push(m.version);
      }
      await client.query('COMMIT');
      this.appliedMigrations = mine;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    await this.init();
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (e) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw e;
    } finally {
      client.release(broken);
    }
  }

  private notifyQueue: PgNotificationQueue | undefined;
  notifications(): PgNotificationQueue {
    return (this.notifyQueue ??= new PgNotificationQueue((fn) => this.tx(fn)));
  }

  /** Replay protection across replicas (src/cds/sharedReplayStore.ts): one statement, atomic under concurrency. */
  async claimReplayKey(key: string, expiresAtMs: number): Promise<boolean> {
    const rows = await this.query(
      `INSERT INTO cds_jti (key, expires_at) VALUES ($1, to_timestamp($2::double precision / 1000))
       ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at WHERE cds_jti.expires_at <= now()
       RETURNING 1 AS claimed`,
      [key, expiresAtMs],
    );
    return rows.length === 1;
  }

  async purgeExpiredReplayKeys(): Promise<number> {
    await this.init();
    return (await this.pool.query(`DELETE FROM cds_jti WHERE expires_at <= now()`)).rowCount ?? 0;
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    await this.init();
    return (await this.pool.query<R>(sql, params)).rows;
  }

  /** One statement (one round trip, atomic): the call, its recommendations and its cards; replays change nothing. */
  /** Backends store the id they are given (AuditedStore pseudonymizes before it gets here). */
  patientKey(patientId: string): string {
    return patientId;
  }

  async recordHook(input: HookRecord): Promise<void> {
    const r = completeRecord(input);
    const recs = new Map(r.recommendations.map((x) => [x.id, x] as const));
    const recRows = r.recommendations.map((rec) => ({ id: rec.id, drug: rec.drug.name, kind: rec.kind, method_id: rec.method.id, method_version: rec.method.version, body: rec }));
    const cardRows = r.cards.map((card) => {
      const rec = recs.get(card.recommendationId);
      return {
        uuid: card.uuid,
        recommendation_id: card.recommendationId,
        drug: rec?.drug.name ?? '',
        kind: card.kind ?? rec?.kind ?? '',
        indicator: card.indicator ?? rec?.severity ?? '',
        genes: card.genes ?? rec?.genes?.map((g) => g.gene) ?? [],
        suggestion_uuids: card.suggestionUuids,
        facts_fingerprint: card.factsFingerprint ?? null,
      };
    });
    const intendedRows = r.cards.flatMap((card) =>
      (card.intendedOrders ?? []).map((i) => ({ card_uuid: card.uuid, suggestion_uuid: i.suggestionUuid, order_ref: i.orderRef, rxnorm: i.rxnorm, dose: i.dose ?? null })),
    );
    await this.query(
      `WITH call AS (
         INSERT INTO hook_call (id, hook_instance, service_id, hook, client_iss, patient_id, ordered_drugs, outcome, detail, fhir_ms, evaluate_ms, total_ms, versions, card_uuids, fhir_server, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12, $13::jsonb, $14::jsonb, $18, $15) ON CONFLICT (id) DO NOTHING
       ), recs AS (
         INSERT INTO recommendation (id, hook_call_id, hook_instance, patient_id, drug, kind, method_id, method_version, body, client_iss, fhir_server, created_at)
         SELECT x.id, $1, $2, $6, x.drug, x.kind, x.method_id, x.method_version, x.body, $5, $18, $15
         FROM jsonb_to_recordset($16::jsonb) AS x(id text, drug text, kind text, method_id text, method_version text, body jsonb)
         ON CONFLICT (id) DO NOTHING
       ), cards AS (
         INSERT INTO card (uuid, recommendation_id, hook_call_id, hook_instance, service_id, drug, kind, indicator, genes, suggestion_uuids, facts_fingerprint, client_iss, fhir_server, created_at)
         SELECT x.uuid, x.recommendation_id, $1, $2, $3, x.drug, x.kind, x.indicator, x.genes, x.suggestion_uuids, x.facts_fingerprint, $5, $18, $15
         FROM jsonb_to_recordset($17::jsonb) AS x(uuid text, recommendation_id text, drug text, kind text, indicator text, genes jsonb, suggestion_uuids jsonb, facts_fingerprint text)
         ON CONFLICT (uuid) DO NOTHING
       ), intended AS (
         INSERT INTO intended_order (card_uuid, suggestion_uuid, order_ref, rxnorm, dose, created_at)
         SELECT x.card_uuid, x.suggestion_uuid, x.order_ref, x.rxnorm, x.dose, $15
         FROM jsonb_to_recordset($19::jsonb) AS x(card_uuid text, suggestion_uuid text, order_ref text, rxnorm jsonb, dose jsonb)
         ON CONFLICT (card_uuid, suggestion_uuid, order_ref) DO NOTHING
       )
       SELECT 1`,
      [r.id, r.hookInstance, r.serviceId, r.hook, r.clientIss, r.patientId, JSON.stringify(r.orderedDrugs ?? []), r.outcome, r.detail ?? null,
        r.timings.fhirMs, r.timings.evaluateMs, r.timings.totalMs, JSON.stringify(r.versions), JSON.stringify(r.cards.map((x) => x.uuid)), r.at,
        JSON.stringify(recRows), JSON.stringify(cardRows), normalizeFhirServer(r.fhirServer) ?? null, JSON.stringify(intendedRows)],
    );
    await this.resolveIntended(r);
  }

  /** After the record: what this call's drafts show about earlier accepted update suggestions (applied.ts). A failure
   *  throws like a failed write (the record is spooled and replayed; both steps are idempotent). */
  private async resolveIntended(r: ReturnType<typeof completeRecord>): Promise<void> {
    const refs = observedRefs(r);
    if (refs.length === 0) return;
    const open = await this.query<Record<string, unknown>>(OPEN_INTENDED_SQL, [refs, r.patientId, r.clientIss, normalizeFhirServer(r.fhirServer) ?? null, r.id, r.at]);
    const resolved = resolveOpen(open.map(openIntendedFromRow), r);
    if (resolved.length === 0) return;
    await this.query(
      `INSERT INTO intended_outcome (intended_id, outcome, seen, hook_instance, hook_call_id, observed_at)
       SELECT x.id, x.outcome, x.seen, $2, $3, $4 FROM jsonb_to_recordset($1::jsonb) AS x(id bigint, outcome text, seen jsonb)
       ON CONFLICT (intended_id) DO NOTHING`,
      [JSON.stringify(resolved.map((x) => ({ id: x.id, outcome: x.resolution.outcome, seen: x.resolution.seen }))), r.hookInstance, r.id, r.at],
    );
  }

  async recordFeedback(serviceId: string, clientIss: string, items: FeedbackItem[]): Promise<FeedbackResult> {
    const res: FeedbackResult = { stored: 0, duplicates: 0, unknownCards: 0 };
    const now = new Date().toISOString();
    await this.tx(async (c) => {
      for (const f of items) {
        // known only when this client received the card; otherwise the same answer as for a card never issued
        const card = (await c.query<{ fhir_server: string | null }>(`SELECT fhir_server FROM card WHERE uuid = $1 AND client_iss = $2`, [f.card, clientIss])).rows[0];
        const known = card !== undefined;
        if (!known) res.unknownCards++;
        const ins = await c.query(
          `INSERT INTO feedback (service_id, card_uuid, outcome, outcome_timestamp, accepted_suggestions, override_code, override_system, override_display,
             user_comment, client_iss, known_card, received_at, fhir_server) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10, $11, $12, $13)
           ON CONFLICT (client_iss, card_uuid, outcome, outcome_timestamp) DO NOTHING`,
          [serviceId, f.card, f.outcome, new Date(f.outcomeTimestamp).toISOString(),
            f.acceptedSuggestions ? JSON.stringify(f.acceptedSuggestions.map((s) => s.id)) : null,
            f.overrideReason?.reason?.code ?? null, f.overrideReason?.reason?.system ?? null, f.overrideReason?.reason?.display ?? null,
            f.overrideReason?.userComment ?? null, clientIss, known, now, card?.fhir_server ?? null],
        );
        if (ins.rowCount === 1) res.stored++;
        else res.duplicates++;
      }
    });
    return res;
  }

  async getRecommendation(id: string): Promise<StoredRecommendation | undefined> {
    const rows = await this.query<RecRow>(`SELECT body, patient_id, hook_instance, client_iss, fhir_server, created_at FROM recommendation WHERE id = $1`, [id]);
    return rows[0] ? storedRec(rows[0]) : undefined;
  }

  async recommendationsForPatient(patientId: string, fhirServer: string | undefined, limit = 50): Promise<StoredRecommendation[]> {
    const server = normalizeFhirServer(fhirServer);
    const cols = `body, patient_id, hook_instance, client_iss, fhir_server, created_at`;
    const rows = server
      ? await this.query<RecRow>(`SELECT ${cols} FROM recommendation WHERE patient_id = $1 AND fhir_server = $2 ORDER BY created_at DESC, id DESC LIMIT $3`, [patientId, server, limit])
      : await this.query<RecRow>(`SELECT ${cols} FROM recommendation WHERE patient_id = $1 AND fhir_server IS NULL ORDER BY created_at DESC, id DESC LIMIT $2`, [patientId, limit]);
    return rows.map(storedRec);
  }

  /** As OVERRIDDEN_SQL in sqlite.ts: this tenant's cards, and only its own client's feedback. */
  async overriddenFingerprints(tenant: Tenant, patientId: string, fingerprints: string[]): Promise<Set<string>> {
    if (fingerprints.length === 0) return new Set();
    const rows = await this.query<{ fp: string }>(
      `SELECT DISTINCT c.facts_fingerprint AS fp FROM card c
       JOIN hook_call h ON h.id = c.hook_call_id
       JOIN feedback f ON f.card_uuid = c.uuid AND f.client_iss = c.client_iss
       WHERE h.patient_id = $1 AND c.client_iss = $3 AND c.fhir_server IS NOT DISTINCT FROM $4::text
         AND c.facts_fingerprint = ANY($2::text[]) AND f.outcome = 'overridden'
         AND NOT EXISTS (SELECT 1 FROM feedback g WHERE g.card_uuid = c.uuid AND g.client_iss = c.client_iss AND g.outcome_timestamp > f.outcome_timestamp)`,
      [patientId, fingerprints, tenant.iss, normalizeFhirServer(tenant.fhirServer) ?? null],
    );
    return new Set(rows.map((r) => r.fp));
  }

  async cardAudit(cardUuid: string): Promise<CardAudit | undefined> {
    const [card] = await this.query<Record<string, unknown>>(`SELECT * FROM card WHERE uuid = $1`, [cardUuid]);
    if (!card) return undefined;
    const [rec, calls, feedback, intended] = await Promise.all([
      this.getRecommendation(String(card['recommendation_id'])),
      card['hook_call_id'] ? this.query<Record<string, unknown>>(`SELECT * FROM hook_call WHERE id = $1`, [card['hook_call_id']]) : Promise.resolve([]),
      this.query<Record<string, unknown>>(`SELECT * FROM feedback WHERE card_uuid = $1 ORDER BY outcome_timestamp, id`, [cardUuid]),
      this.query<Record<string, unknown>>(INTENDED_OF_CARD_SQL.replace('?', '$1'), [cardUuid]),
    ]);
    return {
      card: {
        uuid: String(card['uuid']),
        recommendationId: String(card['recommendation_id']),
        suggestionUuids: card['suggestion_uuids'] as string[],
        kind: String(card['kind']),
        indicator: String(card['indicator']),
        genes: card['genes'] as string[],
        ...(card['facts_fingerprint'] ? { factsFingerprint: String(card['facts_fingerprint']) } : {}),
        ...(card['client_iss'] ? { clientIss: String(card['client_iss']) } : {}),
        ...(card['fhir_server'] ? { fhirServer: String(card['fhir_server']) } : {}),
        serviceId: String(card['service_id']),
        hookInstance: String(card['hook_instance']),
        drug: String(card['drug']),
        createdAt: isoOf(card['created_at']),
      },
      call: calls[0] ? callFromRow(calls[0]) : undefined,
      recommendation: rec?.recommendation,
      feedback: feedback.map(feedbackFromRow),
      intendedOrders: intended.map(intendedFromRow),
    };
  }

  async reportRows(since?: Date): Promise<ReportRow[]> {
    const rows = await this.query<Record<string, unknown>>(
      `SELECT c.uuid, c.service_id, c.drug, c.kind, c.indicator, c.genes, c.created_at, f.outcome, f.override_code, f.override_display, f.accepted_suggestions,
         (SELECT coalesce(jsonb_agg(jsonb_build_object('s', i.suggestion_uuid, 'o', o.outcome)), '[]'::jsonb) FROM intended_order i
          LEFT JOIN intended_outcome o ON o.intended_id = i.id WHERE i.card_uuid = c.uuid) AS intended
       FROM card c LEFT JOIN LATERAL (
         SELECT outcome, override_code, override_display, accepted_suggestions FROM feedback f2
         WHERE f2.card_uuid = c.uuid AND (f2.client_iss = c.client_iss OR (c.client_iss IS NULL AND f2.known_card)) ORDER BY f2.outcome_timestamp DESC, f2.id DESC LIMIT 1
       ) f ON true
       WHERE c.created_at >= $1 ORDER BY c.created_at, c.uuid`,
      [since ?? new Date(0)],
    );
    return rows.map(reportRowFrom);
  }

  async unknownCardFeedback(since?: Date): Promise<number> {
    const [row] = await this.query<{ n: string }>(
      `SELECT count(*) AS n FROM feedback f WHERE f.received_at >= $1 AND NOT EXISTS (SELECT 1 FROM card c WHERE c.uuid = f.card_uuid AND c.client_iss = f.client_iss)`,
      [since ?? new Date(0)],
    );
    return Number(row?.n ?? 0);
  }

  async purge(before: Date): Promise<PurgeResult> {
    return this.tx(async (c) => {
      // intended orders (and their outcomes) go with their cards; not counted separately
      const intendedOf = `SELECT id FROM intended_order WHERE created_at < $1 OR card_uuid IN (SELECT uuid FROM card WHERE created_at < $1)`;
      await c.query(`DELETE FROM intended_outcome WHERE intended_id IN (${intendedOf})`, [before]);
      await c.query(`DELETE FROM intended_order WHERE id IN (${intendedOf})`, [before]);
      const feedback = (await c.query(`DELETE FROM feedback WHERE received_at < $1 OR card_uuid IN (SELECT uuid FROM card WHERE created_at < $1)`, [before])).rowCount ?? 0;
      const cards = (await c.query(`DELETE FROM card WHERE created_at < $1 OR recommendation_id IN (SELECT id FROM recommendation WHERE created_at < $1)`, [before])).rowCount ?? 0;
      const recommendations = (await c.query(`DELETE FROM recommendation WHERE created_at < $1`, [before])).rowCount ?? 0;
      const hookCalls = (await c.query(`DELETE FROM hook_call WHERE created_at < $1`, [before])).rowCount ?? 0;
      // processed notifications (kept to recognise a repeated event number); parked ones stay until looked at
      await c.query(`DELETE FROM notify_event WHERE state = 'done' AND done_at < $1`, [before]);
      return { before: before.toISOString(), hookCalls, recommendations, cards, feedback };
    });
  }

  async health(): Promise<StoreHealth> {
    try {
      await this.init();
      await this.pool.query('SELECT 1');
      return { ok: true, state: 'ok' };
    } catch (e) {
      return { ok: false, state: 'down', detail: (e as { code?: string }).code ?? (e as Error).name };
    }
  }

  private ended = false;
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    await this.pool.end();
  }
}

interface RecRow {
  body: Recommendation;
  patient_id: string;
  hook_instance: string;
  client_iss: string | null;
  fhir_server: string | null;
  created_at: Date;
}

function storedRec(row: RecRow): StoredRecommendation {
  return {
    recommendation: row.body,
    patientId: row.patient_id,
    hookInstance: row.hook_instance,
    createdAt: isoOf(row.created_at),
    ...(row.client_iss ? { clientIss: row.client_iss } : {}),
    ...(row.fhir_server ? { fhirServer: row.fhir_server } : {}),
  };
}
