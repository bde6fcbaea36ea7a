// Operator endpoints: /metrics (Prometheus), /admin/report (feedback analytics, accepted vs applied) and /admin/cards/:uuid (audit trail).
import { createHash, timingSafeEqual } from 'node:crypto';
import express, { type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.js';
import { registry } from '../observability/metrics.js';
import { reportFromStore } from '../store/report.js';
import type { Store } from '../store/store.js';

export interface AdminDeps {
  config: AppConfig;
  store: Store;
  logger: Logger;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** Bearer check in constant time (both sides hashed to equal length first). 404 when no token is configured. */
export function adminAuth(token: string, opts: { hideWhenUnconfigured: boolean } = { hideWhenUnconfigured: true }): RequestHandler {
  const expected = token ? digest(token) : undefined;
  return (req, res, next) => {
    if (!expected) {
      if (opts.hideWhenUnconfigured) {
        res.status(404).json({ error: 'not found' });
        return;
      }
      next();
      return;
    }
    const m = /^Bearer\s+(.+)$/i.exec(req.get('authorization') ?? '');
    if (!m || !timingSafeEqual(digest(m[1]!.trim()), expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="admin"');
      res.status(401).json({ error: 'admin token required' });
      return;
    }
    next();
  };
}

export function createAdminRouter(d: AdminDeps): express.Router {
  const r = express.Router();

  const metricsGuard: RequestHandler = d.config.metrics.requireAdminToken ? adminAuth(d.config.admin.token) : (_req, _res, next) => next();
  r.get('/metrics', metricsGuard, async (_req, res) => {
    res.setHeader('Content-Type', registry.contentType);
    res.send(await registry.metrics());
  });

  const admin = express.Router();
  admin.use(adminAuth(d.config.admin.token));

  admin.get('/report', async (req: Request, res: Response) => {
    const sinceRaw = typeof req.query['since'] === 'string' ? req.query['since'] : undefined;
    let since: Date | undefined;
    if (sinceRaw) {
      since = new Date(sinceRaw);
      if (Number.isNaN(since.getTime())) {
        res.status(400).json({ error: 'since must be a date, e.g. 2026-01-01' });
        return;
      }
    }
    try {
      res.json(await reportFromStore(d.store, since));
    } catch (e) {
      d.logger.error({ event: 'report_failed', error: (e as Error).name }, 'report failed');
      res.status(503).json({ error: 'the audit database is unavailable; try again later' });
    }
  });

  admin.get('/cards/:uuid', async (req: Request<{ uuid: string }>, res: Response) => {
    try {
      const audit = await d.store.cardAudit(req.params.uuid);
      if (!audit) {
        res.status(404).json({ error: 'no such card in the audit trail' });
        return;
      }
      res.json(audit);
    } catch (e) {
      d.logger.error({ event: 'card_audit_failed', error: (e as Error).name }, 'card audit lookup failed');
      res.status(503).json({ error: 'the audit database is unavailable; try again later' });
    }
  });

  r.use('/admin', admin);
  return r;
}
