// Express assembly: security headers, CORS, body limits, health, CDS Hooks routes, errors as JSON (never a stack).
import express, { type ErrorRequestHandler, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { AppConfig } from './config.js';
import { createAuthMiddleware, createCdsAuthContext, type CdsAuthContext } from './cds/auth.js';
import { DEADLINE_OUTCOME, handleHook, type HookDeadline, type HookEngine, type HookOutcome } from './cds/hookService.js';
import { parseFeedback, RequestValidationError } from './cds/protocol.js';
import { discoveryDocument, type ServiceCatalog } from './cds/services.js';
import type { TrustedClients } from './cds/trustedClients.js';
import type { CardTemplates } from './cards/render.js';
import type { DrugDictionary } from './domain/drugs.js';
import type { EvaluatorRegistry } from './dosing/registry.js';
import type { Store } from './store/store.js';
import { createAdminRouter } from './admin/router.js';
import { createSmartRouter } from './smart/router.js';
import { authRejected, feedbackReceived, trackReplayCache } from './observability/metrics.js';
import { InMemoryReplayCache, type ReplayStore } from './cds/replayCache.js';
import { SharedReplayStore } from './cds/sharedReplayStore.js';
import { jsonDeeperThan, MAX_JSON_DEPTH } from './util/jsonDepth.js';
import { findControl, stripControls } from './domain/text.js';
import { StoreInputError, StoreUnavailableError } from './store/storeErrors.js';
import { backendCredentialsFrom, type BackendCredentials } from './notify/backendAuth.js';
import { createNotifyRouter } from './notify/router.js';
import { NotificationWorker } from './notify/worker.js';

export interface AppDeps {
  config: AppConfig;
  logger: Logger;
  catalog: ServiceCatalog;
  drugs: DrugDictionary;
  templates: CardTemplates;
  store: Store;
  clients: TrustedClients;
  /** shared across app instances in tests; built from clients when absent */
  authContext?: CdsAuthContext;
  /** replay protection for the built auth context (default: this process's own in-memory cache) */
  replayStore?: ReplayStore;
  newId?: () => string;
  /** evaluators with their start-up dependencies (models, knowledge); defaults to the built-in set without a model */
  evaluators?: EvaluatorRegistry;
  /** readiness: true once everything is loaded and the process is not shutting down */
  isReady?: () => boolean;
  /** the built SMART app (default dist/smart-app) */
  smartAppDir?: string;
  /** the service's credentials for the backend FHIR server (default: from config.backend, loaded once) */
  backendCredentials?: BackendCredentials;
  /** work off the notification queue in this process (default true when notifications are on) */
  notificationWorker?: boolean;
}

/** What createApp started besides the routes: stop it before closing the store. */
export interface AppBackground {
  notifications?: NotificationWorker;
  stop(): Promise<void>;
}

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Strict-Transport-Security', 'max-age=31536000; includeSubDomains');
  next();
};

/** Each trusted client's `fhirServers`, read at call time from its entry (the entry objects are the configuration). */
function fhirServersOf(clients: TrustedClients, which: 'fhirServers' | 'openFhirServers'): (iss: string) => readonly string[] {
  const byIss = new Map(clients.clients.map((c) => [c.iss, c]));
  return (iss) => byIss.get(iss)?.[which] ?? [];
}

/** CDS clients may be browser-based (e.g. the CDS Hooks sandbox): answer preflights, allow the headers they send. */
const cors: RequestHandler = (req, res, next) => {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
  res.setHeader('Access-Control-Allow-Methods', 'GET, POST, OPTIONS');
  res.setHeader('Access-Control-Max-Age', '600');
  if (req.method === 'OPTIONS') {
    res.status(204).end();
    return;
  }
  next();
};

/** POST bodies must be JSON; say so plainly instead of failing later. */
const requireJson: RequestHandler = (req, res, next) => {
  if (req.method === 'POST' && !req.is(['application/json', 'application/*+json'])) {
    res.status(415).json({ error: 'Content-Type must be application/json' });
    return;
  }
  next();
};

/** Hook bodies nested deeper than any CDS Hooks body needs are refused (see util/jsonDepth.ts). */
const limitDepth: RequestHandler = (req, res, next) => {
  if (jsonDeeperThan(req.body, MAX_JSON_DEPTH)) {
    res.status(400).json({ error: `request body is nested deeper than ${MAX_JSON_DEPTH} levels` });
    return;
  }
  next();
};

