// Signature check of a CDS client JWT with node:crypto for the common case (step 6 of src/cds/auth.ts): RS*/PS*/ES*
// with imported KeyObjects, cached per JWK; synchronous for RSA and P-256, on libuv's thread pool for P-384 and P-521.
// Returns undefined when the token or key is not eligible, and auth/verify.ts then lets jose decide.
import { constants as cryptoConstants, createPublicKey, verify as nodeVerify, type KeyObject as NodeKeyObject } from 'node:crypto';
import type { PublicJwk } from './trustedClients.js';

const FAST_HASH: Record<string, string> = {
  RS256: 'sha256', RS384: 'sha384', RS512: 'sha512',
  PS256: 'sha256', PS384: 'sha384', PS512: 'sha512',
  ES256: 'sha256', ES384: 'sha384', ES512: 'sha512',
};
/** node:crypto public keys per JWK (null: not usable on the fast path, e.g. RSA under 2048 bits as jose refuses). */
const nodeKeys = new WeakMap<PublicJwk, NodeKeyObject | null>();

function nodeKey(jwk: PublicJwk): NodeKeyObject | null {
  let k = nodeKeys.get(jwk);
  if (k === undefined) {
    try {
      k = createPublicKey({ key: jwk as unknown as import('node:crypto').JsonWebKey, format: 'jwk' });
      if (k.asymmetricKeyType === 'rsa' && (k.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) k = null;
      else if (k.asymmetricKeyType !== 'rsa' && k.asymmetricKeyType !== 'ec') k = null;
    } catch {
      k = null;
    }
    nodeKeys.set(jwk, k);
  }
  return k;
}

/**
 * Curves whose verification is handed to libuv's thread pool (node:crypto's callback form) instead of run on the event
 * loop: a P-384 verify costs ~0.5–0.9 ms of CPU with OpenSSL 3.0 (P-521 more), several times a whole hook call's JSON
 * work. RS384 (~0.03 ms) and ES256 (~0.08 ms) stay synchronous: the hop would spare the loop 0.02–0.05 ms per call and
 * cost the process ~1.5× the verify (bench/jwt-verify.bench.ts, docs/performance.md).
 */
const POOL_CURVES: ReadonlySet<string> = new Set(['ES384', 'ES512']);

/**
 * Signature check with node:crypto for the common case; undefined when the token or key is not eligible (then jose
 * decides). Synchronous, or a promise for the curves in POOL_CURVES (the same check on libuv's thread pool).
 * Same rules as jose's compactVerify for these algorithms: PKCS#1 v1.5 / PSS (salt = hash length) / raw r||s ECDSA.
 */
export function fastVerify(h: string, p: string, s: string, header: Record<string, unknown>, jwk: PublicJwk, alg: string): boolean | Promise<boolean> | undefined {
  const hash = FAST_HASH[alg];
  if (hash === undefined || 'crit' in header || 'b64' in header) return undefined;
  const key = nodeKey(jwk);
  if (!key) return undefined;
  const sig = Buffer.from(s, 'base64url');
  if (sig.toString('base64url') !== s) return false; // not canonical base64url: jose refuses it too
  const data = Buffer.from(`${h}.${p}`, 'ascii');
  try {
    if (alg.startsWith('RS')) return key.asymmetricKeyType === 'rsa' && nodeVerify(hash, data, key, sig);
    if (alg.startsWith('PS')) return key.asymmetricKeyType === 'rsa' && nodeVerify(hash, data, { key, padding: cryptoConstants.RSA_PKCS1_PSS_PADDING, saltLength: cryptoConstants.RSA_PSS_SALTLEN_DIGEST }, sig);
    if (key.asymmetricKeyType !== 'ec') return false;
    const ecKey = { key, dsaEncoding: 'ieee-p1363' as const };
    if (!POOL_CURVES.has(alg)) return nodeVerify(hash, data, ecKey, sig);
    return new Promise<boolean>((resolve) => {
      nodeVerify(hash, data, ecKey, sig, (err, ok) => resolve(err === null && ok));
    });
  } catch {
    return false;
  }
}
