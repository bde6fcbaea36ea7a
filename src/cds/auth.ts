// Authentication of CDS clients (EHRs) by the JWT they send on every CDS Hooks call
// (`Authorization: Bearer <jwt>`, CDS Hooks 2.0 "Trusting CDS Clients").
//
// What is checked, in order (cheap checks first; the replay cache is only touched after the signature holds):
//   1. Authorization header size (<= 8 KiB) and shape `Bearer <b64url>.<b64url>.<b64url>`.
//   2. Header: `alg` in the asymmetric allowlist (ES384, RS384, ES256, RS256 by default; `none` and HS* are never
//      accepted), `kid` present, `typ` "JWT" (case-insensitive, "application/jwt" too), `jku` a string if present;
//      no `crit` (no critical extension is understood) and no `b64` other than true (RFC 7797 unencoded payloads).
//   3. `iss` is a configured trusted client.
//   4. Claims: `exp`, `iat`, `jti` required; `exp` not passed, `nbf` (if present) reached, `iat` not in the future,
//      each with `clockSkewSec` (60 s) tolerance; `exp - iat` <= `maxTokenLifetimeSec` (1 h: the sandbox uses 300 s,
//      EHRs typically 5 min; the bound also caps how long a replay-cache entry lives); `aud` (string or array)
//      contains exactly the URL of the endpoint being called.
//   5. Key: a token `jku` that is not on the client's allowlist is rejected without any request to it, whatever
//      the kid. Then the client's pinned (inline `jwks`) keys with that `kid` that suit `alg` (kty/crv, JWK `alg`)
//      are used, with no request even when the token carries an allowlisted `jku`. Only when no pinned key
//      matches is a key set fetched: the token's (allowlisted) `jku`, or without `jku` each allowlisted set in
//      turn; if that fetch fails the reason is `jku_fetch_failed` (docs/operations.md "CDS client keys").
//   6. Signature (jose `compactVerify`, restricted to the header's `alg`). Imported keys are cached per JWK.
//      (The node:crypto fast path lives in src/cds/signature.ts.)
//      Fast path for the common case (RS*/PS*/ES*, header without `crit`/`b64`, RSA keys >= 2048 bits, canonical
//      base64url signature): the same check with node:crypto's verify, which costs the event loop a fraction of
//      jose's WebCrypto job (docs/performance.md): synchronous for RSA and P-256 (~0.03–0.07 ms), on libuv's thread
//      pool for P-384 and P-521 (~0.5–0.9 ms each, which would otherwise stall the event loop). Anything else goes
//      through jose as before.
//   7. `jti` not seen before for this `iss` (kept until exp + skew).
// Any failure: 401 `{"error":"unauthorized"}`; the reason code (with iss/kid, never the token) goes to the log.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { compactVerify, importJWK, type CryptoKey, type KeyObject } from 'jose';
import { indexByKid, RemoteJwksCache, type RemoteJwksOptions } from './jwksCache.js';
import { InMemoryReplayCache, type ReplayStore } from './replayCache.js';
import { fastVerify } from './signature.js';
import { normalizeJku, type PublicJwk, type TrustedClient, type TrustedClients } from './trustedClients.js';

/** Identity of an authenticated CDS client, stored in `res.locals.cdsClient`. */
export interface CdsClientIdentity {
  iss: string;
  sub?: string;
  tenant?: string;
  jti: string;
  /** `name` of the trusted-client entry, if configured. */
  name?: string;
  /** Only set when auth is disabled (development): nothing about the caller was verified. */
  authDisabled?: true;
}

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Locals {
      cdsClient?: CdsClientIdentity;
    }
  }
}

/** pino-compatible subset. */
export interface AuthLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export type AuthFailureReason =
  | 'missing_token'
  | 'malformed_token'
  | 'token_too_large'
  | 'bad_header'
  | 'unencoded_payload'
  | 'unsupported_crit'
  | 'alg_not_allowed'
  | 'missing_kid'
  | 'bad_typ'
  | 'bad_claims'
  | 'missing_iss'
  | 'unknown_iss'
  | 'missing_exp'
  | 'missing_iat'
  | 'missing_jti'
  | 'expired'
  | 'not_yet_valid'
  | 'iat_in_future'
  | 'lifetime_too_long'
  | 'aud_mismatch'
  | 'jku_not_allowed'
  | 'jku_fetch_failed'
  | 'unknown_kid'
  | 'key_alg_mismatch'
  | 'key_import_failed'
  | 'bad_signature'
  | 'replayed_jti'
  | 'replay_cache_full'
  | 'internal_error';

