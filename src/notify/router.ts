// POST /notifications (the FHIR Subscription's rest-hook endpoint) and GET /.well-known/jwks.json (the public key of
// the service's backend client). A notification is answered once it is durably queued (200), or refused: 401 without
// the secret the Subscription's channel.header carries, 400 with an OperationOutcome for a body that is not a
// notification (nothing queued), 503 when the store cannot queue it (the EHR retries). The work happens off the
// request, in the worker.
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type ErrorRequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.js';
import { findControl } from '../domain/text.js';
import { notificationsReceived } from '../observability/metrics.js';
import type { NotificationQueue } from '../store/store.js';
import { jsonDeeperThan, MAX_JSON_DEPTH } from '../util/jsonDepth.js';
import type { BackendCredentials } from './backendAuth.js';
import { NotificationError, parseNotification } from './notification.js';

function outcome(res: Response, status: number, severity: 'error' | 'information', code: string, text: string[]): void {
  res.status(status).type('application/fhir+json').json({ resourceType: 'OperationOutcome', issue: text.map((t) => ({ severity, code, diagnostics: t })) });
}

/** Constant-time comparison of the presented bearer secret with the configured one (digests: equal lengths). */
export function secretMatches(header: string | undefined, secret: string): boolean {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  const a = createHash('sha256').update(m?.[1] ?? '').digest();
  const b = createHash('sha256').update(secret).digest();
  return timingSafeEqual(a, b) && m !== null;
}

export function createNotifyRouter(d: {
  config: AppConfig;
  logger: Logger;
  queue: NotificationQueue | undefined;
  credentials: () => Promise<BackendCredentials | undefined>;
  onQueued: () => void;
}): express.Router {
  const r = express.Router();
  r.get('/.well-known/jwks.json', async (_req, res) => {
    const c = await d.credentials().catch(() => undefined);
    const keys = c?.jwks().keys ?? [];
    if (keys.length === 0) return void res.status(404).json({ error: 'no backend key configured' });
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json({ keys });
  });

  const token = d.config.notify.token;
  r.post('/notifications', (req, res, next) => {
    if (token === '' || !d.queue) return void res.status(404).json({ error: 'not found' });
    if (!secretMatches(req.headers.authorization, token)) {
      notificationsReceived.inc({ type: 'unknown', result: 'unauthorized' });
      res.setHeader('WWW-Authenticate', 'Bearer');
      return outcome(res, 401, 'error', 'login', ['the notification secret (channel.header Authorization: Bearer …) is missing or wrong']);
    }
    if (!req.is(['application/json', 'application/fhir+json'])) return outcome(res, 415, 'error', 'not-supported', ['Content-Type must be application/fhir+json']);
    next();
  });
  r.post('/notifications', express.json({ limit: d.config.bodyLimit, type: ['application/json', 'application/fhir+json'], strict: true }), async (req, res) => {
    const body: unknown = req.body;
    const bad = jsonDeeperThan(body, MAX_JSON_DEPTH) ? 'body: nested too deeply' : findControl(body) ? `${findControl(body)}: control characters are not allowed` : undefined;
    let n;
    try {
      if (bad) throw new NotificationError([bad]);
      n = parseNotification(body);
    } catch (err) {
      if (!(err instanceof NotificationError)) throw err;
      notificationsReceived.inc({ type: 'unknown', result: 'refused' });
      return outcome(res, 400, 'error', 'invalid', err.issues);
    }
    try {
      const q = await d.queue!.enqueue({ ...n, receivedAt: new Date() });
      notificationsReceived.inc({ type: n.type, result: 'queued' }, q.queued);
      if (q.duplicates) notificationsReceived.inc({ type: n.type, result: 'duplicate' }, q.duplicates);
      d.logger.info({ event: 'notification', type: n.type, queued: q.queued, duplicates: q.duplicates, catchUp: q.catchUp });
      if (q.queued > 0 || q.catchUp) d.onQueued();
      outcome(res, 200, 'information', 'informational', [`queued ${q.queued}, duplicates ${q.duplicates}${q.catchUp ? ', missed events: catch-up queued' : ''}`]);
    } catch (err) {
      // never 200 for what is not durably queued: the EHR retries
      d.logger.error({ event: 'notification_queue_failed', error: (err as Error).name }, 'notification not queued');
      notificationsReceived.inc({ type: n.type, result: 'unavailable' });
      res.setHeader('Retry-After', '30');
      outcome(res, 503, 'error', 'transient', ['the notification could not be queued; retry later']);
    }
  });
  // a body that is not JSON (or too large) is the sender's: an OperationOutcome, never a stack
  const onError: ErrorRequestHandler = (err: { type?: string; status?: number }, _req, res, next) => {
    if (err?.type === 'entity.parse.failed') return outcome(res, 400, 'error', 'invalid', ['request body is not valid JSON']);
    if (err?.type === 'entity.too.large') return outcome(res, 413, 'error', 'too-costly', [`request body larger than ${d.config.bodyLimit}`]);
    if (typeof err?.status === 'number' && err.status >= 400 && err.status < 500) return outcome(res, err.status, 'error', 'invalid', ['bad request']);
    next(err);
  };
  r.use('/notifications', onError);
  return r;
}
