// One notified patient end to end: read the active orders and the data their evaluators declare from the EHR's FHIR
// server with the service's own credentials, run the evaluators in monitor mode (the patient-view flow:
// gatherForActiveOrders + evaluateOrders), drop what the prescriber overrode for the same facts, write a DetectedIssue
// per remaining result (conditional create on the facts fingerprint) — and, with NOTIFY_COMMUNICATION, a Communication
// to the order's requester beside it (communication.ts) — and audit it all.
import type { Logger } from 'pino';
import { MAX_EVALUATED_ORDERS, suppressOverridden, type HookEngine } from '../cds/hookService.js';
import { evaluateOrders, gatherForActiveOrders } from '../cds/monitoring.js';
import { activeOrders } from '../cds/orders.js';
import { renderPrefetchTemplate } from '../cds/services.js';
import { tenantOf } from '../domain/tenant.js';
import { defaultRegistry } from '../dosing/registry.js';
import type { FhirServerPolicy } from '../fhir/egress.js';
import { extractFacts } from '../fhir/facts.js';
import { gatherData, type GatherResult } from '../fhir/gather.js';
import { communicationsWritten, detectedIssuesWritten, observeFhirCall } from '../observability/metrics.js';
import type { BackendCredentials } from './backendAuth.js';
import { communicationFor, issueReference } from './communication.js';
import { detectedIssueFor } from './detectedIssue.js';
import { conditionalCreate } from './writeBack.js';

/** Background work may take longer than a hook call: the deadline for one patient's FHIR reads. */
export const NOTIFY_FHIR_DEADLINE_MS = 10_000;
export const NOTIFY_SERVICE_ID = 'dosing-notify';

export interface NotifyEngine extends HookEngine {
  credentials: BackendCredentials;
}

/** A failure worth retrying (the EHR refused or could not be read); its message is a fixed phrase, never PHI. */
export class TransientError extends Error {
  override name = 'TransientError';
}

export interface PatientOutcome {
  results: number;
  created: number;
  existing: number;
  suppressed: number;
  /** NOTIFY_COMMUNICATION: Communications written now, found written before, and not sent for want of a requester */
  communications: { created: number; existing: number; skipped: number };
}

export function backendPolicy(e: HookEngine): FhirServerPolicy {
  return { allowedServers: e.config.fhir.allowedServers, allowInsecureLoopback: e.config.fhir.allowInsecureLoopback };
}

/** gatherData against the backend FHIR server with the service's token; a 401 drops the cached token. */
export async function backendGather(e: NotifyEngine, queries: Record<string, string | undefined>, deadlineMs: number, statuses?: Map<string, number>): Promise<GatherResult> {
  const token = await e.credentials.token().catch((err: unknown) => {
    throw new TransientError(`backend token: ${(err as Error).message}`);
  });
  return gatherData({
    queries,
    prefetch: undefined,
    fhirServer: e.config.backend.fhirUrl,
    fhirAuthorization: { access_token: token, token_type: 'Bearer', expires_in: 300, scope: e.config.backend.scope, subject: e.config.backend.clientId || 'backend' },
    deadlineMs,
    maxPages: e.config.fhir.maxPages,
    maxResponseBytes: e.config.fhir.maxResponseBytes,
    policy: backendPolicy(e),
    onCall: (c) => {
      observeFhirCall(c);
      if (c.status === 401) e.credentials.invalidate();
      if (c.status) statuses?.set(c.key, c.status);
    },
  });
}

