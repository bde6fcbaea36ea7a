// The in-memory replay cache (typed-array table of hashed (iss, jti) pairs) against a plain Map model of the
// contract in src/cds/replayCache.ts: a token is refused as replayed exactly while an earlier acceptance of it is
// unexpired; at most `maxEntries` unexpired tokens are held; 'full' only when that many were live within the last
// second (a full cache is re-swept at most once a second).
import fc from 'fast-check';
import { InMemoryReplayCache, type ReplayCheck } from '../../src/cds/replayCache.js';

/** Expiry as the cache keeps it: whole seconds, rounded up (an entry may live up to 1 s longer: fail closed). */
const keptUntil = (expiresAtMs: number): number => Math.ceil(expiresAtMs / 1000) * 1000;

type Op = { iss: number; jti: number; advanceMs: number; lifetimeMs: number };

function runAgainstModel(maxEntries: number, ops: readonly Op[]): void {
  let now = 1_700_000_000_000;
  const cache = new InMemoryReplayCache({ maxEntries, now: () => now });
  const model = new Map<string, number>(); // key -> kept-until (ms) of its last acceptance
  for (const op of ops) {
    now += op.advanceMs;
    const key = `iss-${op.iss}\u0000jti-${op.jti}`;
    const until = model.get(key);
    const got: ReplayCheck = cache.checkAndStore(`iss-${op.iss}`, `jti-${op.jti}`, now + op.lifetimeMs);
    if (until !== undefined && until > now) {
      expect(got).toBe('replayed');
      continue;
    }
    expect(got).not.toBe('replayed');
    const liveWithinASecond = [...model.values()].filter((u) => u > now - 1000).length;
    if (got === 'full') expect(liveWithinASecond).toBeGreaterThanOrEqual(maxEntries);
    else model.set(key, keptUntil(now + op.lifetimeMs));
    expect([...model.values()].filter((u) => u > now).length).toBeLessThanOrEqual(maxEntries);
    expect(cache.size).toBeLessThanOrEqual(maxEntries);
  }
}

describe('InMemoryReplayCache (typed-array table)', () => {
  test('matches the Map model on random call sequences (replays, expiry, full, sweeps)', () => {
    const op = fc.record({
      iss: fc.integer({ min: 0, max: 2 }),
      jti: fc.integer({ min: 0, max: 40 }),
      advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 400 }), fc.integer({ min: 0, max: 4000 })),
      lifetimeMs: fc.integer({ min: 1, max: 6000 }),
    });
    fc.assert(fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 300 }), runAgainstModel), { numRuns: 400 });
  });

  test('grows past its first table and keeps refusing every replay; bounded at maxEntries, then accepts after expiry', () => {
    let now = 1_700_000_000_000;
    const cache = new InMemoryReplayCache({ maxEntries: 5000, now: () => now });
    const exp = now + 300_000;
    const first = Array.from({ length: 6000 }, (_, i) => cache.checkAndStore('https://ehr.example.org', `jti-${i}`, exp));
    expect(first.slice(0, 5000).every((r) => r === 'new')).toBe(true);
    expect(first.slice(5000).every((r) => r === 'full')).toBe(true);
    const again = Array.from({ length: 5000 }, (_, i) => cache.checkAndStore('https://ehr.example.org', `jti-${i}`, exp));
    expect(again.every((r) => r === 'replayed')).toBe(true);
    // 2 x 5000 rounded up to a power of two, 12 bytes per slot
    expect(cache.bytes).toBe(16384 * 12);
    now = exp + 1000; // all expired: the next full check sweeps them
    expect(cache.checkAndStore('https://ehr.example.org', 'jti-5000', now + 300_000)).toBe('new');
    expect(cache.checkAndStore('https://ehr.example.org', 'jti-0', now + 300_000)).toBe('new');
    expect(cache.size).toBeLessThanOrEqual(5000);
  });

  test('the default holds 1,000,000 tokens in at most 24 MiB, allocated as it grows', () => {
    const now = 1_700_000_000_000;
    const cache = new InMemoryReplayCache({ now: () => now });
    expect(cache.bytes).toBe(4096 * 12);
    let accepted = 0;
    for (let i = 0; i < 200_000; i++) if (cache.checkAndStore('iss', `${i}-a7c4e1f0-0000-4000-8000-${i}`, now + 360_000) === 'new') accepted++;
    expect(accepted).toBe(200_000);
    expect(cache.bytes).toBe(2 ** 19 * 12); // 200,000 entries at a load <= 1/2
    for (let i = 0; i < 200_000; i += 997) expect(cache.checkAndStore('iss', `${i}-a7c4e1f0-0000-4000-8000-${i}`, now + 360_000)).toBe('replayed');
    // the same jti from another issuer is another token
    expect(cache.checkAndStore('iss2', '0-a7c4e1f0-0000-4000-8000-0', now + 360_000)).toBe('new');
  });

  test('rejects a bound that is not a positive integer', () => {
    for (const maxEntries of [0, -1, 1.5, Number.NaN, 2 ** 29]) expect(() => new InMemoryReplayCache({ maxEntries })).toThrow(RangeError);
  });
});
