// Replay protection across replicas on a real PostgreSQL: a token accepted by one replica is refused by the others;
// when the database is cut, each replica still refuses what it has seen itself, answers within the timeout, and shares
// again once the database is back (TCP proxy in front of PostgreSQL).
import { randomUUID } from 'node:crypto';
import { InMemoryReplayCache } from '../../src/cds/replayCache.js';
import { SharedReplayStore, type SharedReplayFallback } from '../../src/cds/sharedReplayStore.js';
import { PgStore } from '../../src/store/postgres.js';
import { createPgSchema, TcpProxy, waitFor, type PgSchema } from './helpers.js';

let schema: PgSchema;
let proxy: TcpProxy;
const stores: PgStore[] = [];
beforeEach(async () => {
  schema = await createPgSchema();
  proxy = await new TcpProxy().start();
});
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  await proxy.stop();
  await schema.drop();
});

const ISS = 'https://ehr.example.org';
const exp = () => Date.now() + 300_000;

function replica(url: string, o: { timeoutMs?: number; retryAfterMs?: number; fallbacks?: SharedReplayFallback[] } = {}): SharedReplayStore {
  const db = new PgStore({ connectionString: url, connectTimeoutMs: 500 });
  stores.push(db);
  return new SharedReplayStore({
    local: new InMemoryReplayCache(),
    shared: db,
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
    ...(o.retryAfterMs !== undefined ? { retryAfterMs: o.retryAfterMs } : {}),
    onFallback: (r) => o.fallbacks?.push(r),
  });
}

test('a token accepted by one replica is refused by every other; each token is accepted exactly once under concurrency', async () => {
  // a generous timeout: this test is about the database's atomic claim, and 60 concurrent claims open new pooled
  // connections (slower than the 250 ms default on a loaded machine, which would fall back to each replica's own
  // cache, by design, as the outage test below shows); no call may have been decided without the database
  const fallbacks: SharedReplayFallback[] = [];
  const [a, b, c] = [1, 2, 3].map(() => replica(schema.url, { timeoutMs: 30_000, fallbacks })) as [SharedReplayStore, SharedReplayStore, SharedReplayStore];
  const jti = randomUUID();
  expect(await a.checkAndStore(ISS, jti, exp())).toBe('new');
  expect(await b.checkAndStore(ISS, jti, exp())).toBe('replayed');
  expect(await c.checkAndStore(ISS, jti, exp())).toBe('replayed');
  expect(await a.checkAndStore(ISS, jti, exp())).toBe('replayed'); // this replica's own cache
  // the same jti from another issuer is another token
  expect(await b.checkAndStore('https://other-ehr.example.org', jti, exp())).toBe('new');
  // 20 tokens, each sent to all three replicas at once: exactly one acceptance per token
  const tokens = Array.from({ length: 20 }, () => randomUUID());
  const results = await Promise.all(tokens.map((t) => Promise.all([a, b, c].map((r) => r.checkAndStore(ISS, t, exp())))));
  expect(fallbacks).toEqual([]);
  for (const r of results) expect(r.filter((x) => x === 'new')).toHaveLength(1);
  // what is stored is a digest, not the issuer or the token id
  const rows = await schema.query<{ key: string }>(`SELECT key FROM $schema.cds_jti`);
  expect(rows).toHaveLength(22);
  expect(JSON.stringify(rows)).not.toContain(jti);
  expect(JSON.stringify(rows)).not.toContain('ehr.example.org');
});

test('an expired record can be claimed again, and expired records are purged', async () => {
  const db = new PgStore({ connectionString: schema.url });
  stores.push(db);
  expect(await db.claimReplayKey('k1', Date.now() - 1000)).toBe(true); // stored already expired
  expect(await db.claimReplayKey('k1', Date.now() + 60_000)).toBe(true); // the expired record is taken over
  expect(await db.claimReplayKey('k1', Date.now() + 60_000)).toBe(false);
  expect(await db.claimReplayKey('k2', Date.now() - 1000)).toBe(true);
  expect(await db.purgeExpiredReplayKeys()).toBe(1);
  expect(await schema.query(`SELECT key FROM $schema.cds_jti`)).toEqual([{ key: 'k1' }]);
});

test("database cut: answers within the timeout from the replica's own cache, skips the database while it is down, shares again after", async () => {
  const fallbacks: SharedReplayFallback[] = [];
  const a = replica(schema.urlVia(proxy.port), { timeoutMs: 300, retryAfterMs: 500, fallbacks });
  const b = replica(schema.url);
  const before = randomUUID();
  expect(await a.checkAndStore(ISS, before, exp())).toBe('new');

  proxy.cut();
  const during = randomUUID();
  const t0 = performance.now();
  expect(await a.checkAndStore(ISS, during, exp())).toBe('new');
  expect(performance.now() - t0).toBeLessThan(1000);
  expect(fallbacks[0]).toMatch(/^(error|timeout)$/);
  // while waiting to retry, the database is not asked (no wait at all), and this replica still refuses its own replays
  expect(await a.checkAndStore(ISS, randomUUID(), exp())).toBe('new');
  expect(fallbacks).toContain('skipped');
  expect(await a.checkAndStore(ISS, during, exp())).toBe('replayed');
  expect(await a.checkAndStore(ISS, before, exp())).toBe('replayed');
  // the other replica saw `before` through the database; `during` never reached it (accepted once per replica)
  expect(await b.checkAndStore(ISS, before, exp())).toBe('replayed');
  expect(await b.checkAndStore(ISS, during, exp())).toBe('new');

  proxy.restore();
  // once the retry period is over, a token accepted by A is refused by B again
  await waitFor(
    async () => {
      const t = randomUUID();
      return (await a.checkAndStore(ISS, t, exp())) === 'new' && (await b.checkAndStore(ISS, t, exp())) === 'replayed';
    },
    5000,
    'A to share its tokens again',
  );
});
