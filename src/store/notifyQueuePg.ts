// The notification queue in PostgreSQL (tables of migration 6), shared by every replica: an enqueue locks its
// subscription's progress row; a claim takes the oldest due item with FOR UPDATE SKIP LOCKED, so two replicas never
// claim the same item.
import type pg from 'pg';
import { emptyEventSince, planNotification } from './notifyQueue.js';
import type { EnqueueResult, NotificationBatchInput, NotificationCounts, NotificationQueue, QueuedNotification } from './store.js';

interface Row {
  id: string;
  subscription: string;
  event_number: string | null;
  kind: 'event' | 'catch-up';
  focus: string | null;
  resource: Record<string, unknown> | null;
  since: Date | null;
  attempts: number;
}

export class PgNotificationQueue implements NotificationQueue {
  constructor(
    /** runs fn in a transaction (PgStore.tx: migrations applied first) */
    private readonly tx: <T>(fn: (c: pg.PoolClient) => Promise<T>) => Promise<T>,
  ) {}

  enqueue(b: NotificationBatchInput): Promise<EnqueueResult> {
    return this.tx(async (c) => {
      const now = b.receivedAt.toISOString();
      // the progress row is created first so that concurrent notifications of one subscription queue one after another
      await c.query(`INSERT INTO notify_subscription (subscription, last_event, last_at) VALUES ($1, -1, $2) ON CONFLICT (subscription) DO NOTHING`, [b.subscription, now]);
      const row = (await c.query<{ last_event: string; last_at: Date }>(`SELECT last_event, last_at FROM notify_subscription WHERE subscription = $1 FOR UPDATE`, [b.subscription])).rows[0]!;
      const prev = Number(row.last_event) < 0 ? undefined : { lastEvent: Number(row.last_event), lastAt: row.last_at.toISOString() };
      const plan = planNotification(b, prev);
      let queued = 0;
      for (const e of b.events) {
        const since = e.focus ? null : emptyEventSince(e.timestamp, b.receivedAt);
        const r = await c.query(
          `INSERT INTO notify_event (subscription, event_number, kind, focus, resource, since, state, next_at, created_at)
           VALUES ($1, $2, 'event', $3, $4, $5, 'pending', $6, $6) ON CONFLICT (subscription, event_number) DO NOTHING`,
          [b.subscription, e.eventNumber, e.focus ?? null, e.resource ?? null, since, now],
        );
        queued += r.rowCount ?? 0;
      }
      if (plan.catchUpSince) {
        await c.query(`INSERT INTO notify_event (subscription, event_number, kind, since, state, next_at, created_at) VALUES ($1, NULL, 'catch-up', $2, 'pending', $3, $3)`, [b.subscription, plan.catchUpSince, now]);
      }
      await c.query(`UPDATE notify_subscription SET last_event = $2, last_at = $3 WHERE subscription = $1`, [b.subscription, plan.progress.lastEvent, plan.progress.lastAt]);
      return { queued, duplicates: b.events.length - queued, catchUp: plan.catchUpSince !== undefined };
    });
  }

  async claim(leaseMs: number, now = new Date()): Promise<QueuedNotification | undefined> {
    const rows = await this.tx(async (c) =>
      (
        await c.query<Row>(
          `UPDATE notify_event SET state = 'working', lease_until = $2, attempts = attempts + 1
           WHERE id = (SELECT id FROM notify_event WHERE (state = 'pending' AND next_at <= $1) OR (state = 'working' AND lease_until <= $1)
                       ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
           RETURNING id, subscription, event_number, kind, focus, resource, since, attempts`,
          [now.toISOString(), new Date(now.getTime() + leaseMs).toISOString()],
        )
      ).rows,
    );
    const r = rows[0];
    if (!r) return undefined;
    return {
      id: String(r.id),
      subscription: r.subscription,
      kind: r.kind,
      attempts: r.attempts,
      ...(r.event_number !== null ? { eventNumber: Number(r.event_number) } : {}),
      ...(r.focus ? { focus: r.focus } : {}),
      ...(r.resource ? { resource: r.resource } : {}),
      ...(r.since ? { since: r.since.toISOString() } : {}),
    };
  }

  async complete(id: string): Promise<void> {
    await this.tx((c) => c.query(`UPDATE notify_event SET state = 'done', resource = NULL, focus = NULL, lease_until = NULL, done_at = now() WHERE id = $1`, [id]));
  }

  async retry(id: string, error: string, at: Date): Promise<void> {
    await this.tx((c) => c.query(`UPDATE notify_event SET state = 'pending', next_at = $2, lease_until = NULL, last_error = $3 WHERE id = $1`, [id, at.toISOString(), error]));
  }

  async park(id: string, error: string): Promise<void> {
    await this.tx((c) => c.query(`UPDATE notify_event SET state = 'parked', lease_until = NULL, last_error = $2 WHERE id = $1`, [id, error]));
  }

  async counts(): Promise<NotificationCounts> {
    const out: NotificationCounts = { pending: 0, working: 0, parked: 0, done: 0 };
    const rows = await this.tx(async (c) => (await c.query<{ state: keyof NotificationCounts; n: string }>(`SELECT state, count(*) AS n FROM notify_event GROUP BY state`)).rows);
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }
}
