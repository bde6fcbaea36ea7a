// The durable notification queue (src/store/notifyQueue*.ts) on both backends, real SQLite and real PostgreSQL:
// a repeated (subscription, event number) is queued once; missed events (events-since-subscription-start or skipped
// event numbers, Subscriptions R5 Backport IG "Handling Errors": event numbers are sequential per subscription) queue a
// catch-up; a claim is a lease; a queue survives closing the store and opening it again.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CATCH_UP_MARGIN_MS } from '../../src/store/notifyQueue.js';
import { PgStore } from '../../src/store/postgres.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { NotificationBatchInput, NotificationQueue, Store } from '../../src/store/store.js';
import { createPgSchema, type PgSchema } from '../store/helpers.js';

const SUB = 'https://ehr.test/fhir/Subscription/labs';
const T0 = new Date('2026-12-01T10:00:00.000Z');
const at = (min: number) => new Date(T0.getTime() + min * 60_000);

function batch(events: number[], extra: Partial<NotificationBatchInput> = {}): NotificationBatchInput {
  return {
    subscription: SUB,
    type: 'event-notification',
    eventsSinceStart: Math.max(0, ...events),
    events: events.map((n) => ({ eventNumber: n, timestamp: at(n).toISOString(), focus: `Observation/o${n}` })),
    receivedAt: at(Math.max(0, ...events)),
    ...extra,
  };
}

type Backend = { name: string; open(): Promise<Store>; reopen(): Promise<Store>; done(): Promise<void> };

function sqliteBackend(): Backend {
  const dir = mkdtempSync(path.join(tmpdir(), 'notify-queue-'));
  const file = path.join(dir, 'q.sqlite');
  return { name: 'sqlite', open: async () => new SqliteStore(file), reopen: async () => new SqliteStore(file), done: async () => rmSync(dir, { recursive: true, force: true }) };
}

function pgBackend(): Backend {
  let schema: PgSchema | undefined;
  const open = async () => {
    schema ??= await createPgSchema();
    const s = new PgStore({ connectionString: schema.url });
    await s.init();
    return s;
  };
  return { name: 'postgres', open, reopen: open, done: async () => schema?.drop() };
}

