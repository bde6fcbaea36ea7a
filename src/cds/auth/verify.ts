// verifyCdsJwt: the checks of src/cds/auth.ts in order. Steps 1–4 (token.ts) and 5 (keys.ts), then the signature
// (step 6: node:crypto in ../signature.ts for the common case, synchronous or on libuv's thread pool for P-384/P-521;
// jose's compactVerify for the rest) and the replay check (step 7), which only sees tokens with a valid signature.
import { compactVerify, type CryptoKey, type KeyObject } from 'jose';
import { fastVerify } from '../signature.js';
import type { CdsAuthContext } from './context.js';
import { chooseKeys, importKey } from './keys.js';
import { checkToken } from './token.js';
import { fail, short, type CdsClientIdentity, type VerifyResult } from './types.js';

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
  const t = checkToken(token, expectedAud, ctx);
  if (!t.ok) return t;
  const { h, p, s, header, alg, kid, iss, entry, exp, jti, sub, tenant } = t;

  // Key selection (no promise unless a key set has to be looked up).
  const chosen = chooseKeys(ctx, t);
  const fitting = chosen instanceof Promise ? await chosen : chosen;
  if (typeof fitting === 'string') return fail(fitting, kid, iss);

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
  if (!verified) return fail(imported ? 'bad_signature' : 'key_import_failed', kid, iss);

  // Replay, last: only tokens with a valid signature may occupy the cache.
  const seen = await ctx.replayStore.checkAndStore(iss, jti, Math.ceil((exp + ctx.clockSkewSec) * 1000));
  if (seen === 'replayed') return fail('replayed_jti', kid, iss);
  if (seen === 'full') {
    ctx.logger.warn({ event: 'cds_auth_replay_cache_full', iss: short(iss) }, 'replay cache full: refusing CDS client tokens');
    return fail('replay_cache_full', kid, iss);
  }

  const client: CdsClientIdentity = { iss, jti };
  if (typeof sub === 'string') client.sub = sub;
  if (typeof tenant === 'string') client.tenant = tenant;
  if (entry.client.name !== undefined) client.name = entry.client.name;
  return { ok: true, client, kid };
}
