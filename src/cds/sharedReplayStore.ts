// Replay protection shared by every replica: each replica's own in-memory cache in front of a shared store (the
// PostgreSQL database when DATABASE_URL is set), so a token accepted by one replica is refused by all the others.
//
// Availability first, as for the audit store: when the shared store fails or is slower than `timeoutMs`, the call is
// decided by the replica's own cache (the protection every replica has anyway) and the shared store is not asked again
// for `retryAfterMs`. A token could then be accepted once per replica during the outage; it is never accepted twice by
// the same replica. The database never delays a hook call by more than `timeoutMs`.
import { createHash } from 'node:crypto';
import { InMemoryReplayCache, type ReplayCheck, type ReplayStore } from './replayCache.js';

export interface ReplayClaimer {
  /** Records `key` until `expiresAtMs`: true when no unexpired record of it existed (claimed), false otherwise. */
  claimReplayKey(key: string, expiresAtMs: number): Promise<boolean>;
  /** Deletes expired records; returns how many. */
  purgeExpiredReplayKeys(): Promise<number>;
}

export type SharedReplayFallback = 'error' | 'timeout' | 'skipped';

export interface SharedReplayStoreOptions {
  local: InMemoryReplayCache;
  shared: ReplayClaimer;
  /** Longest wait for the shared store before the local answer is used (default 250 ms). */
  timeoutMs?: number;
  /** After a failure or a timeout, the shared store is not asked again for this long (default 5000 ms). */
  retryAfterMs?: number;
  /** Expired shared records are deleted at most this often (default 60 s), by whichever call comes first. */
  purgeIntervalMs?: number;
  /** Each call decided without the shared store: 'error'/'timeout' when it failed, 'skipped' while waiting to retry. */
  onFallback?: (reason: SharedReplayFallback) => void;
  now?: () => number;
}

export class SharedReplayStore implements ReplayStore {
  readonly local: InMemoryReplayCache;
  private readonly shared: ReplayClaimer;
  private readonly timeoutMs: number;
  private readonly retryAfterMs: number;
  private readonly purgeIntervalMs: number;
  private readonly onFallback: (reason: SharedReplayFallback) => void;
  private readonly now: () => number;
  private skipUntil = 0;
  private lastPurge: number;

  constructor(o: SharedReplayStoreOptions) {
    this.local = o.local;
    this.shared = o.shared;
    this.timeoutMs = o.timeoutMs ?? 250;
    this.retryAfterMs = o.retryAfterMs ?? 5000;
    this.purgeIntervalMs = o.purgeIntervalMs ?? 60_000;
    this.onFallback = o.onFallback ?? (() => {});
    this.now = o.now ?? Date.now;
    this.lastPurge = this.now();
  }

  async checkAndStore(iss: string, jti: string, expiresAtMs: number): Promise<ReplayCheck> {
    // this replica first: a replay it has seen (or a full cache) is decided without the database
    const local = this.local.checkAndStore(iss, jti, expiresAtMs);
    if (local !== 'new') return local;
    const now = this.now();
    if (now < this.skipUntil) {
      this.onFallback('skipped');
      return 'new';
    }
    if (now - this.lastPurge >= this.purgeIntervalMs) {
      this.lastPurge = now;
      this.shared.purgeExpiredReplayKeys().catch(() => undefined);
    }
    // the shared record holds a digest, not the issuer and token id themselves (fixed length)
    const key = createHash('sha256').update(iss).update('\u0000').update(jti).digest('base64url');
    const claim = this.shared.claimReplayKey(key, expiresAtMs);
    claim.catch(() => undefined); // a claim that loses the race may still fail later
    let timer: NodeJS.Timeout | undefined;
    try {
      const claimed = await Promise.race([claim, new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, this.timeoutMs, 'timeout')))]);
      if (claimed === 'timeout') return this.fallBack('timeout');
      return claimed ? 'new' : 'replayed';
    } catch {
      return this.fallBack('error');
    } finally {
      clearTimeout(timer);
    }
  }

  private fallBack(reason: 'error' | 'timeout'): ReplayCheck {
    this.skipUntil = this.now() + this.retryAfterMs;
    this.onFallback(reason);
    return 'new';
  }
}
