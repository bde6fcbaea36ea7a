// Step 5 of CDS client authentication (src/cds/auth.ts): which public keys may verify the token. A `jku` not on the
// client's allowlist is refused first; then the client's pinned (inline) keys with that kid that suit `alg`, with no
// request; only when none matches, the token's allowlisted `jku` or else each allowlisted set in turn, through the
// key-set cache (src/cds/jwksCache.ts). Also the jose key import, cached per JWK and alg, for step 6.
import { importJWK, type CryptoKey, type KeyObject } from 'jose';
import { normalizeJku, type PublicJwk } from '../trustedClients.js';
import type { CdsAuthContext } from './context.js';
import type { CheckedToken } from './token.js';
import type { AuthFailureReason } from './types.js';

/** Does this public key fit the algorithm? (jose would also refuse a mismatch, but this picks among same-kid keys.) */
export function keyFitsAlg(jwk: PublicJwk, alg: string): boolean {
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

/** The keys to try (non-empty, each fitting `alg`), or why there is none. */
export type KeyChoice = readonly PublicJwk[] | AuthFailureReason;

/**
 * The keys for this token. Synchronous when no key set has to be looked up (a refused jku, a pinned key), so the
 * common pinned case costs no promise; a promise only when the key-set cache is asked.
 */
export function chooseKeys(ctx: CdsAuthContext, t: CheckedToken): KeyChoice | Promise<KeyChoice> {
  const { entry, kid, alg, jku } = t;
  // A `jku` that is not on the allowlist is refused before anything else, whatever the kid: the token names a key
  // source this client was never configured with.
  if (jku !== undefined) {
    const url = normalizeJku(jku);
    if (url === undefined || !entry.jku.has(url)) return 'jku_not_allowed';
  }
  // Pinned (inline) keys first: a kid that matches a pinned key suiting `alg` is verified with it, even when the token
  // carries an allowlisted `jku` (no request is made; the EHR's published set may be unreachable behind a firewall).
  const pinned = entry.inline.get(kid)?.filter((k) => keyFitsAlg(k, alg));
  if (pinned !== undefined && pinned.length > 0) return pinned;
  // Only when no pinned key matches is a key set fetched: the token's `jku`, or without one every allowlisted set.
  const urls = jku !== undefined ? [normalizeJku(jku) as string] : [...entry.jku];
  // kid pinned but no pinned key suits alg, and nothing to fetch: a key/alg mismatch
  if (urls.length === 0) return pinned === undefined ? 'unknown_kid' : 'key_alg_mismatch';
  return fetchKeys(ctx, urls, kid, alg);
}

async function fetchKeys(ctx: CdsAuthContext, urls: readonly string[], kid: string, alg: string): Promise<KeyChoice> {
  let fetchFailed = false;
  for (const url of urls) {
    const r = await ctx.remoteJwks.lookup(url, kid);
    if (r.status === 'ok') {
      const fitting = r.keys.filter((k) => keyFitsAlg(k, alg));
      return fitting.length === 0 ? 'key_alg_mismatch' : fitting;
    }
    if (r.status === 'fetch_failed') fetchFailed = true;
  }
  return fetchFailed ? 'jku_fetch_failed' : 'unknown_kid';
}

/** jose key for this JWK and alg, imported once per context. */
export function importKey(ctx: CdsAuthContext, jwk: PublicJwk, alg: string): Promise<CryptoKey | KeyObject> {
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
