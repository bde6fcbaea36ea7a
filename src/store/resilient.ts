// Audit writes off the response path: hook records are queued and written in the background; when the database is
// unavailable they are appended to a JSONL spool under the data directory and replayed (idempotently) once it returns.
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import type { FeedbackItem } from '../cds/protocol.js';
import { storeBacklog, storeDegraded, storeWriteDuration } from '../observability/metrics.js';
import { completeRecord, identityPatientKey, knowledgeVersions, serviceVersion, type PatientKey } from './audit.js';
import type { CardAudit, FeedbackResult, HookRecord, NotificationQueue, PurgeResult, ReportRow, Store, StoredRecommendation, StoreHealth } from './store.js';
import type { HookWriter } from './auditWriter.js';
import type { Tenant } from '../domain/tenant.js';
import { stripControlsDeep } from '../domain/text.js';
import { errorName, isInputError, StoreInputError, StoreUnavailableError } from './storeErrors.js';

export { StoreInputError, StoreUnavailableError } from './storeErrors.js';

export interface AuditedStoreOptions {
  backend: Store;
  /** directory for the spool files (the data directory) */
  spoolDir: string;
  /** patient id → what is stored (pseudonym when configured); used for writes and lookups alike */
  patientKey?: PatientKey;
  /** how often to check whether the database is back while records are spooled */
  retryIntervalMs?: number;
  /** records waiting in memory before new ones go straight to the spool */
  maxQueue?: number;
  /** parallel writes to the database */
  concurrency?: number;
  /**
   * Feedback on a card whose hook record is still queued or being written waits this long for it (an EHR may send
   * feedback moments after the card): then the card is known and the feedback linked to it. Past it the feedback is
   * stored anyway (as for a card not yet known).
   */
  feedbackWaitMs?: number;
  logger?: Logger;
}

export class AuditedStore implements Store {
  readonly kind: Store['kind'];
  readonly backend: Store;
  readonly patientKey: PatientKey;
  readonly spoolFile: string;
  private readonly drainFile: string;
  private readonly rejectedFile: string;
  private readonly o: Required<Omit<AuditedStoreOptions, 'logger' | 'patientKey' | 'backend' | 'spoolDir'>>;
  private readonly log: Logger | undefined;
  private queue: HookRecord[] = [];
  private inFlight = 0;
  /** records being written right now (with `queue`: what feedback may have to wait for) */
  private readonly writing = new Set<HookRecord>();
  private flushing: Promise<void> | undefined;
  private degraded = false;
  private degradedReason: string | undefined;
  private spooled = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private draining: Promise<void> | undefined;
  private closed = false;
  /** queued hook records are written through this (e.g. a worker thread, see auditWriter.ts) instead of the backend */
  private writer: HookWriter | undefined;

  constructor(opts: AuditedStoreOptions) {
    this.backend = opts.backend;
    this.kind = opts.backend.kind;
    this.patientKey = opts.patientKey ?? identityPatientKey;
    this.log = opts.logger;
    this.o = { retryIntervalMs: opts.retryIntervalMs ?? 5000, maxQueue: opts.maxQueue ?? 1000, concurrency: opts.concurrency ?? 4, feedbackWaitMs: opts.feedbackWaitMs ?? 2000 };
    mkdirSync(opts.spoolDir, { recursive: true });
    this.spoolFile = path.join(opts.spoolDir, 'audit-spool.jsonl');
    this.drainFile = path.join(opts.spoolDir, 'audit-spool.draining.jsonl');
    this.rejectedFile = path.join(opts.spoolDir, 'audit-spool.rejected.jsonl');
  }

  /** Apply migrations; if the database is unreachable, start degraded (hooks work, audit records spool). */
  async init(): Promise<void> {
    serviceVersion(); // read package.json and the knowledge versions now, not on the first hook call
    knowledgeVersions();
    this.spooled = countLines(this.spoolFile) + countLines(this.drainFile);
    try {
      await this.backend.init?.();
      const applied = (this.backend as { appliedMigrations?: number[] }).appliedMigrations ?? [];
      this.log?.info({ event: 'store_ready', backend: this.kind, appliedMigrations: applied }, applied.length ? `applied migrations ${applied.join(', ')}` : 'schema up to date');
    } catch (e) {
      this.setDegraded(errorName(e));
      this.log?.warn({ event: 'store_unavailable_at_start', error: errorName(e) }, 'audit store unavailable at start: hook calls are spooled until it returns');
    }
    if (this.spooled > 0) {
      this.log?.info({ event: 'audit_spool_found', records: this.spooled }, 'replaying spooled audit records');
      this.setDegraded(this.degradedReason ?? 'spool not yet replayed');
      void this.retry();
    }
    this.updateGauges();
  }

