// Prometheus metrics (prom-client): one registry for the process, exposed at /metrics. Labels never carry PHI.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
collectDefaultMetrics({ register: registry });

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8];
const FAST_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export const hookDuration = new Histogram({
  name: 'cds_hook_duration_seconds',
  help: 'Hook call latency (request validated → response ready), per service and outcome',
  labelNames: ['service', 'outcome'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const cardsReturned = new Counter({
  name: 'cds_cards_total',
  help: 'Cards returned, per service, indicator and recommendation kind',
  labelNames: ['service', 'indicator', 'kind'] as const,
  registers: [registry],
});

export const feedbackReceived = new Counter({
  name: 'cds_feedback_total',
  help: 'Feedback items received, per service and result (stored, duplicate, failed)',
  labelNames: ['service', 'result'] as const,
  registers: [registry],
});

export const fhirDuration = new Histogram({
  name: 'fhir_request_duration_seconds',
  help: 'FHIR queries made by the service (prefetch key), per key and result',
  labelNames: ['key', 'result'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const fhirErrors = new Counter({
  name: 'fhir_request_errors_total',
  help: 'FHIR queries that failed, per key and HTTP status (0 = network/timeout)',
  labelNames: ['key', 'status'] as const,
  registers: [registry],
});

export const storeWriteDuration = new Histogram({
  name: 'store_write_duration_seconds',
  help: 'Audit/feedback writes to the store, per backend, operation and result',
  labelNames: ['backend', 'op', 'result'] as const,
  buckets: FAST_BUCKETS,
  registers: [registry],
});

export const storeBacklog = new Gauge({
  name: 'store_audit_backlog',
  help: 'Audit records not yet in the database (queued in memory + spooled to disk)',
  registers: [registry],
});

export const storeDegraded = new Gauge({
  name: 'store_degraded',
  help: '1 while audit records are being spooled because the database is unavailable',
  registers: [registry],
});

export const modelInference = new Histogram({
  name: 'model_inference_seconds',
  help: 'Dose model inference latency (one patient)',
  labelNames: [] as const,
  buckets: FAST_BUCKETS,
  registers: [registry],
});

export const authRejected = new Counter({
  name: 'cds_auth_rejected_total',
  help: 'CDS requests refused with 401, per reason (missing_token, bad_signature, expired, replayed_jti, replay_cache_full, ...)',
  labelNames: ['reason'] as const,
  registers: [registry],
});

let replayCache: { readonly size: number; readonly capacity: number } | undefined;
/** The replay cache whose fill the gauges below report (the app's; the last one set wins). */
export function trackReplayCache(cache: { readonly size: number; readonly capacity: number } | undefined): void {
  replayCache = cache;
}
export const replayCacheEntries = new Gauge({
  name: 'cds_replay_cache_entries',
  help: 'CDS client tokens held by the in-memory replay cache (expired ones until swept); at capacity new tokens are refused',
  registers: [registry],
  collect() {
    if (replayCache) this.set(replayCache.size);
  },
});
export const replayCacheCapacity = new Gauge({
  name: 'cds_replay_cache_capacity',
  help: 'Bound of the in-memory replay cache (CDS_REPLAY_CACHE_MAX_ENTRIES)',
  registers: [registry],
  collect() {
    if (replayCache) this.set(replayCache.capacity);
  },
});

export const replaySharedFallback = new Counter({
  name: 'cds_replay_shared_fallback_total',
  help: 'Token checks decided by the replica alone because the shared replay store (PostgreSQL) failed, timed out, or is being retried later',
  labelNames: ['reason'] as const,
  registers: [registry],
});

/** Called by the model evaluator after each inference. */
export function observeModelInference(seconds: number): void {
  if (Number.isFinite(seconds) && seconds >= 0) modelInference.observe(seconds);
}

/** Wire for gatherData's onCall option. */
export function observeFhirCall(e: { key: string; ms: number; ok: boolean; status?: number }): void {
  fhirDuration.observe({ key: e.key, result: e.ok ? 'ok' : 'error' }, e.ms / 1000);
  if (!e.ok) fhirErrors.inc({ key: e.key, status: String(e.status ?? 0) });
}

export const notificationsReceived = new Counter({
  name: 'cds_notifications_total',
  help: 'Subscription notifications received at POST /notifications, per type and result (queued, duplicate, refused, unauthorized, unavailable)',
  labelNames: ['type', 'result'] as const,
  registers: [registry],
});

export const detectedIssuesWritten = new Counter({
  name: 'cds_detected_issues_total',
  help: 'DetectedIssue write-backs to the EHR, per result (created, exists = the same facts written before, refused)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const communicationsWritten = new Counter({
  name: 'cds_communications_total',
  help: 'Communications to the order\'s requester (NOTIFY_COMMUNICATION), per result (created, exists, refused, skipped = the order names no requester)',
  labelNames: ['result'] as const,
  registers: [registry],
});

export const notificationQueue = new Gauge({
  name: 'cds_notification_queue_items',
  help: 'Notification queue items per state (pending, working, parked = failed too often, needs attention; done)',
  labelNames: ['state'] as const,
  registers: [registry],
});
