// Cache of key sets fetched from allowlisted `jku` URLs.
//
// Policy (all times configurable):
// - A URL is only ever fetched because auth.ts found it on the allowlist of the token's `iss`.
// - Fresh for `ttlMs` (10 min). After that the cached keys are still served immediately and a refresh runs in
//   the background (stale-while-revalidate), so the hot path never waits on the network once warmed up.
// - An unknown `kid` triggers a re-fetch (key rotation) at most once per `cooldownMs` (10 s) per URL; the same
//   cooldown throttles retries after a failed fetch, so forged tokens cannot make us hammer the EHR.
// - If refreshes fail, the last good keys keep working for up to `maxStaleMs` (24 h) after the last successful
//   fetch; after that they are dropped (fail closed).
// - Each fetch: `timeoutMs` (2 s) for the whole exchange, redirects refused (a redirect could lead off the
//   allowlist), body capped at `maxBytes` (256 KiB), keys that are not public asymmetric signing keys skipped.
import { isUsablePublicJwk, type PublicJwk } from './trustedClients.js';

export interface JwksLogger {
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface RemoteJwksOptions {
  timeoutMs?: number;
  ttlMs?: number;
  cooldownMs?: number;
  maxStaleMs?: number;
  maxBytes?: number;
  /** Injected for tests; defaults to global fetch. */
  fetch?: typeof fetch;
  now?: () => number;
  logger?: JwksLogger;
}

export type JwksLookup =
  | { status: 'ok'; keys: readonly PublicJwk[] }
  | { status: 'unknown_kid' }
  | { status: 'fetch_failed' };

interface Entry {
  byKid?: Map<string, PublicJwk[]>;
  fetchedAt: number;
  lastAttempt: number;
  inflight?: Promise<void>;
}

const silent: JwksLogger = { debug() {}, warn() {} };

export function indexByKid(keys: readonly PublicJwk[]): Map<string, PublicJwk[]> {
  const m = new Map<string, PublicJwk[]>();
  for (const k of keys) {
    const list = m.get(k.kid);
    if (list) list.push(k);
    else m.set(k.kid, [k]);
  }
  return m;
}

export class RemoteJwksCache {
  private readonly entries = new Map<string, Entry>();
  private readonly timeoutMs: number;
  private readonly ttlMs: number;
  private readonly cooldownMs: number;
  private readonly maxStaleMs: number;
  private readonly maxBytes: number;
  private readonly fetchFn: typeof fetch;
  private readonly now: () => number;
  private readonly log: JwksLogger;

  constructor(opts: RemoteJwksOptions = {}) {
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.cooldownMs = opts.cooldownMs ?? 10_000;
    this.maxStaleMs = opts.maxStaleMs ?? 24 * 60 * 60_000;
    this.maxBytes = opts.maxBytes ?? 256 * 1024;
    this.fetchFn = opts.fetch ?? ((input, init) => fetch(input, init));
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? silent;
  }

  /** Keys with this kid in the key set at `url` (which the caller has already checked against the allowlist). */
  async lookup(url: string, kid: string): Promise<JwksLookup> {
    let e = this.entries.get(url);
    if (!e) {
      e = { fetchedAt: 0, lastAttempt: Number.NEGATIVE_INFINITY };
      this.entries.set(url, e);
    }
    const now = this.now();
    if (e.byKid && now - e.fetchedAt > this.maxStaleMs) {
      this.log.warn({ event: 'jwks_expired', jku: url }, 'cached key set is too old and could not be refreshed; dropping it');
      e.byKid = undefined;
    }
    if (!e.byKid) {
      if (e.inflight) await e.inflight;
      else if (now - e.lastAttempt >= this.cooldownMs) await this.refresh(url, e);
      if (!e.byKid) return { status: 'fetch_failed' };
    } else if (now - e.fetchedAt >= this.ttlMs && now - e.lastAttempt >= this.cooldownMs) {
      void this.refresh(url, e); // stale-while-revalidate
    }
    let keys = e.byKid.get(kid);
    if (!keys) {
      if (e.inflight) await e.inflight;
      else if (now - e.lastAttempt >= this.cooldownMs) await this.refresh(url, e);
      keys = e.byKid?.get(kid);
    }
    return keys ? { status: 'ok', keys } : { status: 'unknown_kid' };
  }

  /** Forget everything (tests, or an operator-triggered reload). */
  clear(): void {
    this.entries.clear();
  }

  private refresh(url: string, e: Entry): Promise<void> {
    if (e.inflight) return e.inflight;
    e.lastAttempt = this.now();
    const p = this.fetchKeySet(url).then(
      (keys) => {
        e.byKid = indexByKid(keys);
        e.fetchedAt = this.now();
        this.log.debug({ event: 'jwks_fetched', jku: url, keys: keys.length }, 'fetched CDS client key set');
      },
      (err: unknown) => {
        this.log.warn(
          { event: 'jwks_fetch_failed', jku: url, error: err instanceof Error ? err.message : String(err), cached: e.byKid !== undefined },
          'could not fetch CDS client key set',
        );
      },
    );
    e.inflight = p.finally(() => {
      e.inflight = undefined;
    });
    return e.inflight;
  }

  private async fetchKeySet(url: string): Promise<PublicJwk[]> {
    const res = await this.fetchFn(url, {
      method: 'GET',
      redirect: 'error',
      signal: AbortSignal.timeout(this.timeoutMs),
      headers: { accept: 'application/jwk-set+json, application/json' },
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`HTTP ${res.status}`);
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > this.maxBytes) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`key set larger than ${this.maxBytes} bytes`);
    }
    const text = await readCapped(res, this.maxBytes);
    const data: unknown = JSON.parse(text);
    const keys = (data as { keys?: unknown } | null)?.keys;
    if (!Array.isArray(keys)) throw new Error('response is not a JWK Set ({"keys": [...]})');
    const usable = keys.filter(isUsablePublicJwk);
    if (usable.length < keys.length) {
      this.log.debug({ event: 'jwks_keys_skipped', jku: url, skipped: keys.length - usable.length }, 'skipped unusable keys in key set');
    }
    return usable;
  }
}

async function readCapped(res: Response, maxBytes: number): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new Error(`key set larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