  /** Write queued hook records through `w` from now on (spool replay, reads and feedback still use the backend). */
  useWriter(w: HookWriter): void {
    this.writer = w;
  }

  /** Never throws and never waits on the database: the prescriber's answer does not depend on the audit write. */
  async recordHook(r: HookRecord): Promise<void> {
    const rec = completeRecord({ ...r, patientId: this.patientKey(r.patientId) });
    if (this.degraded || this.closed || this.queue.length >= this.o.maxQueue) {
      this.spool([rec]);
      return;
    }
    this.queue.push(rec);
    this.updateGauges();
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushing) return;
    // setImmediate: the write starts after the response has been handed to the socket
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.flush())
      .finally(() => {
        this.flushing = undefined;
        if (this.queue.length > 0 && !this.degraded) this.scheduleFlush();
      });
  }

  private async flush(): Promise<void> {
    const workers: Promise<void>[] = [];
    // a writer (thread) takes whole batches, one round trip each: one loop is enough
    const n = this.writer ? 1 : this.o.concurrency;
    for (let i = 0; i < n; i++) workers.push(this.worker());
    await Promise.all(workers);
  }

  private async worker(): Promise<void> {
    for (;;) {
      if (this.degraded) {
        if (this.queue.length > 0) this.spool(this.queue.splice(0));
        return;
      }
      if (this.writer) {
        if (!(await this.writeBatch(this.writer))) return;
        continue;
      }
      const rec = this.queue.shift();
      if (!rec) return;
      this.inFlight++;
      this.writing.add(rec);
      const t0 = performance.now();
      try {
        await this.backend.recordHook(rec);
        storeWriteDuration.observe({ backend: this.kind, op: 'hook', result: 'ok' }, (performance.now() - t0) / 1000);
      } catch (e) {
        if (isInputError(e)) {
          // the database refused this record's values, not because it is down: never degrade for it
          await this.writeRefused(rec, e, (r) => this.backend.recordHook(r));
          continue;
        }
        storeWriteDuration.observe({ backend: this.kind, op: 'hook', result: 'error' }, (performance.now() - t0) / 1000);
        this.log?.warn({ event: 'store_write_failed', error: errorName(e) }, 'audit write failed: spooling');
        this.setDegraded(errorName(e));
        this.spool([rec, ...this.queue.splice(0)]);
      } finally {
        this.inFlight--;
        this.writing.delete(rec);
        this.updateGauges();
      }
    }
  }

  /**
   * A record the database refused for its values (isInputError): written once more without control characters (which
   * come from FHIR data the service read; clients' own strings are refused at the request, src/domain/text.ts); if
   * it is refused again it goes to the rejected spool. The store stays "ok" either way.
   */
  private async writeRefused(rec: HookRecord, e: unknown, write: (r: HookRecord) => Promise<void>): Promise<void> {
    try {
      await write(stripControlsDeep(rec));
      this.log?.warn({ event: 'audit_record_cleaned', error: errorName(e), hookInstance: rec.hookInstance }, 'audit record refused by the database; stored without control characters');
    } catch (again) {
      this.reject(JSON.stringify(rec), errorName(again));
    }
  }

  /** Everything queued, through the writer in one round trip; false when the queue was empty. A failed batch is
   *  spooled whole (writes are idempotent by record id, so records the writer did store are not duplicated).
   *  store_write_duration_seconds{op="hook"} then observes one batch per sample. */
  private async writeBatch(writer: HookWriter): Promise<boolean> {
    const batch = this.queue.splice(0, 512);
    if (batch.length === 0) return false;
    this.inFlight += batch.length;
    for (const r of batch) this.writing.add(r);
    const t0 = performance.now();
    try {
      await writer.recordHooks(batch);
      storeWriteDuration.observe({ backend: this.kind, op: 'hook', result: 'ok' }, (performance.now() - t0) / 1000);
    } catch (e) {
      if (isInputError(e)) {
        // one record's values were refused (the batch is one transaction): write them one by one, never degrade
        for (const r of batch) {
          await writer.recordHooks([r]).catch((err: unknown) => (isInputError(err) ? this.writeRefused(r, err, (x) => writer.recordHooks([x])) : this.spool([r])));
        }
        return true;
      }
      storeWriteDuration.observe({ backend: this.kind, op: 'hook', result: 'error' }, (performance.now() - t0) / 1000);
      this.log?.warn({ event: 'store_write_failed', error: errorName(e), records: batch.length }, 'audit write failed: spooling');
      this.setDegraded(errorName(e));
      this.spool([...batch, ...this.queue.splice(0)]);
    } finally {
      this.inFlight -= batch.length;
      for (const r of batch) this.writing.delete(r);
      this.updateGauges();
    }
    return true;
  }

  private spool(records: HookRecord[]): void {
    if (records.length === 0) return;
    try {
      appendFileSync(this.spoolFile, records.map((r) => JSON.stringify(r)).join('\n') + '\n', { mode: 0o600 });
      this.spooled += records.length;
    } catch (e) {
      // the last line of defence failed (disk full / read-only): say so loudly, with ids only
      this.log?.error({ event: 'audit_record_lost', error: errorName(e), hookInstances: records.map((r) => r.hookInstance) }, 'audit records could not be spooled');
    }
    if (!this.degraded) this.setDegraded('queue full');
    this.updateGauges();
  }

  private setDegraded(reason: string): void {
    this.degradedReason = reason;
    if (!this.degraded) {
      this.degraded = true;
      storeDegraded.set(1);
    }
    if (!this.retryTimer && !this.closed) {
      this.retryTimer = setInterval(() => void this.retry(), this.o.retryIntervalMs);
      this.retryTimer.unref();
    }
  }

  /** Replay the spool when the database answers again; back to normal once it is empty. */
  retry(): Promise<void> {
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
    return this.draining;
  }

  private async drain(): Promise<void> {
    if (!this.degraded) return;
    const h = await this.backend.health().catch(() => ({ ok: false }));
    if (!h.ok) return;
    if (this.flushing) await this.flushing;
    for (;;) {
      if (!existsSync(this.drainFile)) {
        if (countLines(this.spoolFile) === 0) break;
        try {
          renameSync(this.spoolFile, this.drainFile);
        } catch {
          continue; // another process sharing the data directory took it
        }
      }
      this.spooled = countLines(this.spoolFile) + countLines(this.drainFile);
      let lines: string[];
      try {
        lines = readFileSync(this.drainFile, 'utf8').split('\n').filter((l) => l.trim() !== '');
      } catch {
        continue;
      }
      let replayed = 0;
      for (const line of lines) {
        let rec: HookRecord;
        try {
          rec = JSON.parse(line) as HookRecord;
        } catch {
          this.reject(line, 'unparseable');
          continue;
        }
        const t0 = performance.now();
        try {
          await this.backend.recordHook(rec); // idempotent by record id: a partial replay can be repeated
          storeWriteDuration.observe({ backend: this.kind, op: 'replay', result: 'ok' }, (performance.now() - t0) / 1000);
          replayed++;
          this.spooled = Math.max(0, this.spooled - 1);
          this.updateGauges();
        } catch (e) {
          storeWriteDuration.observe({ backend: this.kind, op: 'replay', result: 'error' }, (performance.now() - t0) / 1000);
          if (isInputError(e)) {
            await this.writeRefused(rec, e, (r) => this.backend.recordHook(r));
            this.spooled = Math.max(0, this.spooled - 1);
            continue;
          }
          const again = await this.backend.health().catch(() => ({ ok: false }));
          if (!again.ok) {
            this.log?.warn({ event: 'audit_replay_interrupted', replayed, error: errorName(e) }, 'database unavailable again; replay resumes later');
            return;
          }
          this.reject(line, errorName(e));
          this.spooled = Math.max(0, this.spooled - 1);
        }
      }
      try {
        unlinkSync(this.drainFile);
      } catch {
        // already gone
      }
      this.log?.info({ event: 'audit_spool_replayed', records: replayed }, 'spooled audit records written to the database');
    }
    this.degraded = false;
    this.degradedReason = undefined;
    this.spooled = 0;
    storeDegraded.set(0);
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    this.updateGauges();
    if (this.queue.length > 0) this.scheduleFlush();
  }

  private reject(line: string, reason: string): void {
    this.log?.error({ event: 'audit_record_rejected', reason }, 'audit record rejected by the database; kept in the rejected spool');
    try {
      appendFileSync(this.rejectedFile, line + '\n', { mode: 0o600 });
    } catch {
      // logged above
    }
  }

  /** Resolves when everything queued so far has been written or spooled (tests, shutdown). */
  async settle(): Promise<void> {
    while (this.flushing || this.inFlight > 0) await (this.flushing ?? new Promise((r) => setImmediate(r)));
  }

  get backlog(): number {
    return this.queue.length + this.inFlight + this.spooled;
  }

  private updateGauges(): void {
    storeBacklog.set(this.backlog);
  }

  /** Whether a hook record showing this card is queued or being written (not yet in the database). */
  private cardPending(uuid: string): boolean {
    const has = (r: HookRecord) => r.cards.some((c) => c.uuid === uuid);
    return this.queue.some(has) || [...this.writing].some(has);
  }

  async recordFeedback(serviceId: string, clientIss: string, items: FeedbackItem[]): Promise<FeedbackResult> {
    // feedback sent moments after its card: wait (bounded) for the card's record to be written, so it is known
    const end = Date.now() + this.o.feedbackWaitMs;
    while (!this.degraded && items.some((f) => this.cardPending(f.card)) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
    const t0 = performance.now();
    try {
      const r = await this.backend.recordFeedback(serviceId, clientIss, items);
      storeWriteDuration.observe({ backend: this.kind, op: 'feedback', result: 'ok' }, (performance.now() - t0) / 1000);
      return r;
    } catch (e) {
      storeWriteDuration.observe({ backend: this.kind, op: 'feedback', result: 'error' }, (performance.now() - t0) / 1000);
      if (isInputError(e)) throw new StoreInputError(errorName(e));
      throw new StoreUnavailableError(errorName(e));
    }
  }

  getRecommendation(id: string): Promise<StoredRecommendation | undefined> {
    return this.backend.getRecommendation(id);
  }

  recommendationsForPatient(patientId: string, fhirServer: string | undefined, limit?: number): Promise<StoredRecommendation[]> {
    return this.backend.recommendationsForPatient(this.patientKey(patientId), fhirServer, limit);
  }

  cardAudit(cardUuid: string): Promise<CardAudit | undefined> {
    return this.backend.cardAudit(cardUuid);
  }

  /** Pass-through with the patient key; errors propagate (the monitoring hook decides what a failed lookup means). */
  /** the backend's notification queue: written directly (a notification is answered only once it is durably queued) */
  notifications(): NotificationQueue | undefined {
    return this.backend.notifications?.();
  }

  overriddenFingerprints(tenant: Tenant, patientId: string, fingerprints: string[]): Promise<Set<string>> {
    return this.backend.overriddenFingerprints(tenant, this.patientKey(patientId), fingerprints);
  }

  reportRows(since?: Date): Promise<ReportRow[]> {
    return this.backend.reportRows(since);
  }

  unknownCardFeedback(since?: Date): Promise<number> {
    return this.backend.unknownCardFeedback(since);
  }

  purge(before: Date): Promise<PurgeResult> {
    return this.backend.purge(before);
  }

  async health(): Promise<StoreHealth> {
    if (this.degraded) return { ok: false, state: 'degraded', backlog: this.backlog, ...(this.degradedReason ? { detail: this.degradedReason } : {}) };
    const h = await this.backend.health();
    return h.ok ? { ok: true, state: 'ok', backlog: this.backlog } : { ok: false, state: 'degraded', backlog: this.backlog, ...(h.detail ? { detail: h.detail } : {}) };
  }

  /** Write what is queued, try once more to replay the spool (bounded), then close the database. */
  async close(timeoutMs = 5000): Promise<void> {
    if (this.closed) return;
    const bounded = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    await bounded(this.settle());
    this.closed = true;
    if (this.queue.length > 0) this.spool(this.queue.splice(0));
    if (this.degraded) await bounded(this.retry());
    if (this.retryTimer) clearInterval(this.retryTimer);
    this.retryTimer = undefined;
    if (this.spooled > 0) this.log?.warn({ event: 'audit_spool_pending', records: this.spooled, file: this.spoolFile }, 'audit records remain spooled; replayed at next start');
    await this.writer?.close();
    await this.backend.close();
  }
}


function countLines(file: string): number {
  try {
    if (statSync(file).size === 0) return 0;
    return readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').length;
  } catch {
    return 0;
  }
}
