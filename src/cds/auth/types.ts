// Types of CDS client authentication (src/cds/auth.ts) shared by its parts: the authenticated identity, the
// refusal reasons and the result of verifyCdsJwt, with the two helpers that build a refusal.

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

export type Fail = { ok: false; reason: AuthFailureReason; iss?: string; kid?: string };

/** iss/kid as they go to the log: at most 200 characters. */
export const short = (s: string): string => (s.length > 200 ? `${s.slice(0, 200)}…` : s);

/** A refusal once the header's kid is known (and the iss, once read). */
export const fail = (reason: AuthFailureReason, kid: string, iss?: string): Fail =>
  iss === undefined ? { ok: false, reason, kid: short(kid) } : { ok: false, reason, iss: short(iss), kid: short(kid) };