export function createApp(d: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('query parser', 'simple');
  app.use(securityHeaders);

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  // Readiness does not depend on the audit store: hooks still answer while audit records spool (docs/operations.md).
  const queue = d.config.notify.token !== '' ? d.store.notifications?.() : undefined;
  app.get('/readyz', async (_req, res) => {
    const store = await d.store.health().catch(() => ({ ok: false, state: 'down' as const, backlog: undefined, detail: undefined }));
    const ready = d.isReady?.() ?? true;
    // parked notifications need attention (their write-back failed repeatedly) but do not make the service unready
    const counts = queue ? await queue.counts().catch(() => undefined) : undefined;
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not-ready',
      store: store.ok ? 'ok' : 'degraded',
      ...(store.backlog !== undefined ? { auditBacklog: store.backlog } : {}),
      ...(counts ? { notifications: { pending: counts.pending + counts.working, parked: counts.parked } } : {}),
    });
  });

  const engine: HookEngine = {
    config: d.config,
    catalog: d.catalog,
    drugs: d.drugs,
    templates: d.templates,
    store: d.store,
    logger: d.logger,
    ...(d.newId ? { newId: d.newId } : {}),
    ...(d.evaluators ? { evaluators: d.evaluators } : {}),
    fhirServersFor: fhirServersOf(d.clients, 'fhirServers'),
    openFhirServersFor: fhirServersOf(d.clients, 'openFhirServers'),
  };
  if (d.config.fhir.allowedServers.length === 0 && !d.clients.clients.some((c) => c.fhirServers?.length)) {
    d.logger.warn({ event: 'fhir_servers_none' }, 'no FHIR server is named (clients file fhirServers, FHIR_ALLOWED_SERVERS): hook calls use prefetch only');
  }
  if (d.config.fhir.allowInsecureLoopback) {
    d.logger.warn({ event: 'fhir_insecure_loopback' }, 'FHIR_ALLOW_INSECURE_LOOPBACK is on: FHIR servers on loopback may be contacted over plain http (development only)');
  }
  let auth: RequestHandler;
  if (d.config.auth.mode === 'disabled') {
    auth = createAuthMiddleware({ mode: 'disabled', logger: d.logger });
  } else {
    const context =
      d.authContext ??
      createCdsAuthContext({
        clients: d.clients,
        clockSkewSec: d.config.auth.clockSkewSeconds,
        replayCacheMaxEntries: d.config.auth.replayCacheMaxEntries,
        ...(d.replayStore ? { replayStore: d.replayStore } : {}),
        logger: d.logger,
      });
    const rs = context.replayStore;
    trackReplayCache(rs instanceof InMemoryReplayCache ? rs : rs instanceof SharedReplayStore ? rs.local : undefined);
    auth = createAuthMiddleware({
      mode: 'enforce',
      publicBaseUrl: d.config.publicBaseUrl,
      context,
      onReject: (reason) => authRejected.inc({ reason }),
    });
  }

  const cds = express.Router();
  cds.use(cors);
  cds.use(auth);
  cds.use(requireJson);
  cds.use(express.json({ limit: d.config.bodyLimit, type: ['application/json', 'application/*+json'], strict: true }));
  cds.use(limitDepth);

  cds.get('/', (_req, res) => {
    res.json(discoveryDocument(d.catalog));
  });

  cds.post('/:id', async (req: Request<{ id: string }>, res: Response) => {
    // the request deadline is hard: FHIR gathering stops at fhir.deadlineMs anyway, but whatever else delays a call
    // (an inference or a store that never answers) must not keep the EHR waiting; a call that finishes later is
    // recorded as not answered (hookService.ts)
    const deadline: HookDeadline = { expired: false };
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<HookOutcome>((resolve) => {
      timer = setTimeout(() => {
        deadline.expired = true;
        resolve(DEADLINE_OUTCOME);
      }, d.config.requestDeadlineMs);
    });
    try {
      const out = await Promise.race([handleHook(req.params.id, req.body, res.locals.cdsClient!, engine, deadline), expired]);
      if (out === DEADLINE_OUTCOME) d.logger.warn({ event: 'hook_deadline_exceeded', serviceId: req.params.id, deadlineMs: d.config.requestDeadlineMs }, 'hook call not answered within the request deadline');
      res.status(out.status).json(out.body);
    } finally {
      clearTimeout(timer);
    }
  });

  cds.post('/:id/feedback', async (req: Request<{ id: string }>, res: Response) => {
    if (!d.catalog.byId.has(req.params.id)) {
      res.status(404).json({ error: `unknown service "${req.params.id}"` });
      return;
    }
    // typed text loses its control characters; any other string holding one is refused (src/domain/text.ts)
    const body = withTypedTextCleaned(req.body);
    const bad = findControl(body);
    if (bad) {
      res.status(400).json({ error: 'invalid feedback request', details: [`${bad}: control characters are not allowed`] });
      return;
    }
    let items;
    try {
      items = parseFeedback(body);
    } catch (err) {
      if (err instanceof RequestValidationError) {
        res.status(400).json({ error: err.message, details: err.issues });
        return;
      }
      throw err;
    }
    let result;
    try {
      result = await d.store.recordFeedback(req.params.id, res.locals.cdsClient!.iss, items);
    } catch (err) {
      const cause = err instanceof StoreUnavailableError || err instanceof StoreInputError ? err.causeName : ((err as { code?: string }).code ?? (err as Error).name);
      if (err instanceof StoreInputError) {
        // the database refused these values: a retry can never store them, and the store is not down
        d.logger.warn({ event: 'feedback_refused', serviceId: req.params.id, error: err.name, cause }, 'feedback refused by the store');
        feedbackReceived.inc({ service: req.params.id, result: 'failed' }, items.length);
        res.status(400).json({ error: 'feedback could not be stored: a value is not acceptable' });
        return;
      }
      // never claim success for feedback that is not durably stored: the EHR may retry
      d.logger.error({ event: 'feedback_store_failed', serviceId: req.params.id, error: (err as Error).name, cause }, 'feedback not stored');
      feedbackReceived.inc({ service: req.params.id, result: 'failed' }, items.length);
      res.setHeader('Retry-After', '30');
      res.status(503).json({ error: 'feedback could not be stored: the audit database is unavailable; retry later' });
      return;
    }
    feedbackReceived.inc({ service: req.params.id, result: 'stored' }, result.stored);
    feedbackReceived.inc({ service: req.params.id, result: 'duplicate' }, result.duplicates);
    d.logger.info({ event: 'feedback', serviceId: req.params.id, iss: res.locals.cdsClient!.iss, ...result });
    res.status(200).json(result);
  });

  app.use('/cds-services', cds);

  // notifications (src/notify/): the service's own backend credentials, loaded once (a bad key file is said at start)
  let creds: Promise<BackendCredentials | undefined> | undefined;
  const credentials = () =>
    (creds ??= d.backendCredentials ? Promise.resolve(d.backendCredentials) : d.config.backend.fhirUrl ? backendCredentialsFrom(d.config.backend) : Promise.resolve(undefined));
  if (d.config.backend.fhirUrl) {
    credentials().catch((err: unknown) => d.logger.error({ event: 'backend_credentials_unusable', error: (err as Error).message }, 'backend credentials could not be loaded: notifications stay queued'));
    if (d.config.backend.staticToken && !d.backendCredentials && !(d.config.backend.tokenUrl && d.config.backend.keyFile)) {
      d.logger.warn({ event: 'backend_static_token' }, 'BACKEND_FHIR_TOKEN is set: a static backend token (development and tests only)');
    }
  }
  let worker: NotificationWorker | undefined;
  if (queue) {
    worker = new NotificationWorker(
      {
        ...engine,
        credentials: {
          token: async () => {
            const c = await credentials();
            if (!c) throw new Error('no backend credentials');
            return c.token();
          },
          jwks: () => ({ keys: [] }),
          invalidate: () => void credentials().then((c) => c?.invalidate(), () => undefined),
        },
      },
      queue,
    );
    if (d.notificationWorker !== false) worker.start();
  }
  app.use(createNotifyRouter({ config: d.config, logger: d.logger, queue, credentials, onQueued: () => worker?.kick() }));
  const background: AppBackground = { ...(worker ? { notifications: worker } : {}), stop: async () => worker?.stop() };
  app.locals['background'] = background;
  app.use(createAdminRouter({ config: d.config, store: d.store, logger: d.logger }));
  app.use(createSmartRouter({ config: d.config, store: d.store, logger: d.logger, ...(d.smartAppDir ? { appDir: d.smartAppDir } : {}) }));

  app.use((_req, res) => {
    res.status(404).json({ error: 'not found' });
  });

  const onError: ErrorRequestHandler = (err: { type?: string; status?: number; name?: string }, req, res, _next) => {
    // body-parser errors are the client's: a clear 4xx, never a stack trace
    const clientErrors: Record<string, [number, string]> = {
      'entity.parse.failed': [400, 'request body is not valid JSON'],
      'entity.too.large': [413, `request body larger than ${d.config.bodyLimit}`],
      'encoding.unsupported': [415, 'unsupported content encoding'],
      'charset.unsupported': [415, 'unsupported charset'],
      'request.aborted': [400, 'request aborted'],
      'entity.verify.failed': [400, 'request body rejected'],
      'request.size.invalid': [400, 'request size did not match Content-Length'],
    };
    const known = err?.type ? clientErrors[err.type] : undefined;
    if (known) {
      res.status(known[0]).json({ error: known[1] });
      return;
    }
    if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) {
      res.status(err.status).json({ error: 'bad request' });
      return;
    }
    d.logger.error({ event: 'unhandled_error', error: err?.name, method: req.method, path: req.path }, 'unhandled error');
    if (!res.headersSent) res.status(500).json({ error: 'internal error' });
  };
  app.use(onError);
  return app;
}

/** Feedback with each `overrideReason.userComment` (text a person typed) stripped of control characters. */
function withTypedTextCleaned(body: unknown): unknown {
  const b = body as { feedback?: unknown };
  if (!b || typeof b !== 'object' || !Array.isArray(b.feedback)) return body;
  return {
    ...b,
    feedback: b.feedback.map((f: unknown) => {
      const r = (f as { overrideReason?: { userComment?: unknown } } | null)?.overrideReason;
      if (!r || typeof r !== 'object' || typeof r.userComment !== 'string') return f;
      return { ...(f as object), overrideReason: { ...r, userComment: stripControls(r.userComment) } };
    }),
  };
}
