// Replay protection for CDS client JWTs: each (iss, jti) pair is accepted once while the token could still
// be valid. The interface is async-capable so a shared store (Redis `SET key 1 NX PXAT <ms>`, or a Postgres
// `INSERT ... ON CONFLICT DO NOTHING`) can replace the in-memory one when the service runs on several nodes.

export type ReplayCheck = 'new' | 'replayed' | 'full';

export interface ReplayStore {
  /**
   * Atomically records (iss, jti) until `expiresAtMs` (epoch ms).
   * Returns 'new' when it was not seen before, 'replayed' when it was (and has not expired), and 'full' when the
   * store cannot record it (the caller must then reject: accepting unrecorded tokens would allow replays).
   */
  checkAndStore(iss: string, jti: string, expiresAtMs: number): ReplayCheck | Promise<ReplayCheck>;
}

export interface InMemoryReplayCacheOptions {
  /** Upper bound on remembered tokens (default 200 000, roughly 40 MB in the worst case). */
  maxEntries?: number;
  /** How often (at most) the whole map is swept for expired entries (default 10 s). */
  sweepIntervalMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Single-process replay cache. Memory is bounded: expired entries are swept lazily, and when `maxEntries`
 * unexpired entries are held, new tokens are refused ('full') rather than evicting entries that could then be
 * replayed (fail closed). Only tokens with a verified signature reach the cache, so only a trusted client can
 * fill it; entries live at most (max token lifetime + clock skew).
 */
export class InMemoryReplayCache implements ReplayStore {
  private readonly seen = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly sweepIntervalMs: number;
  private readonly now: () => number;
  private lastSweep = 0;

  constructor(opts: InMemoryReplayCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 200_000;
    this.sweepIntervalMs = opts.sweepIntervalMs ?? 10_000;
    this.now = opts.now ?? Date.now;
    if (!(this.maxEntries > 0)) throw new RangeError('maxEntries must be > 0');
  }

  get size(): number {
    return this.seen.size;
  }

  checkAndStore(iss: string, jti: string, expiresAtMs: number): ReplayCheck {
    const now = this.now();
    // NUL cannot appear in a JSON string coming from a JWT without escaping, and is unambiguous as a separator.
    const key = `${iss}\u0000${jti}`;
    const prev = this.seen.get(key);
    if (prev !== undefined) {
      if (prev > now) return 'replayed';
      this.seen.delete(key);
    }
    const sinceSweep = now - this.lastSweep;
    // Sweep periodically, and early when full (but at most once a second, so a full cache stays cheap).
    if (sinceSweep >= this.sweepIntervalMs || (this.seen.size >= this.maxEntries && sinceSweep >= 1000)) this.sweep(now);
    if (this.seen.size >= this.maxEntries) return 'full';
    this.seen.set(key, expiresAtMs);
    return 'new';
  }

  /** Drops expired entries. */
  sweep(now = this.now()): void {
    this.lastSweep = now;
    for (const [k, exp] of this.seen) if (exp <= now) this.seen.delete(k);
  }

  clear(): void {
    this.seen.clear();
  }
}
