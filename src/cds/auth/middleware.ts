// Express middleware for CDS client authentication (src/cds/auth.ts): reads `Authorization: Bearer <jwt>`, checks it
// with verifyCdsJwt against the exact endpoint URL, stores the identity in `res.locals.cdsClient`, and answers every
// refusal with 401 `{"error":"unauthorized"}` (the reason code, with iss/kid and never the token, goes to the log).
// `mode: 'disabled'` (development only) lets everything through.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createCdsAuthContext, type CdsAuthConfig, type CdsAuthContext } from './context.js';
import type { AuthFailureReason, AuthLogger, CdsClientIdentity } from './types.js';
import { verifyCdsJwt } from './verify.js';

export type CdsAuthMode = 'enforce' | 'disabled';

export interface CdsAuthEnforceOptions extends Omit<CdsAuthConfig, 'clients'> {
  mode?: 'enforce';
  /** Public base URL of this service as EHRs call it, e.g. "https://cds.example.org" (trailing slash ignored). */
  publicBaseUrl: string;
  /** Trusted clients; required unless `context` is given. */
  clients?: CdsAuthConfig['clients'];
  /** A prebuilt context (then the CdsAuthConfig fields here are ignored). */
  context?: CdsAuthContext;
  /** Larger Authorization headers are rejected before parsing (default 8192). */
  maxAuthHeaderBytes?: number;
  /** Let CORS preflights (OPTIONS with Access-Control-Request-Method) through unauthenticated (default true). */
  skipPreflight?: boolean;
  /** Called with the reason of every refused request (for a metric; the reason is never PHI). */
  onReject?: (reason: AuthFailureReason) => void;
}

export interface CdsAuthDisabledOptions {
  mode: 'disabled';
  logger?: AuthLogger;
  [ignored: string]: unknown;
}

export type CdsAuthOptions = CdsAuthEnforceOptions | CdsAuthDisabledOptions;

/** What `res.locals.cdsClient` holds when auth is disabled. */
export const AUTH_DISABLED_CLIENT: Readonly<CdsClientIdentity> = Object.freeze({
  iss: 'urn:pgx-dosing-cds:auth-disabled',
  jti: 'auth-disabled',
  authDisabled: true,
});

const UNAUTHORIZED_BODY = { error: 'unauthorized' } as const;
const BEARER = /^Bearer +([A-Za-z0-9._-]+) *$/i;

/** Exact URL of the endpoint being called: base URL + request path (no query string). */
export function expectedAudience(publicBaseUrl: string, originalUrl: string): string {
  const q = originalUrl.search(/[?#]/);
  const path = q === -1 ? originalUrl : originalUrl.slice(0, q);
  return publicBaseUrl.replace(/\/+$/, '') + path;
}

function reject(res: Response): void {
  res.status(401).set('WWW-Authenticate', 'Bearer').set('Cache-Control', 'no-store').json(UNAUTHORIZED_BODY);
}

/**
 * Express middleware factory. `mode: 'disabled'` (development only) lets every request through, with
 * `res.locals.cdsClient = AUTH_DISABLED_CLIENT`, and logs a warning when created.
 */
export function createAuthMiddleware(options: CdsAuthOptions): RequestHandler {
  const mode: unknown = options.mode ?? 'enforce';
  if (mode === 'disabled') {
    const logger = options.logger ?? consoleWarnLogger;
    logger.warn(
      { event: 'cds_auth_disabled' },
      '!!! CDS client authentication is DISABLED: any caller can use every CDS endpoint. Never run like this outside development. !!!',
    );
    return (_req: Request, res: Response, next: NextFunction) => {
      res.locals.cdsClient = AUTH_DISABLED_CLIENT;
      next();
    };
  }
  if (mode !== 'enforce') throw new Error(`CDS auth: unknown mode ${JSON.stringify(mode)} (expected "enforce" or "disabled")`);
  const opts = options as CdsAuthEnforceOptions;
  if (typeof opts.publicBaseUrl !== 'string' || !/^https?:\/\/[^/]/.test(opts.publicBaseUrl)) {
    throw new Error('CDS auth: publicBaseUrl must be an absolute http(s) URL');
  }
  let ctx = opts.context;
  if (!ctx) {
    if (opts.clients === undefined) throw new Error('CDS auth: `clients` (or a prebuilt `context`) is required in enforce mode');
    ctx = createCdsAuthContext({ ...opts, clients: opts.clients });
  }
  const context = ctx;
  const log = context.logger;
  const maxHeader = opts.maxAuthHeaderBytes ?? 8192;
  const skipPreflight = opts.skipPreflight ?? true;
  const baseUrl = opts.publicBaseUrl;
  const onReject = opts.onReject ?? (() => {});

  return async (req: Request, res: Response, next: NextFunction) => {
    if (skipPreflight && req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined) {
      next();
      return;
    }
    const path = req.originalUrl.split('?')[0];
    const h = req.headers.authorization;
    if (h === undefined || h === '') {
      log.debug({ event: 'cds_auth_rejected', reason: 'missing_token', method: req.method, path }, 'CDS client authentication failed');
      onReject('missing_token');
      reject(res);
      return;
    }
    if (h.length > maxHeader) {
      log.info({ event: 'cds_auth_rejected', reason: 'token_too_large', method: req.method, path, size: h.length }, 'CDS client authentication failed');
      onReject('token_too_large');
      reject(res);
      return;
    }
    const m = BEARER.exec(h);
    if (!m) {
      log.debug({ event: 'cds_auth_rejected', reason: 'malformed_token', method: req.method, path }, 'CDS client authentication failed');
      onReject('malformed_token');
      reject(res);
      return;
    }
    const result = await verifyCdsJwt(m[1] as string, expectedAudience(baseUrl, req.originalUrl), context);
    if (!result.ok) {
      const level = result.reason === 'malformed_token' ? 'debug' : 'info';
      log[level](
        { event: 'cds_auth_rejected', reason: result.reason, iss: result.iss, kid: result.kid, method: req.method, path },
        'CDS client authentication failed',
      );
      onReject(result.reason);
      reject(res);
      return;
    }
    log.debug({ event: 'cds_auth_ok', iss: result.client.iss, kid: result.kid, jti: result.client.jti }, 'CDS client authenticated');
    res.locals.cdsClient = result.client;
    next();
  };
}

/** Same as `createAuthMiddleware` (enforcing unless `mode: 'disabled'`). */
export const cdsAuth: (options: CdsAuthOptions) => RequestHandler = createAuthMiddleware;

const consoleWarnLogger: AuthLogger = {
  debug() {},
  info() {},
  warn(obj, msg) {
    console.warn(msg ?? '', JSON.stringify(obj));
  },
};
