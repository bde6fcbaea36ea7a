// One hook call end to end: validate → orders in scope → gather FHIR data → PatientFacts → evaluate → cards → store.
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.js';
import type { DrugDictionary } from '../domain/drugs.js';
import { tenantOf, type Tenant } from '../domain/tenant.js';
import { findControl } from '../domain/text.js';
import { defaultRegistry, type EvaluatorRegistry } from '../dosing/registry.js';
import { extractFacts } from '../fhir/facts.js';
import { fhirServerRefusal, isFhirServerAllowed } from '../fhir/egress.js';
import { gatherData, type GatherResult } from '../fhir/gather.js';
import type { CardTemplates } from '../cards/render.js';
import { cardsReturned, hookDuration, observeFhirCall } from '../observability/metrics.js';
import type { CardRecord, HookRecord, Store } from '../store/store.js';
import { intendedOrdersOf, seenOrdersOf } from './appliedOrders.js';
import type { CdsClientIdentity } from './auth.js';
import { evaluateOrders, gatherForActiveOrders } from './monitoring.js';
import { activeOrders, ordersInScope, type DraftOrder } from './orders.js';
import { parseHookRequest, RequestValidationError, type Card, type CdsResponse } from './protocol.js';
import { renderPrefetchTemplate, type ServiceCatalog } from './services.js';

/** At most this many orders with guidance are evaluated per hook call. */
export const MAX_EVALUATED_ORDERS = 50;

export interface HookEngine {
  config: AppConfig;
  catalog: ServiceCatalog;
  drugs: DrugDictionary;
  templates: CardTemplates;
  store: Store;
  logger: Logger;
  /** evaluators per ingredient (default: every evaluator the service ships) */
  evaluators?: EvaluatorRegistry;
  newId?: () => string;
  /** FHIR base URL prefixes named for this client (its `fhirServers` in the clients file); absent = none */
  fhirServersFor?: (iss: string) => readonly string[];
  /** the servers of `fhirServersFor` that may be queried without a token (public test data; clients file `openFhirServers`) */
  openFhirServersFor?: (iss: string) => readonly string[];
}

export interface HookOutcome {
  status: number;
  body: CdsResponse | { error: string; details?: string[] };
}

/** Set by the caller when the request deadline has passed: the call is then recorded as not answered (no card shown). */
export interface HookDeadline {
  expired: boolean;
}

/** The answer once the request deadline has passed (config requestDeadlineMs); the EHR shows no card. */
export const DEADLINE_OUTCOME: HookOutcome = { status: 503, body: { error: 'dosing guidance could not be computed within the request deadline' } };

/** handleHook with metrics, and an audit record (outcome "error") when evaluation throws. */
export async function handleHook(serviceId: string, body: unknown, client: CdsClientIdentity, e: HookEngine, deadline?: HookDeadline): Promise<HookOutcome> {
  const t0 = performance.now();
  const service = e.catalog.byId.has(serviceId) ? serviceId : 'unknown';
  try {
    const out = await handleHookCall(serviceId, body, client, e, deadline);
    const cards = 'cards' in out.body ? out.body.cards : undefined;
    const outcome =
      out.status === 200 ? (cards?.length ? 'cards' : 'no-card') : out.status === 412 ? 'precondition-failed' : out === DEADLINE_OUTCOME ? 'deadline-exceeded' : `http-${out.status}`;
    hookDuration.observe({ service, outcome }, (performance.now() - t0) / 1000);
    for (const c of cards ?? []) cardsReturned.inc({ service, indicator: c.indicator, kind: cardKinds.get(c) ?? 'unknown' });
    return out;
  } catch (err) {
    hookDuration.observe({ service, outcome: 'error' }, (performance.now() - t0) / 1000);
    const b = (body ?? {}) as { hookInstance?: unknown; hook?: unknown; context?: { patientId?: unknown } };
    if (typeof b.hookInstance === 'string' && service !== 'unknown') {
      await safeRecord(e, e.logger, {
        hookInstance: b.hookInstance, serviceId, hook: String(b.hook ?? ''), clientIss: client.iss, patientId: String(b.context?.patientId ?? ''),
        outcome: 'error', detail: (err as Error)?.name ?? 'Error', recommendations: [], cards: [], timings: { fhirMs: 0, evaluateMs: 0, totalMs: ms(t0) },
      });
    }
    throw err;
  }
}