export type VerifyResult =
  | { ok: true; client: CdsClientIdentity; kid: string }
  | { ok: false; reason: AuthFailureReason; iss?: string; kid?: string };

export const DEFAULT_ALGORITHMS = ['ES384', 'RS384', 'ES256', 'RS256'] as const;
/** Asymmetric algorithms that may be enabled through `algorithms`. */
export const SUPPORTED_ALGORITHMS = ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA', 'Ed25519'] as const;

export interface CdsAuthConfig {
  clients: TrustedClients | readonly TrustedClient[];
  /** Accepted `alg` values (default ES384, RS384, ES256, RS256). Symmetric algorithms and `none` are refused. */
  algorithms?: readonly string[];
  /** Tolerance for exp/nbf/iat, seconds (default 60). */
  clockSkewSec?: number;
  /** Upper bound for `exp - iat`, seconds (default 3600). */
  maxTokenLifetimeSec?: number;
  /** Require header `typ` = JWT (default true, as the spec says REQUIRED). */
  requireTyp?: boolean;
  /** Longest token accepted by `verifyCdsJwt`, characters (default 8192). */
  maxTokenBytes?: number;
  /** Default: a new `InMemoryReplayCache` remembering at most `replayCacheMaxEntries` tokens. */
  replayStore?: ReplayStore;
  /** Bound of the default in-memory replay cache (default 1 000 000 tokens, 12 bytes each). */
  replayCacheMaxEntries?: number;
  /** Options for the `jku` key-set cache, or a shared instance. */
  jwks?: RemoteJwksOptions | RemoteJwksCache;
  logger?: AuthLogger;
  /** Clock in epoch ms, for tests. */
  now?: () => number;
}

interface ClientEntry {
  client: TrustedClient;
  inline: Map<string, PublicJwk[]>;
  jku: ReadonlySet<string>;
}

/** Everything `verifyCdsJwt` needs; build once with `createCdsAuthContext` and share. */
export interface CdsAuthContext {
  readonly clients: ReadonlyMap<string, ClientEntry>;
  readonly algorithms: ReadonlySet<string>;
  readonly clockSkewSec: number;
  readonly maxTokenLifetimeSec: number;
  readonly requireTyp: boolean;
  readonly maxTokenBytes: number;
  readonly replayStore: ReplayStore;
  readonly remoteJwks: RemoteJwksCache;
  readonly logger: AuthLogger;
  readonly now: () => number;
  /** Imported keys, per JWK object and alg. Fetched key sets are new objects, so old keys are collected. */
  readonly importedKeys: WeakMap<PublicJwk, Map<string, Promise<CryptoKey | KeyObject>>>;
}

const noopLogger: AuthLogger = { debug() {}, info() {}, warn() {} };

