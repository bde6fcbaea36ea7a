// A FHIR R4 subscription notification in the shape of the Subscriptions R5 Backport IG (STU 1.1, "R4 notifications"):
// a Bundle of type `history` whose first entry is a Parameters resource (profile backport-subscription-status-r4)
// with `subscription`, `type` (event-notification / heartbeat / handshake / query-status / query-event),
// `events-since-subscription-start` and one `notification-event` per event (`event-number`, `timestamp`, `focus`).
// The payload is `full-resource` (the focus resources follow as entries), `id-only` (only `focus` references) or
// `empty` (neither). Parsing is pure: what is malformed is said, path by path, and nothing is queued.
import { FHIR_ID } from '../fhir/references.js';

export type NotificationType = 'event-notification' | 'heartbeat' | 'handshake';

export interface NotificationEvent {
  /** the event's number in the subscription (1, 2, …): a repeated number is the same event */
  eventNumber: number;
  timestamp?: string;
  /** the focus, as `Type/id` (relative to the EHR's FHIR server); absent for `empty` payloads */
  focus?: string;
  /** the focus resource, when the notification carries it (`full-resource`) */
  resource?: Record<string, unknown>;
}

export interface ParsedNotification {
  /** the Subscription's reference, as sent (e.g. https://ehr.example/fhir/Subscription/abc) */
  subscription: string;
  type: NotificationType;
  /** events-since-subscription-start: how many events the server says it has sent; a gap means events were missed */
  eventsSinceStart?: number;
  events: NotificationEvent[];
}

export class NotificationError extends Error {
  override name = 'NotificationError';
  constructor(readonly issues: string[]) {
    super('invalid subscription notification');
  }
}

/** At most this many events per notification (the IG puts no bound; a server batching more is asked to send less). */
export const MAX_EVENTS = 500;

type Param = { name?: unknown; part?: unknown; [k: string]: unknown };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The value of a parameter: value[x] of any type (the IG uses valueString for counts in R4; some servers send numbers). */
function valueOf(p: Param): unknown {
  for (const k of Object.keys(p)) if (k.startsWith('value')) return p[k];
  return undefined;
}

/** A non-negative event count: a string or an integer, as the IG (valueString) and R4B/R5 servers (integer64) send it. */
function count(v: unknown): number | undefined {
  const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  if (!/^\d{1,15}$/.test(s)) return undefined;
  return Number(s);
}

/** `Type/id` from a reference that is relative or under any base (`https://ehr/fhir/Observation/1`, `Observation/1/_history/2`). */
export function relativeReference(ref: string): string | undefined {
  const m = /(?:^|\/)([A-Z][A-Za-z]{1,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(ref);
  return m && FHIR_ID.test(m[2]!) ? `${m[1]}/${m[2]}` : undefined;
}

export function parseNotification(body: unknown): ParsedNotification {
  const issues: string[] = [];
  if (!isObj(body) || body['resourceType'] !== 'Bundle') throw new NotificationError(['resourceType: must be "Bundle"']);
  if (body['type'] !== 'history') issues.push('type: a notification Bundle has type "history"');
  const entries = body['entry'];
  if (!Array.isArray(entries) || entries.length === 0) throw new NotificationError([...issues, 'entry: the first entry must be the SubscriptionStatus Parameters']);
  const status = isObj(entries[0]) ? entries[0]['resource'] : undefined;
  if (!isObj(status) || status['resourceType'] !== 'Parameters' || !Array.isArray(status['parameter'])) {
    throw new NotificationError([...issues, 'entry[0].resource: must be a Parameters resource (SubscriptionStatus)']);
  }
  const params = (status['parameter'] as unknown[]).filter(isObj) as Param[];
  const named = (n: string) => params.filter((p) => p.name === n);

  const sub = valueOf(named('subscription')[0] ?? {});
  const subscription = isObj(sub) && typeof sub['reference'] === 'string' ? sub['reference'] : undefined;
  if (!subscription || subscription.length > 1024) issues.push('subscription: a valueReference to the Subscription is required');
  const type = valueOf(named('type')[0] ?? {});
  if (type !== 'event-notification' && type !== 'heartbeat' && type !== 'handshake') {
    issues.push('type: must be event-notification, heartbeat or handshake');
  }
  const sinceRaw = named('events-since-subscription-start')[0];
  const eventsSinceStart = sinceRaw ? count(valueOf(sinceRaw)) : undefined;
  if (sinceRaw && eventsSinceStart === undefined) issues.push('events-since-subscription-start: must be a non-negative integer');

  // the focus resources of a full-resource payload, by `Type/id`
  const resources = new Map<string, Record<string, unknown>>();
  entries.slice(1).forEach((e: unknown, i) => {
    if (!isObj(e)) return void issues.push(`entry[${i + 1}]: must be an object`);
    const r = e['resource'];
    if (r === undefined) return; // id-only: fullUrl and request only
    if (!isObj(r) || typeof r['resourceType'] !== 'string' || typeof r['id'] !== 'string') return void issues.push(`entry[${i + 1}].resource: must be a resource with an id`);
    resources.set(`${r['resourceType']}/${r['id']}`, r);
  });

  const events: NotificationEvent[] = [];
  const seen = new Set<number>();
  named('notification-event').forEach((p, i) => {
    const parts = Array.isArray(p.part) ? ((p.part as unknown[]).filter(isObj) as Param[]) : [];
    const part = (n: string) => parts.find((x) => x.name === n);
    const n = count(valueOf(part('event-number') ?? {}));
    if (n === undefined) return void issues.push(`notification-event[${i}].event-number: a non-negative integer is required`);
    const ev: NotificationEvent = { eventNumber: n };
    const ts = valueOf(part('timestamp') ?? {});
    if (typeof ts === 'string' && !Number.isNaN(Date.parse(ts))) ev.timestamp = new Date(ts).toISOString();
    const focus = valueOf(part('focus') ?? {});
    if (focus !== undefined) {
      const ref = isObj(focus) && typeof focus['reference'] === 'string' ? relativeReference(focus['reference']) : undefined;
      if (!ref) return void issues.push(`notification-event[${i}].focus: must be a reference to a resource (Type/id)`);
      ev.focus = ref;
      const r = resources.get(ref);
      if (r) ev.resource = r;
    }
    if (seen.has(n)) return; // the same event twice in one bundle is one event
    seen.add(n);
    events.push(ev);
  });
  if (type === 'event-notification' && events.length === 0 && issues.length === 0) issues.push('notification-event: an event-notification needs at least one event');
  if (events.length > MAX_EVENTS) issues.push(`notification-event: at most ${MAX_EVENTS} events per notification`);
  if (issues.length > 0) throw new NotificationError(issues);
  return { subscription: subscription!, type: type as NotificationType, ...(eventsSinceStart !== undefined ? { eventsSinceStart } : {}), events };
}