/** Recommendation kind of each card returned (for the cards metric), without putting it on the wire. */
const cardKinds = new WeakMap<Card, string>();

async function handleHookCall(serviceId: string, body: unknown, client: CdsClientIdentity, e: HookEngine, deadline?: HookDeadline): Promise<HookOutcome> {
  const t0 = performance.now();
  const service = e.catalog.byId.get(serviceId);
  if (!service) return { status: 404, body: { error: `unknown service "${serviceId}"` } };
  // every string of the body may reach the store (ids, the prefetch's FHIR data): control characters are refused
  // (src/domain/text.ts); the path says where, never what
  const bad = findControl(body);
  if (bad) return { status: 400, body: { error: 'invalid CDS Hooks request', details: [`${bad}: control characters are not allowed`] } };
  let req;
  try {
    req = parseHookRequest(body, service.hook);
  } catch (err) {
    if (err instanceof RequestValidationError) return { status: 400, body: { error: err.message, details: err.issues } };
    throw err;
  }
  const newId = e.newId ?? randomUUID;
  const log = e.logger.child({ hookInstance: req.hookInstance, serviceId, iss: client.iss });

  const registry = (e.evaluators ??= defaultRegistry());
  const monitor = req.hook === 'patient-view';
  const context = req.context as Record<string, unknown>;
  // the EHR's token goes only to a server named for this caller, or globally (src/fhir/egress.ts)
  const policy = { allowedServers: [...(e.fhirServersFor?.(client.iss) ?? []), ...e.config.fhir.allowedServers], allowInsecureLoopback: e.config.fhir.allowInsecureLoopback };
  if (req.fhirServer !== undefined && !isFhirServerAllowed(req.fhirServer, policy)) {
    log.warn({ event: 'fhir_server_refused', reason: fhirServerRefusal(req.fhirServer, policy) }, 'fhirServer not allowed for this client: not contacted, prefetch only');
  }
  // CDS Hooks 2.0 (FHIR resource access): a service presents a valid access token with every FHIR call. Without
  // `fhirAuthorization` the server is not contacted (prefetch only), unless it is named as an open test server.
  const tokenless = req.fhirServer !== undefined && req.fhirAuthorization === undefined;
  const fhirServer =
    tokenless && !isFhirServerAllowed(req.fhirServer!, { allowedServers: [...(e.openFhirServersFor?.(client.iss) ?? [])], allowInsecureLoopback: policy.allowInsecureLoopback })
      ? undefined
      : req.fhirServer;
  if (tokenless && fhirServer === undefined) log.info({ event: 'fhir_server_skipped_no_credential' }, 'the call carries no EHR access credential: FHIR server not contacted, prefetch only');
  const gather = (keys: string[], deadlineMs: number) =>
    gatherData({
      queries: Object.fromEntries(keys.map((k) => [k, renderPrefetchTemplate(e.catalog.prefetch[k]!, context)])),
      prefetch: req.prefetch,
      fhirServer,
      fhirAuthorization: req.fhirAuthorization,
      deadlineMs,
      maxPages: e.config.fhir.maxPages,
      maxResponseBytes: e.config.fhir.maxResponseBytes,
      policy,
      onCall: (c) => {
        observeFhirCall(c);
        if (!c.ok) log.info({ event: 'fhir_call_failed', key: c.key, reason: c.reason, ms: round(c.ms) }, 'FHIR query failed'); // the low-level reason, for us only
      },
    });
  // keys an evaluator declared as its own (e.g. vancomycin levels) are only used, and only queried, when one of its
  // drugs is in scope (EvaluatorRegistry.register's `needs`)
  const keysFor = (ingredients: Set<string>) => Object.keys(e.catalog.prefetch).filter((k) => registry.usesPrefetchKey(k, ingredients));
  const withEvaluator = (list: DraftOrder[]) => {
    const withGuidance = list.filter((o) => o.drugs.some((d) => registry.has(d.ingredient)));
    // the request schema already bounds drafts; this bounds the work (and the cards) of one call
    if (withGuidance.length > MAX_EVALUATED_ORDERS) log.warn({ event: 'orders_truncated', withGuidance: withGuidance.length, evaluated: MAX_EVALUATED_ORDERS }, 'more orders with guidance than evaluated in one call');
    return withGuidance.slice(0, MAX_EVALUATED_ORDERS);
  };
  const ingredientsOf = (list: DraftOrder[]) => new Set(list.flatMap((o) => o.drugs.map((d) => d.ingredient)));

  let orders: DraftOrder[];
  let gathered: GatherResult;
  if (!monitor) {
    orders = withEvaluator(ordersInScope(req, e.drugs));
    if (orders.length === 0) {
      log.info({ event: 'hook', outcome: 'no-card', reason: 'no order with an evaluator', totalMs: ms(t0) });
      return { status: 200, body: { cards: [] } };
    }
    gathered = await gather(keysFor(ingredientsOf(orders)), e.config.fhir.deadlineMs);
  } else {
    // patient-view: the orders are the patient's active MedicationRequests, known only once they are gathered; the
    // keys only one drug needs are gathered afterwards, for the drugs found, within what is left of the deadline
    const g = await gatherForActiveOrders({
      gather,
      keysFor,
      ordersOf: (meds) => withEvaluator(activeOrders(meds, req.context.patientId, e.drugs, req.fhirServer)),
      deadlineMs: e.config.fhir.deadlineMs,
    });
    ({ gathered, orders } = g);
    if (g.ordersUnavailable) log.warn({ event: 'monitoring_orders_unavailable', reason: g.ordersUnavailable }, 'active medication orders could not be read');
  }
  const failedRequired = e.catalog.required.filter((k) => gathered.byKey[k]?.status === 'failed');
  const orderedDrugs = [...ingredientsOf(orders)];
  // the drafts as this call shows them: writing the record resolves earlier accepted update suggestions (applied.ts)
  const seenOrders = monitor ? [] : bestEffort(log, () => seenOrdersOf(req, e.drugs, orders));
  const base = {
    hookInstance: req.hookInstance, serviceId, hook: req.hook, clientIss: client.iss, ...(req.fhirServer ? { fhirServer: req.fhirServer } : {}),
    patientId: req.context.patientId, orderedDrugs, ...(seenOrders.length ? { seenOrders } : {}),
  };
  // past the request deadline the caller has answered 503 already: the record says so, and that no card was shown
  const finish = async (r: HookRecord, out: HookOutcome): Promise<HookOutcome> => {
    if (deadline?.expired) {
      log.warn({ event: 'hook', outcome: 'deadline-exceeded', computed: r.outcome, totalMs: ms(t0) });
      await safeRecord(e, log, { ...r, outcome: 'deadline-exceeded', detail: `not answered: past the request deadline (${r.outcome})`, cards: [] });
      return DEADLINE_OUTCOME;
    }
    await safeRecord(e, log, r);
    return out;
  };
  if (failedRequired.length > 0) {
    const reasons = failedRequired.map((k) => `${k}: ${gathered.byKey[k]?.error ?? 'unavailable'}`);
    log.warn({ event: 'hook', outcome: 'precondition-failed', reasons, fhirCalls: gathered.fhirCalls, fhirMs: round(gathered.fhirMs), totalMs: ms(t0) });
    return finish(
      { ...base, outcome: 'precondition-failed', detail: reasons.join('; ').slice(0, 1000), recommendations: [], cards: [], timings: { fhirMs: gathered.fhirMs, evaluateMs: 0, totalMs: ms(t0) } },
      { status: 412, body: { error: 'required data could not be obtained (prefetch absent and FHIR query failed)', details: reasons } },
    );
  }
  if (orders.length === 0) {
    log.info({ event: 'hook', outcome: 'no-card', reason: 'no active order with an evaluator', fhirCalls: gathered.fhirCalls, fhirMs: round(gathered.fhirMs), totalMs: ms(t0) });
    return { status: 200, body: { cards: [] } };
  }

  const tEval = performance.now();
  const facts = extractFacts(gathered, { patientId: req.context.patientId, now: new Date(), ...(req.fhirServer ? { fhirServer: req.fhirServer } : {}) });
  const { recommendations, shown } = await evaluateOrders({
    registry, facts, orders, drugs: e.drugs, config: e.config, templates: e.templates, newId, monitor, intended: (card) => bestEffort(log, () => intendedOrdersOf(card, e.drugs)),
  });
  const cards: Card[] = shown.map((x) => x.card);
  const cardRecords: CardRecord[] = shown.map((x) => x.record);
  for (const x of shown) cardKinds.set(x.card, x.rec.kind);
  const suppressed = monitor ? await suppressOverridden(e, log, tenantOf(client.iss, req.fhirServer), req.context.patientId, cards, cardRecords) : 0;
  const evaluateMs = ms(tEval);
  const outcome = cards.length > 0 ? 'cards' : 'no-card';
  const out = await finish({ ...base, outcome, recommendations, cards: cardRecords, timings: { fhirMs: gathered.fhirMs, evaluateMs, totalMs: ms(t0) } }, { status: 200, body: { cards } });
  if (out === DEADLINE_OUTCOME) return out;
  log.info({
    event: 'hook',
    outcome,
    cards: cards.length,
    ...(suppressed > 0 ? { suppressed } : {}),
    recommendations: recommendations.map((r) => ({ id: r.id, drug: r.drug.name, kind: r.kind, method: r.method.id })),
    fhirCalls: gathered.fhirCalls,
    fhirMs: round(gathered.fhirMs),
    evaluateMs: round(evaluateMs),
    totalMs: ms(t0),
  });
  return out;
}