export function createCdsAuthContext(config: CdsAuthConfig): CdsAuthContext {
  const algorithms = new Set(config.algorithms ?? DEFAULT_ALGORITHMS);
  for (const a of algorithms) {
    if (!(SUPPORTED_ALGORITHMS as readonly string[]).includes(a)) {
      throw new Error(`CDS auth: algorithm "${a}" is not allowed (only asymmetric signature algorithms: ${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
  }
  const list = Array.isArray(config.clients) ? (config.clients as readonly TrustedClient[]) : (config.clients as TrustedClients).clients;
  const clients = new Map<string, ClientEntry>();
  for (const c of list) {
    if (clients.has(c.iss)) throw new Error(`CDS auth: duplicate trusted client iss "${c.iss}"`);
    const jku = new Set<string>();
    for (const u of c.jku ?? []) {
      const n = normalizeJku(u);
      if (n === undefined) throw new Error(`CDS auth: invalid jku "${u}" for iss "${c.iss}"`);
      jku.add(n);
    }
    clients.set(c.iss, { client: c, inline: indexByKid(c.jwks?.keys ?? []), jku });
  }
  const logger = config.logger ?? noopLogger;
  const now = config.now ?? Date.now;
  const remoteJwks =
    config.jwks instanceof RemoteJwksCache ? config.jwks : new RemoteJwksCache({ logger, now, ...(config.jwks ?? {}) });
  return {
    clients,
    algorithms,
    clockSkewSec: config.clockSkewSec ?? 60,
    maxTokenLifetimeSec: config.maxTokenLifetimeSec ?? 3600,
    requireTyp: config.requireTyp ?? true,
    maxTokenBytes: config.maxTokenBytes ?? 8192,
    replayStore:
      config.replayStore ??
      new InMemoryReplayCache({ now, ...(config.replayCacheMaxEntries !== undefined ? { maxEntries: config.replayCacheMaxEntries } : {}) }),
    remoteJwks,
    logger,
    now,
    importedKeys: new WeakMap(),
  };
}

const B64URL_SEGMENT = /^[A-Za-z0-9_-]+$/;
const MAX_ID_LENGTH = 256;

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const short = (s: string): string => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

/** Does this public key fit the algorithm? (jose would also refuse a mismatch, but this picks among same-kid keys.) */
function keyFitsAlg(jwk: PublicJwk, alg: string): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  switch (alg) {
    case 'ES256':
      return jwk.kty === 'EC' && jwk.crv === 'P-256';
    case 'ES384':
      return jwk.kty === 'EC' && jwk.crv === 'P-384';
    case 'ES512':
      return jwk.kty === 'EC' && jwk.crv === 'P-521';
    case 'EdDSA':
    case 'Ed25519':
      return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    default:
      return jwk.kty === 'RSA' && /^(RS|PS)(256|384|512)$/.test(alg);
  }
}

function importKey(ctx: CdsAuthContext, jwk: PublicJwk, alg: string): Promise<CryptoKey | KeyObject> {
  let perAlg = ctx.importedKeys.get(jwk);
  if (!perAlg) {
    perAlg = new Map();
    ctx.importedKeys.set(jwk, perAlg);
  }
  let p = perAlg.get(alg);
  if (!p) {
    p = importJWK(jwk as Parameters<typeof importJWK>[0], alg) as Promise<CryptoKey | KeyObject>;
    perAlg.set(alg, p);
  }
  return p;
}

type Fail = { ok: false; reason: AuthFailureReason; iss?: string; kid?: string };

/**
 * Verifies a CDS client JWT for a call to `expectedAud` (the exact endpoint URL). Never throws.
 * On success the `jti` has been recorded in the replay store, so a second call with the same token fails.
 */
export async function verifyCdsJwt(token: string, expectedAud: string, ctx: CdsAuthContext): Promise<VerifyResult> {
  try {
    return await verifyInner(token, expectedAud, ctx);
  } catch (err) {
    ctx.logger.warn({ event: 'cds_auth_error', error: err instanceof Error ? err.message : String(err) }, 'unexpected error in CDS auth');
    return { ok: false, reason: 'internal_error' };
  }
}

async function verifyInner(token: string, expectedAud: string, ctx: CdsAuthContext): Promise<VerifyResult> {
  if (token.length > ctx.maxTokenBytes) return { ok: false, reason: 'token_too_large' };
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'malformed_token' };
  const [h, p, s] = parts as [string, string, string];
  if (!B64URL_SEGMENT.test(h) || !B64URL_SEGMENT.test(p) || !B64URL_SEGMENT.test(s)) return { ok: false, reason: 'malformed_token' };

  const header = decodeJsonObject(h);
  if (!header) return { ok: false, reason: 'malformed_token' };
  const alg = header['alg'];
  if (typeof alg !== 'string' || !ctx.algorithms.has(alg)) return { ok: false, reason: 'alg_not_allowed' };
  const kid = header['kid'];
  if (typeof kid !== 'string' || kid === '' || kid.length > MAX_ID_LENGTH) return { ok: false, reason: 'missing_kid' };
  const fail = (reason: AuthFailureReason, iss?: string): Fail => (iss === undefined ? { ok: false, reason, kid: short(kid) } : { ok: false, reason, iss: short(iss), kid: short(kid) });
  if (ctx.requireTyp) {
    const typ = header['typ'];
    if (typeof typ !== 'string' || typ.toLowerCase().replace(/^application\//, '') !== 'jwt') return fail('bad_typ');
  }
  const jku = header['jku'];
  if (jku !== undefined && typeof jku !== 'string') return fail('bad_header');
  // RFC 7797 unencoded payloads: jose would verify the raw payload while we decode it as base64url (a parser mismatch)
  if (header['b64'] !== undefined && header['b64'] !== true) return fail('unencoded_payload');
  // no critical header extension is understood here: RFC 7515 §4.1.11 says such a token must be refused
  if (header['crit'] !== undefined) return fail('unsupported_crit');

  const claims = decodeJsonObject(p);
  if (!claims) return fail('malformed_token');
  const iss = claims['iss'];
  if (typeof iss !== 'string' || iss === '') return fail('missing_iss');
  const entry = ctx.clients.get(iss);
  if (!entry) return fail('unknown_iss', iss);

  // Claims, before any key lookup or signature work.
  const { exp, iat, nbf, jti, aud, sub, tenant } = claims;
  if (!isNumericDate(exp)) return fail('missing_exp', iss);
  if (!isNumericDate(iat)) return fail('missing_iat', iss);
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_ID_LENGTH) return fail('missing_jti', iss);
  if (nbf !== undefined && !isNumericDate(nbf)) return fail('bad_claims', iss);
  const nowSec = ctx.now() / 1000;
  const skew = ctx.clockSkewSec;
  if (nowSec >= exp + skew) return fail('expired', iss);
  if (nbf !== undefined && nowSec + skew < nbf) return fail('not_yet_valid', iss);
  if (iat > nowSec + skew) return fail('iat_in_future', iss);
  if (exp <= iat) return fail('bad_claims', iss);
  if (exp - iat > ctx.maxTokenLifetimeSec) return fail('lifetime_too_long', iss);
  const audOk = typeof aud === 'string' ? aud === expectedAud : Array.isArray(aud) && aud.some((a) => a === expectedAud);
  if (!audOk) return fail('aud_mismatch', iss);

  // Key selection. Pinned (inline) keys first: a kid that matches a pinned key suiting `alg` is verified with it,
  // even when the token carries an allowlisted `jku` (no request is made; the EHR's published set may be
  // unreachable behind a firewall). A `jku` that is not on the allowlist is refused before anything else,
  // whatever the kid: the token names a key source this client was never configured with.
  // Only when no pinned key matches is a key set fetched: the token's `jku`, or without one every allowlisted set.
  if (jku !== undefined) {
    const url = normalizeJku(jku);
    if (url === undefined || !entry.jku.has(url)) return fail('jku_not_allowed', iss);
  }
  let candidates: readonly PublicJwk[] | undefined = entry.inline.get(kid)?.filter((k) => keyFitsAlg(k, alg));
  if (candidates === undefined || candidates.length === 0) {
    const urls = jku !== undefined ? [normalizeJku(jku) as string] : [...entry.jku];
    let fetchFailed = false;
    let found: readonly PublicJwk[] | undefined;
    for (const url of urls) {
      const r = await ctx.remoteJwks.lookup(url, kid);
      if (r.status === 'ok') {
        found = r.keys;
        break;
      }
      if (r.status === 'fetch_failed') fetchFailed = true;
    }
    if (found) candidates = found;
    else if (candidates === undefined || urls.length > 0) return fail(fetchFailed ? 'jku_fetch_failed' : 'unknown_kid', iss);
  }
  const fitting = candidates.filter((k) => keyFitsAlg(k, alg));
  if (fitting.length === 0) return fail('key_alg_mismatch', iss);

  // Signature.
  let verified = false;
  let imported = false;
  for (const jwk of fitting) {
    const pending = fastVerify(h, p, s, header, jwk, alg);
    const fast = typeof pending === 'object' ? await pending : pending;
    if (fast !== undefined) {
      imported = true;
      if (fast) {
        verified = true;
        break;
      }
      continue;
    }
    let key: CryptoKey | KeyObject;
    try {
      key = await importKey(ctx, jwk, alg);
      imported = true;
    } catch {
      continue;
    }
    try {
      await compactVerify(token, key, { algorithms: [alg] });
      verified = true;
      break;
    } catch {
      // try the next key with this kid, if any
    }
  }
  if (!verified) return fail(imported ? 'bad_signature' : 'key_import_failed', iss);

  // Replay, last: only tokens with a valid signature may occupy the cache.
  const seen = await ctx.replayStore.checkAndStore(iss, jti, Math.ceil((exp + skew) * 1000));
  if (seen === 'replayed') return fail('replayed_jti', iss);
  if (seen === 'full') {
    ctx.logger.warn({ event: 'cds_auth_replay_cache_full', iss: short(iss) }, 'replay cache full: refusing CDS client tokens');
    return fail('replay_cache_full', iss);
  }

  const client: CdsClientIdentity = { iss, jti };
  if (typeof sub === 'string') client.sub = sub;
  if (typeof tenant === 'string') client.tenant = tenant;
  if (entry.client.name !== undefined) client.name = entry.client.name;
  return { ok: true, client, kid };
}

// ---------------------------------------------------------------------------------------------------------------
// Express middleware

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
