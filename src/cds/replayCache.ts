// Replay protection for CDS client JWTs: each (iss, jti) pair is accepted once while the token could still
// be valid. The interface is async-capable so a shared store (Redis `SET key 1 NX PXAT <ms>`, or a Postgres
// `INSERT ... ON CONFLICT DO NOTHING`) can replace the in-memory one when the service runs on several nodes.
import { randomInt } from 'node:crypto';

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
  /**
   * Upper bound on remembered (unexpired) tokens. Default 1 000 000: 12 bytes per slot at a load of at most one
   * half, so at most 24 MiB (2^21 slots), allocated as the cache grows. With tokens living 5 min plus 60 s of clock
   * skew, that is ~2,700 hook calls per second sustained before the cache refuses tokens.
   */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
}

const SLOT = 3; // [hash A, hash B, expiry in epoch seconds (0 = never used)]
const MIN_SLOTS = 4096;

/**
 * Single-process replay cache, kept off the JavaScript heap: an open-addressing table (linear probing) in one
 * `Uint32Array`, each slot holding two independent 32-bit hashes of `iss \0 jti` (seeded at random per process)
 * and the entry's expiry in seconds, rounded up. So each token costs 12 bytes whatever the length of its strings,
 * and the garbage collector never scans the cache.
 *
 * - A replayed token always hashes to the same slot chain and is found while it is unexpired: replays are refused.
 * - Two different tokens sharing both hashes (probability ~n / 2^64 per token) make the second one look replayed:
 *   a collision can only refuse a token, never accept a replay.
 * - Expired slots are reused by later inserts on the same chain and dropped when the table is rebuilt (when it
 *   grows, or when it reaches `maxEntries`).
 * - Memory is bounded: when `maxEntries` unexpired entries are held, new tokens are refused ('full') rather than
 *   evicting entries that could then be replayed (fail closed); a full cache is re-swept at most once a second.
 *   Only tokens with a verified signature reach the cache, so only a trusted client can fill it.
 */
export class InMemoryReplayCache implements ReplayStore {
  private readonly maxEntries: number;
  private readonly maxSlots: number;
  private readonly now: () => number;
  private readonly seedA = randomInt(0x7fffffff);
  private readonly seedB = randomInt(0x7fffffff);
  private table: Uint32Array;
  private mask: number;
  /** Slots holding an entry, expired or not (expired ones until they are reused or the table is rebuilt). */
  private occupied = 0;
  private lastSweep = 0;
  private hashA = 0;
  private hashB = 0;

  constructor(opts: InMemoryReplayCacheOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 1_000_000;
    if (!(Number.isInteger(this.maxEntries) && this.maxEntries > 0 && this.maxEntries <= 2 ** 28)) {
      throw new RangeError('maxEntries must be an integer from 1 to 2^28');
    }
    this.now = opts.now ?? Date.now;
    let slots = 2;
    while (slots < 2 * this.maxEntries) slots *= 2;
    this.maxSlots = slots;
    const initial = Math.min(MIN_SLOTS, slots);
    this.table = new Uint32Array(initial * SLOT);
    this.mask = initial - 1;
  }

  /** Entries held, including expired ones not yet swept (an upper bound on the unexpired ones). */
  get size(): number {
    return this.occupied;
  }

  /** The bound: at most this many unexpired tokens are held. */
  get capacity(): number {
    return this.maxEntries;
  }

  /** Bytes of the table as it is now. */
  get bytes(): number {
    return this.table.byteLength;
  }

  checkAndStore(iss: string, jti: string, expiresAtMs: number): ReplayCheck {
    const now = this.now();
    this.hash(iss, jti);
    const found = this.find(now);
    if (found === -1) return 'replayed';
    let slot = found;
    if (this.table[slot * SLOT + 2] === 0) {
      // A never-used slot: the entry adds to the table's load (a reused expired slot does not).
      if (this.occupied >= Math.min(this.maxEntries, (this.mask + 1) / 2)) {
        if (!this.makeRoom(now)) return 'full';
        slot = this.find(now); // the table was rebuilt: find the slot again (the key is still absent)
      }
      if (this.table[slot * SLOT + 2] === 0) this.occupied++;
    }
    const i = slot * SLOT;
    this.table[i] = this.hashA;
    this.table[i + 1] = this.hashB;
    this.table[i + 2] = Math.max(1, Math.ceil(expiresAtMs / 1000));
    return 'new';
  }

  /** Drops expired entries (rebuilds the table at its current size). */
  sweep(now = this.now()): void {
    this.rebuild(this.mask + 1, now);
  }

  clear(): void {
    this.table = new Uint32Array(Math.min(MIN_SLOTS, this.maxSlots) * SLOT);
    this.mask = this.table.length / SLOT - 1;
    this.occupied = 0;
  }

  /**
   * Looks the current hashes up: -1 when an unexpired entry has them, otherwise the slot to write (the first
   * expired slot on the chain, or the never-used slot that ends it).
   */
  private find(now: number): number {
    const t = this.table;
    const a = this.hashA;
    const b = this.hashB;
    const nowSec = now / 1000;
    let reuse = -1;
    for (let s = a & this.mask; ; s = (s + 1) & this.mask) {
      const i = s * SLOT;
      const exp = t[i + 2]!;
      if (exp === 0) return reuse >= 0 ? reuse : s;
      if (exp <= nowSec) {
        if (reuse < 0) reuse = s;
      } else if (t[i] === a && t[i + 1] === b) {
        return -1;
      }
    }
  }

  /** Grows the table, or sweeps it at most once a second when it holds `maxEntries`; false when still full. */
  private makeRoom(now: number): boolean {
    const slots = this.mask + 1;
    if (slots < this.maxSlots) {
      this.rebuild(slots * 2, now);
      return true;
    }
    if (now - this.lastSweep >= 1000) this.rebuild(slots, now);
    return this.occupied < this.maxEntries;
  }

  private rebuild(slots: number, now: number): void {
    const old = this.table;
    const t = new Uint32Array(slots * SLOT);
    const mask = slots - 1;
    const nowSec = now / 1000;
    let occupied = 0;
    for (let i = 0; i < old.length; i += SLOT) {
      const exp = old[i + 2]!;
      if (exp === 0 || exp <= nowSec) continue;
      let s = old[i]! & mask;
      while (t[s * SLOT + 2] !== 0) s = (s + 1) & mask;
      const j = s * SLOT;
      t[j] = old[i]!;
      t[j + 1] = old[i + 1]!;
      t[j + 2] = exp;
      occupied++;
    }
    this.table = t;
    this.mask = mask;
    this.occupied = occupied;
    this.lastSweep = now;
  }

  /** Two 32-bit hashes of `iss \0 jti` (FNV-1a and a multiply-xorshift, each seeded and finished with fmix32). */
  private hash(iss: string, jti: string): void {
    let a = this.seedA ^ 0x811c9dc5;
    let b = this.seedB ^ 0x9747b28c;
    for (let k = 0; k < iss.length; k++) {
      const c = iss.charCodeAt(k);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    a = Math.imul(a, 0x01000193); // the NUL separator (a ^ 0 = a)
    b = Math.imul(b, 0x5bd1e995);
    b ^= b >>> 15;
    for (let k = 0; k < jti.length; k++) {
      const c = jti.charCodeAt(k);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b ^ c, 0x5bd1e995);
      b ^= b >>> 15;
    }
    this.hashA = fmix32(a);
    this.hashB = fmix32(b ^ jti.length);
  }
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