/** How long monitoring waits for the store to say which cards were overridden before showing them anyway. */
export const SUPPRESSION_LOOKUP_MS = 300;

/**
 * Drop (in place) the cards the prescriber already overrode for the same facts, at the same EHR (client and FHIR
 * server: another client's override never hides this one's card); returns how many were dropped. When the
 * store cannot answer in time the cards are shown: repeating a card is safer than hiding one that calls for action.
 */
export async function suppressOverridden(e: HookEngine, log: Logger, tenant: Tenant, patientId: string, cards: Card[], records: CardRecord[]): Promise<number> {
  if (records.length === 0) return 0;
  let timer: NodeJS.Timeout | undefined;
  try {
    const overridden = await Promise.race([
      e.store.overriddenFingerprints(tenant, patientId, [...new Set(records.map((r) => r.factsFingerprint!))]),
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), SUPPRESSION_LOOKUP_MS))),
    ]);
    let dropped = 0;
    for (let i = records.length - 1; i >= 0; i--) {
      if (!overridden.has(records[i]!.factsFingerprint!)) continue;
      records.splice(i, 1);
      cards.splice(i, 1);
      dropped++;
    }
    return dropped;
  } catch (err) {
    log.warn({ event: 'suppression_lookup_failed', error: (err as Error).message === 'timeout' ? 'timeout' : (err as Error).name }, 'overridden cards could not be looked up; cards shown');
    return 0;
  } finally {
    clearTimeout(timer);
  }
}

/** What "accepted is not applied" reads from a call is a by-product: reading it never fails the call (no PHI logged). */
function bestEffort<T>(log: Logger, read: () => T[]): T[] {
  try {
    return read();
  } catch (err) {
    log.warn({ event: 'applied_orders_unreadable', error: (err as Error)?.name ?? 'Error' }, 'orders for the applied check could not be read');
    return [];
  }
}

async function safeRecord(e: HookEngine, log: Logger, r: Parameters<Store['recordHook']>[0]): Promise<void> {
  try {
    await e.store.recordHook(r);
  } catch (err) {
    // The prescriber must not wait on the audit store (AuditedStore queues and spools); a direct store may still throw.
    log.error({ event: 'store_write_failed', error: (err as Error).name }, 'could not record hook call');
  }
}

function ms(t0: number): number {
  return round(performance.now() - t0);
}
function round(v: number): number {
  return Math.round(v * 10) / 10;
}
