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
//
// Where each part lives (this file only re-exports them):
//   auth/types.ts       identity, refusal reasons, VerifyResult, AuthLogger
//   auth/context.ts     CdsAuthConfig, createCdsAuthContext (clients by iss, algorithms, limits, replay store, jku cache)
//   auth/token.ts       steps 1-4: size, shape, header, iss, claims (synchronous)
//   auth/keys.ts        step 5: jku allowlist, pinned keys, key-set lookup; jose key import
//   auth/verify.ts      verifyCdsJwt: steps in order, signature (step 6, with ./signature.ts), replay (step 7)
//   auth/middleware.ts  the express middleware (401 on every refusal) and the disabled (development) mode
export type { AuthFailureReason, AuthLogger, CdsClientIdentity, VerifyResult } from './auth/types.js';
export { createCdsAuthContext, DEFAULT_ALGORITHMS, SUPPORTED_ALGORITHMS, type CdsAuthConfig, type CdsAuthContext } from './auth/context.js';
export { verifyCdsJwt } from './auth/verify.js';
export {
  AUTH_DISABLED_CLIENT,
  cdsAuth,
  createAuthMiddleware,
  expectedAudience,
  type CdsAuthDisabledOptions,
  type CdsAuthEnforceOptions,
  type CdsAuthMode,
  type CdsAuthOptions,
} from './auth/middleware.js';
