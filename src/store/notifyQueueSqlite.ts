// The notification queue in the embedded SQLite store (tables of migration 6). One immediate transaction per
// enqueue and per claim: two processes on the same file never claim the same item.
import type Database from 'better-sqlite3';
import { emptyEventSince, planNotification, type SubscriptionProgress } from './notifyQueue.js';
import type { EnqueueResult, NotificationBatchInput, NotificationCounts, NotificationQueue, QueuedNotification } from './store.js';

interface Row {
  id: number;
  subscription: string;
  event_number: number | null;
  kind: 'event' | 'catch-up';
  focus: string | null;
  resource: string | null;
  since: string | null;
  attempts: number;
}

export class SqliteNotificationQueue implements NotificationQueue {
  private readonly enqueueTx;
  private readonly claimTx;

  constructor(private readonly db: Database.Database) {
    const progressOf = db.prepare(`SELECT last_event AS lastEvent, last_at AS lastAt FROM notify_subscription WHERE subscription = ?`);
    const saveProgress = db.prepare(
      `INSERT INTO notify_subscription (subscription, last_event, last_at) VALUES (?, ?, ?)
       ON CONFLICT (subscription) DO UPDATE SET last_event = excluded.last_event, last_at = excluded.last_at`,
    );
    const insert = db.prepare(
      `INSERT OR IGNORE INTO notify_event (subscription, event_number, kind, focus, resource, since, state, next_at, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?)`,
    );
    this.enqueueTx = db.transaction((b: NotificationBatchInput): EnqueueResult => {
      const now = b.receivedAt.toISOString();
      const prev = progressOf.get(b.subscription) as SubscriptionProgress | undefined;
      const plan = planNotification(b, prev);
      let queued = 0;
      for (const e of b.events) {
        const since = e.focus ? null : emptyEventSince(e.timestamp, b.receivedAt);
        queued += insert.run(b.subscription, e.eventNumber, 'event', e.focus ?? null, e.resource ? JSON.stringify(e.resource) : null, since, now, now).changes;
      }
      if (plan.catchUpSince) insert.run(b.subscription, null, 'catch-up', null, null, plan.catchUpSince, now, now);
      saveProgress.run(b.subscription, plan.progress.lastEvent, plan.progress.lastAt);
      return { queued, duplicates: b.events.length - queued, catchUp: plan.catchUpSince !== undefined };
    });
    const due = db.prepare(
      `SELECT * FROM notify_event WHERE (state = 'pending' AND next_at <= ?) OR (state = 'working' AND lease_until <= ?) ORDER BY id LIMIT 1`,
    );
    const lease = db.prepare(`UPDATE notify_event SET state = 'working', lease_until = ?, attempts = attempts + 1 WHERE id = ?`);
    this.claimTx = db.transaction((now: string, until: string): Row | undefined => {
      const row = due.get(now, now) as Row | undefined;
      if (!row) return undefined;
      lease.run(until, row.id);
      return { ...row, attempts: row.attempts + 1 };
    });
  }

  async enqueue(b: NotificationBatchInput): Promise<EnqueueResult> {
    return this.enqueueTx.immediate(b);
  }

  async claim(leaseMs: number, now = new Date()): Promise<QueuedNotification | undefined> {
    const row = this.claimTx.immediate(now.toISOString(), new Date(now.getTime() + leaseMs).toISOString());
    return row ? queued(row) : undefined;
  }

  async complete(id: string): Promise<void> {
    this.db.prepare(`UPDATE notify_event SET state = 'done', resource = NULL, focus = NULL, lease_until = NULL, done_at = ? WHERE id = ?`).run(new Date().toISOString(), Number(id));
  }

  async retry(id: string, error: string, at: Date): Promise<void> {
    this.db.prepare(`UPDATE notify_event SET state = 'pending', next_at = ?, lease_until = NULL, last_error = ? WHERE id = ?`).run(at.toISOString(), error, Number(id));
  }

  async park(id: string, error: string): Promise<void> {
    this.db.prepare(`UPDATE notify_event SET state = 'parked', lease_until = NULL, last_error = ? WHERE id = ?`).run(error, Number(id));
  }

  async counts(): Promise<NotificationCounts> {
    const out: NotificationCounts = { pending: 0, working: 0, parked: 0, done: 0 };
    for (const r of this.db.prepare(`SELECT state, count(*) AS n FROM notify_event GROUP BY state`).all() as { state: keyof NotificationCounts; n: number }[]) out[r.state] = r.n;
    return out;
  }
}

function queued(r: Row): QueuedNotification {
  return {
    id: String(r.id),
    subscription: r.subscription,
    kind: r.kind,
    attempts: r.attempts,
    ...(r.event_number !== null ? { eventNumber: r.event_number } : {}),
    ...(r.focus ? { focus: r.focus } : {}),
    ...(r.resource ? { resource: JSON.parse(r.resource) as Record<string, unknown> } : {}),
    ...(r.since ? { since: r.since } : {}),
  };
}
