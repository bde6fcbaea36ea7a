// Steps 1–4 of CDS client authentication (src/cds/auth.ts): token size and shape, JOSE header (alg allowlist, kid,
// typ, jku, no b64/crit), trusted iss, and the time/audience claims. Synchronous and before any key lookup or
// signature work, so a bad token costs nothing more.
import type { CdsAuthContext, ClientEntry } from './context.js';
import { fail, type Fail } from './types.js';

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

/** A token whose header and claims passed steps 1–4; the signature is not checked yet. */
export interface CheckedToken {
  readonly ok: true;
  /** The three base64url segments. */
  readonly h: string;
  readonly p: string;
  readonly s: string;
  readonly header: Record<string, unknown>;
  readonly alg: string;
  readonly kid: string;
  readonly jku: string | undefined;
  readonly iss: string;
  readonly entry: ClientEntry;
  readonly exp: number;
  readonly jti: string;
  readonly sub: unknown;
  readonly tenant: unknown;
}

/** Steps 1–4 for a call to `expectedAud`: the first failed check, or what the later steps need. */
export function checkToken(token: string, expectedAud: string, ctx: CdsAuthContext): CheckedToken | Fail {
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
  if (ctx.requireTyp) {
    const typ = header['typ'];
    if (typeof typ !== 'string' || typ.toLowerCase().replace(/^application\//, '') !== 'jwt') return fail('bad_typ', kid);
  }
  const jku = header['jku'];
  if (jku !== undefined && typeof jku !== 'string') return fail('bad_header', kid);
  // RFC 7797 unencoded payloads: jose would verify the raw payload while we decode it as base64url (a parser mismatch)
  if (header['b64'] !== undefined && header['b64'] !== true) return fail('unencoded_payload', kid);
  // no critical header extension is understood here: RFC 7515 §4.1.11 says such a token must be refused
  if (header['crit'] !== undefined) return fail('unsupported_crit', kid);

  const claims = decodeJsonObject(p);
  if (!claims) return fail('malformed_token', kid);
  const iss = claims['iss'];
  if (typeof iss !== 'string' || iss === '') return fail('missing_iss', kid);
  const entry = ctx.clients.get(iss);
  if (!entry) return fail('unknown_iss', kid, iss);

  // Claims, before any key lookup or signature work.
  const { exp, iat, nbf, jti, aud, sub, tenant } = claims;
  if (!isNumericDate(exp)) return fail('missing_exp', kid, iss);
  if (!isNumericDate(iat)) return fail('missing_iat', kid, iss);
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_ID_LENGTH) return fail('missing_jti', kid, iss);
  if (nbf !== undefined && !isNumericDate(nbf)) return fail('bad_claims', kid, iss);
  const nowSec = ctx.now() / 1000;
  const skew = ctx.clockSkewSec;
  if (nowSec >= exp + skew) return fail('expired', kid, iss);
  if (nbf !== undefined && nowSec + skew < nbf) return fail('not_yet_valid', kid, iss);
  if (iat > nowSec + skew) return fail('iat_in_future', kid, iss);
  if (exp <= iat) return fail('bad_claims', kid, iss);
  if (exp - iat > ctx.maxTokenLifetimeSec) return fail('lifetime_too_long', kid, iss);
  const audOk = typeof aud === 'string' ? aud === expectedAud : Array.isArray(aud) && aud.some((a) => a === expectedAud);
  if (!audOk) return fail('aud_mismatch', kid, iss);

  return { ok: true, h, p, s, header, alg, kid, jku, iss, entry, exp, jti, sub, tenant };
}
