// The notification queue's rules, shared by the SQLite and PostgreSQL queues: which events of a notification are new,
// whether events were missed, and from when a catch-up query reads. Pure functions; the stores apply them in a
// transaction.
import type { NotificationBatchInput } from './store.js';

/** A catch-up query reads from this long before the newest event seen (clocks differ; re-reading is harmless). */
export const CATCH_UP_MARGIN_MS = 5 * 60_000;

export interface SubscriptionProgress {
  /** the highest event number seen for the subscription */
  lastEvent: number;
  /** ISO time of the newest event seen (its timestamp, else when it was received) */
  lastAt: string;
}

export interface QueuePlan {
  /** progress after this notification (undefined: nothing to record, e.g. an empty heartbeat of a new subscription) */
  progress: SubscriptionProgress;
  /** events were missed: read what changed since this ISO time */
  catchUpSince?: string;
}

/**
 * What a notification tells about the subscription's progress. The first notification the service sees for a
 * subscription sets the baseline (a handshake, normally with 0 events): only events missed after it are detected.
 * Missed = the server says more events were sent (events-since-subscription-start, or higher event numbers) than the
 * service has seen above its previous highest number.
 */
export function planNotification(b: NotificationBatchInput, prev: SubscriptionProgress | undefined): QueuePlan {
  const received = b.receivedAt.toISOString();
  const numbers = b.events.map((e) => e.eventNumber);
  const high = Math.max(b.eventsSinceStart ?? 0, ...numbers, prev?.lastEvent ?? 0);
  const newest = b.events.map((e) => e.timestamp ?? received).sort().at(-1) ?? received;
  const progress: SubscriptionProgress = { lastEvent: high, lastAt: prev && prev.lastAt > newest ? prev.lastAt : newest };
  if (!prev) return { progress };
  const above = new Set(numbers.filter((n) => n > prev.lastEvent));
  const missed = high - prev.lastEvent - above.size;
  if (missed <= 0) return { progress };
  return { progress, catchUpSince: new Date(Date.parse(prev.lastAt) - CATCH_UP_MARGIN_MS).toISOString() };
}

/** When an event without a focus (an `empty` payload) reads from: its timestamp (or its arrival), less the margin. */
export function emptyEventSince(timestamp: string | undefined, receivedAt: Date): string {
  return new Date(Date.parse(timestamp ?? receivedAt.toISOString()) - CATCH_UP_MARGIN_MS).toISOString();
}