describe.each([['sqlite', sqliteBackend], ['postgres', pgBackend]] as const)('notification queue on %s', (_name, make) => {
  let b: Backend;
  let store: Store;
  let q: NotificationQueue;
  beforeEach(async () => {
    b = make();
    store = await b.open();
    q = store.notifications!()!;
  });
  afterEach(async () => {
    await store.close();
    await b.done();
  });

  test('handshake sets the baseline; events 1, 2 queued; a repeated event number is queued once', async () => {
    expect(await q.enqueue({ subscription: SUB, type: 'handshake', eventsSinceStart: 0, events: [], receivedAt: T0 })).toEqual({ queued: 0, duplicates: 0, catchUp: false });
    expect(await q.enqueue(batch([1, 2]))).toEqual({ queued: 2, duplicates: 0, catchUp: false });
    expect(await q.enqueue(batch([2]))).toEqual({ queued: 0, duplicates: 1, catchUp: false });
    // the same number from another subscription is another event
    expect(await q.enqueue({ ...batch([2]), subscription: `${SUB}-2` })).toMatchObject({ queued: 1 });
    expect(await q.counts()).toEqual({ pending: 3, working: 0, parked: 0, done: 0 });
  });

  test('a skipped event number queues one catch-up from the last event seen (less the margin); a heartbeat ahead does too', async () => {
    await q.enqueue(batch([1]));
    // events 2 and 3 never arrived
    expect(await q.enqueue(batch([4]))).toEqual({ queued: 1, duplicates: 0, catchUp: true });
    const items = [];
    for (let i = 0; i < 3; i++) items.push(await q.claim(60_000, at(10)));
    expect(items.map((x) => x?.kind)).toEqual(['event', 'event', 'catch-up']);
    expect(items[2]!.since).toBe(new Date(at(1).getTime() - CATCH_UP_MARGIN_MS).toISOString());
    // a heartbeat saying 6 events were sent when 4 were seen: missed events
    expect(await q.enqueue({ subscription: SUB, type: 'heartbeat', eventsSinceStart: 6, events: [], receivedAt: at(20) })).toMatchObject({ catchUp: true });
    // a heartbeat that agrees: nothing
    expect(await q.enqueue({ subscription: SUB, type: 'heartbeat', eventsSinceStart: 6, events: [], receivedAt: at(21) })).toMatchObject({ catchUp: false });
  });

  test('an event without focus (empty payload) is queued with the time to read from', async () => {
    await q.enqueue({ ...batch([1]), events: [{ eventNumber: 1, timestamp: at(1).toISOString() }] });
    const item = (await q.claim(60_000, at(2)))!;
    expect(item).toMatchObject({ kind: 'event', eventNumber: 1, since: new Date(at(1).getTime() - CATCH_UP_MARGIN_MS).toISOString() });
    expect(item.focus).toBeUndefined();
  });

  test('claim is a lease: not claimed again until it runs out; complete, retry and park', async () => {
    await q.enqueue(batch([1, 2]));
    const a = (await q.claim(1000, at(5)))!;
    expect(a).toMatchObject({ eventNumber: 1, focus: 'Observation/o1', attempts: 1 });
    const b2 = (await q.claim(1000, at(5)))!;
    expect(b2.eventNumber).toBe(2);
    expect(await q.claim(1000, at(5))).toBeUndefined();
    // the process holding event 1 died: its lease runs out and it is claimed again
    expect(await q.claim(3_600_000, new Date(at(5).getTime() + 1001))).toMatchObject({ eventNumber: 1, attempts: 2 });
    await q.retry(b2.id, 'write refused', at(30));
    expect(await q.claim(1000, at(29))).toBeUndefined();
    expect(await q.claim(1000, at(30))).toMatchObject({ eventNumber: 2, attempts: 2 });
    await q.park(b2.id, 'write refused');
    await q.complete(a.id);
    expect(await q.counts()).toEqual({ pending: 0, working: 0, parked: 1, done: 1 });
    // a processed event repeated by the server is not queued again
    expect(await q.enqueue(batch([1]))).toMatchObject({ queued: 0, duplicates: 1 });
  });

  test('purge drops processed items older than the retention; parked and pending ones stay', async () => {
    await q.enqueue(batch([1, 2, 3]));
    const a = (await q.claim(1000, at(5)))!;
    const b2 = (await q.claim(1000, at(5)))!;
    await q.complete(a.id);
    await q.park(b2.id, 'write refused');
    await store.purge(new Date(Date.now() + 60_000));
    expect(await q.counts()).toEqual({ pending: 1, working: 0, parked: 1, done: 0 });
  });

  test('what is queued survives closing the store and opening it again', async () => {
    await q.enqueue({ ...batch([1]), events: [{ eventNumber: 1, focus: 'Observation/o1', resource: { resourceType: 'Observation', id: 'o1' } }] });
    await store.close();
    store = await b.reopen();
    q = store.notifications!()!;
    expect(await q.claim(1000, at(5))).toMatchObject({ eventNumber: 1, resource: { resourceType: 'Observation', id: 'o1' } });
  });
});

test('PostgreSQL: two replicas claiming at once never take the same item', async () => {
  const schema = await createPgSchema();
  const stores = [new PgStore({ connectionString: schema.url }), new PgStore({ connectionString: schema.url })];
  try {
    await Promise.all(stores.map((s) => s.init()));
    const [q1, q2] = stores.map((s) => s.notifications()!);
    await q1!.enqueue(batch(Array.from({ length: 20 }, (_, i) => i + 1)));
    const claimed = (await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 ? q1! : q2!).claim(60_000, at(30))))).filter((x) => x !== undefined);
    expect(claimed).toHaveLength(20);
    expect(new Set(claimed.map((c) => c!.id)).size).toBe(20);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
    await schema.drop();
  }
});