export async function reevaluatePatient(e: NotifyEngine, patientId: string, log: Logger): Promise<PatientOutcome> {
  const t0 = performance.now();
  const base = e.config.backend.fhirUrl;
  const registry = (e.evaluators ??= defaultRegistry());
  const context = { patientId };
  const keysFor = (ingredients: Set<string>) => Object.keys(e.catalog.prefetch).filter((k) => registry.usesPrefetchKey(k, ingredients));
  const gather = (keys: string[], deadlineMs: number) =>
    backendGather(e, Object.fromEntries(keys.map((k) => [k, renderPrefetchTemplate(e.catalog.prefetch[k]!, context)])), deadlineMs);
  const { gathered, orders, ordersUnavailable } = await gatherForActiveOrders({
    gather,
    keysFor,
    ordersOf: (meds) => activeOrders(meds, patientId, e.drugs, base).filter((o) => o.drugs.some((d) => registry.has(d.ingredient))).slice(0, MAX_EVALUATED_ORDERS),
    deadlineMs: NOTIFY_FHIR_DEADLINE_MS,
  });
  const failed = [...e.catalog.required, 'medicationRequests'].filter((k) => gathered.byKey[k]?.status === 'failed');
  if (ordersUnavailable || failed.length > 0) throw new TransientError(`FHIR read failed (${failed.join(', ')})`);
  const none: PatientOutcome = { results: 0, created: 0, existing: 0, suppressed: 0, communications: { created: 0, existing: 0, skipped: 0 } };
  if (orders.length === 0) return none;

  const tEval = performance.now();
  const facts = extractFacts(gathered, { patientId, now: new Date(), fhirServer: base });
  const newId = e.newId ?? (() => crypto.randomUUID());
  const { recommendations, shown } = await evaluateOrders({
    registry, facts, orders, drugs: e.drugs, config: e.config, templates: e.templates, newId, monitor: true, intended: () => [],
  });
  const cards = shown.map((x) => x.card);
  const records = shown.map((x) => x.record);
  const suppressed = await suppressOverridden(e, log, tenantOf(e.config.notify.clientIss, base), patientId, cards, records);
  const kept = shown.filter((x) => records.includes(x.record));
  const evaluateMs = performance.now() - tEval;

  const outcome: PatientOutcome = { results: kept.length, created: 0, existing: 0, suppressed, communications: { created: 0, existing: 0, skipped: 0 } };
  const written: string[] = [];
  let refused: string | undefined;
  for (const x of kept) {
    const fingerprint = x.record.factsFingerprint!;
    const r = await conditionalCreate(e, 'DetectedIssue', detectedIssueFor(x, patientId, new Date()), fingerprint);
    detectedIssuesWritten.inc({ result: r.result });
    if (r.result === 'refused') {
      refused = `DetectedIssue ${r.reason}`;
      written.push(`refused (${r.reason})`);
      continue;
    }
    outcome[r.result === 'created' ? 'created' : 'existing']++;
    written.push(`${r.ref ?? 'DetectedIssue'} ${r.result}`);
    if (!e.config.notify.communication) continue;
    // the message follows the alert: only once the DetectedIssue is there (a retry finds it, 200, and sends this)
    const c = communicationFor(x, patientId, issueReference(r.ref, fingerprint), new Date());
    if ('missing' in c) {
      outcome.communications.skipped++;
      communicationsWritten.inc({ result: 'skipped' });
      written.push(`Communication not sent (${c.missing})`);
      continue;
    }
    const w = await conditionalCreate(e, 'Communication', c, fingerprint);
    communicationsWritten.inc({ result: w.result });
    if (w.result === 'refused') {
      refused = `Communication ${w.reason}`;
      written.push(`Communication refused (${w.reason})`);
      continue;
    }
    outcome.communications[w.result === 'created' ? 'created' : 'existing']++;
    written.push(`${w.ref ?? 'Communication'} ${w.result}`);
  }
  // every write (or attempt) is audited: the results, their fingerprints and what the EHR answered
  try {
    await e.store.recordHook({
      hookInstance: newId(),
      serviceId: NOTIFY_SERVICE_ID,
      hook: 'notification',
      clientIss: e.config.notify.clientIss,
      fhirServer: base,
      patientId,
      orderedDrugs: [...new Set(orders.flatMap((o) => o.drugs.map((d) => d.ingredient)))],
      outcome: records.length > 0 ? 'cards' : 'no-card',
      ...(written.length ? { detail: written.join('; ').slice(0, 1000) } : {}),
      recommendations,
      cards: records,
      timings: { fhirMs: gathered.fhirMs, evaluateMs, totalMs: performance.now() - t0 },
    });
  } catch (err) {
    log.error({ event: 'store_write_failed', error: (err as Error).name }, 'could not record the notification write-back');
  }
  log.info({ event: 'notification_patient', results: kept.length, created: outcome.created, existing: outcome.existing, suppressed, ...(e.config.notify.communication ? { communications: outcome.communications } : {}), refused: refused ?? null, fhirCalls: gathered.fhirCalls });
  if (refused) throw new TransientError(`write-back refused (${refused})`);
  return outcome;
}
