// Works off the durable notification queue: claim an item (a lease), find the patient(s) it concerns, re-evaluate
// each (reevaluate.ts), then mark it done — or retry it with exponential backoff, and park it after
// notify.maxAttempts tries (counted in /readyz and the metrics). An item claimed by a process that stopped is claimed
// again when its lease runs out: nothing queued is lost.
import type { Logger } from 'pino';
import { FHIR_ID } from '../fhir/references.js';
import { notificationQueue } from '../observability/metrics.js';
import type { NotificationQueue, QueuedNotification } from '../store/store.js';
import { relativeReference } from './notification.js';
import { backendGather, NOTIFY_FHIR_DEADLINE_MS, reevaluatePatient, TransientError, type NotifyEngine } from './reevaluate.js';
import { observationFilters } from './subscriptions.js';

/** The patient a resource is about: Patient itself, or its subject / patient reference. */
export function patientOf(resource: Record<string, unknown> | undefined): string | undefined {
  if (!resource) return undefined;
  if (resource['resourceType'] === 'Patient' && typeof resource['id'] === 'string') return FHIR_ID.test(resource['id']) ? resource['id'] : undefined;
  for (const k of ['subject', 'patient']) {
    const ref = (resource[k] as { reference?: unknown } | undefined)?.reference;
    const rel = typeof ref === 'string' ? relativeReference(ref) : undefined;
    if (rel?.startsWith('Patient/')) return rel.slice('Patient/'.length);
  }
  return undefined;
}

export class NotificationWorker {
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly log: Logger;

  constructor(
    private readonly e: NotifyEngine,
    private readonly queue: NotificationQueue,
  ) {
    this.log = e.logger.child({ component: 'notifications' });
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stop after the item in hand (it is not lost if the process dies first: its lease runs out). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** New work was queued: look now instead of at the next poll. */
  kick(): void {
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        worked = await this.runOnce();
      } catch (err) {
        this.log.error({ event: 'notification_queue_failed', error: (err as Error).name }, 'notification queue could not be read');
      }
      if (!worked && this.running) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, this.e.config.notify.pollMs);
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
      }
    }
  }

  /** Claim and process one due item; false when none was due. */
  async runOnce(now = new Date()): Promise<boolean> {
    const item = await this.queue.claim(this.e.config.notify.leaseMs, now);
    if (!item) return false;
    const log = this.log.child({ item: item.id, kind: item.kind, ...(item.eventNumber !== undefined ? { eventNumber: item.eventNumber } : {}) });
    try {
      const patients = await this.patientsOf(item);
      for (const p of patients) await reevaluatePatient(this.e, p, log);
      await this.queue.complete(item.id);
      log.info({ event: 'notification_processed', patients: patients.length, attempts: item.attempts });
    } catch (err) {
      const reason = err instanceof TransientError ? err.message : (err as Error).name;
      if (item.attempts >= this.e.config.notify.maxAttempts) {
        await this.queue.park(item.id, reason.slice(0, 200));
        log.error({ event: 'notification_parked', reason, attempts: item.attempts }, 'notification parked after repeated failures');
      } else {
        const delay = this.e.config.notify.retryBaseMs * 2 ** (item.attempts - 1);
        await this.queue.retry(item.id, reason.slice(0, 200), new Date(Date.now() + delay));
        log.warn({ event: 'notification_retry', reason, attempts: item.attempts, retryInMs: delay });
      }
    }
    await this.updateGauge();
    return true;
  }

  async updateGauge(): Promise<void> {
    const c = await this.queue.counts().catch(() => undefined);
    if (c) for (const [state, n] of Object.entries(c)) notificationQueue.set({ state }, n);
  }

  /** The patients an item concerns: its focus's patient, or everyone with a matching Observation changed since `since`. */
  private async patientsOf(item: QueuedNotification): Promise<string[]> {
    if (item.kind === 'event' && item.focus) {
      const fromPayload = patientOf(item.resource);
      if (fromPayload) return [fromPayload];
      if (item.focus.startsWith('Patient/')) return [item.focus.slice('Patient/'.length)];
      // id-only: read the focus with the service's own credentials
      const statuses = new Map<string, number>();
      const g = await backendGather(this.e, { focus: item.focus }, NOTIFY_FHIR_DEADLINE_MS, statuses);
      const got = g.byKey['focus'];
      if (got?.status === 'failed') {
        // deleted or never there: nothing to re-check
        if (statuses.get('focus') === 404 || statuses.get('focus') === 410) return [];
        throw new TransientError('focus could not be read');
      }
      const p = patientOf(got?.resources[0] as Record<string, unknown> | undefined);
      return p ? [p] : [];
    }
    // empty payload or missed events: what changed since, among the Observations the evaluators use
    const since = item.since ?? new Date(Date.now() - 24 * 3600_000).toISOString();
    const queries = Object.fromEntries(observationFilters(this.e.catalog).map((f) => [f.key, `Observation?${f.filter}&_lastUpdated=gt${encodeURIComponent(since)}&_count=100`]));
    const g = await backendGather(this.e, queries, NOTIFY_FHIR_DEADLINE_MS);
    const failed = Object.entries(g.byKey).filter(([, v]) => v.status === 'failed');
    if (failed.length > 0) throw new TransientError(`catch-up query failed (${failed.map(([k]) => k).join(', ')})`);
    const patients = new Set<string>();
    for (const v of Object.values(g.byKey)) for (const r of v.resources) {
      const p = patientOf(r as unknown as Record<string, unknown>);
      if (p) patients.add(p);
    }
    return [...patients].sort();
  }
}
