// What the service subscribes to: the Observation filters of the prefetch templates (config/services.json) — the
// same codes the evaluators' data are gathered by, one definition. Used by scripts/create-subscriptions.ts and by the
// catch-up query after missed events (`&_lastUpdated=gt…`). Two shapes, one Subscription per filter either way:
// - topic-based (Subscriptions R5 Backport IG, R4 flavour) where the server advertises a topic that triggers on
//   Observation create/update (topics.ts): profile backport-subscription, `criteria` = the topic's canonical,
//   `_criteria` backport-filter-criteria `Observation?code=…`. One per filter, not one with several: the IG ANDs the
//   filter criteria of one Subscription, and the service wants any of its codes.
// - R4 criteria-based otherwise: `criteria` = `Observation?code=…`.
import type { ServiceCatalog } from '../cds/services.js';
import { MAX_EVENTS } from './notification.js';
import { advertisedTopics, BACKPORT_EXT, BACKPORT_SUBSCRIPTION_PROFILE, chooseTopic, topicDefinition, type TopicDefinition } from './topics.js';

/** Parameters of a prefetch template that select the patient or shape the page, not which Observations. */
const NOT_A_FILTER = new Set(['patient', 'subject', '_sort', '_count', '_include', '_revinclude', '_elements', '_summary']);

export interface ObservationFilter {
  /** the prefetch key it comes from, e.g. "renal" */
  key: string;
  /** the query without the patient and paging, e.g. "code=http%3A%2F%2Floinc.org%7C2160-0,…" */
  filter: string;
}

/** One filter per Observation prefetch key (code or category), as the gatherer queries them. */
export function observationFilters(catalog: ServiceCatalog): ObservationFilter[] {
  const out: ObservationFilter[] = [];
  for (const [key, template] of Object.entries(catalog.prefetch)) {
    const m = /^Observation\?(.*)$/.exec(template);
    if (!m) continue;
    const kept = m[1]!.split('&').filter((p) => !NOT_A_FILTER.has(decodeURIComponent(p.split('=')[0]!)));
    if (kept.length > 0) out.push({ key, filter: kept.join('&') });
  }
  return out;
}

export type Payload = 'full-resource' | 'id-only' | 'empty';
export type SubscriptionMode = 'topic' | 'criteria';

export interface ChannelOptions {
  endpoint: string;
  /** the notification secret, sent back by the server as `Authorization: Bearer …` (channel.header) */
  token: string;
  payload?: Payload;
  /** topic mode: heartbeat period in seconds (0 = none); a heartbeat's event count reveals missed events */
  heartbeatSeconds?: number;
}

const DELIVERY_TIMEOUT_SECONDS = 60;

function channel(o: ChannelOptions, topic: boolean): Record<string, unknown> {
  const payload = o.payload ?? 'id-only';
  return {
    ...(topic
      ? {
          extension: [
            ...(o.heartbeatSeconds ? [{ url: BACKPORT_EXT.heartbeatPeriod, valueUnsignedInt: o.heartbeatSeconds }] : []),
            { url: BACKPORT_EXT.timeout, valueUnsignedInt: DELIVERY_TIMEOUT_SECONDS },
            // the service refuses a notification with more events (src/notify/notification.ts)
            { url: BACKPORT_EXT.maxCount, valuePositiveInt: MAX_EVENTS },
          ],
        }
      : {}),
    type: 'rest-hook',
    endpoint: o.endpoint,
    // R4 Subscriptions carry the payload MIME type; id-only / empty are Backport IG extensions on the payload
    payload: 'application/fhir+json',
    _payload: { extension: [{ url: BACKPORT_EXT.payloadContent, valueCode: payload }] },
    header: [`Authorization: Bearer ${o.token}`],
  };
}

const reasonFor = (f: ObservationFilter) => `Personalized dosing: re-check active orders when a new result arrives (${f.key})`;

/** An R4 criteria-based Subscription (rest-hook) for one filter. */
export function subscriptionFor(f: ObservationFilter, endpoint: string, token: string, payload: Payload = 'id-only'): Record<string, unknown> {
  return { resourceType: 'Subscription', status: 'requested', reason: reasonFor(f), criteria: `Observation?${f.filter}`, channel: channel({ endpoint, token, payload }, false) };
}

/** A Backport IG topic-based Subscription for one filter: the topic, narrowed to the filter's Observations. */
export function topicSubscriptionFor(f: ObservationFilter, topic: string, o: ChannelOptions): Record<string, unknown> {
  return {
    resourceType: 'Subscription',
    meta: { profile: [BACKPORT_SUBSCRIPTION_PROFILE] },
    status: 'requested',
    reason: reasonFor(f),
    criteria: topic,
    _criteria: { extension: [{ url: BACKPORT_EXT.filterCriteria, valueString: `Observation?${f.filter}` }] },
    channel: channel(o, true),
  };
}

/** The filter criteria of a topic-based Subscription, sorted. */
export function filterCriteriaOf(sub: Record<string, unknown>): string[] {
  const ext = (sub['_criteria'] as { extension?: { url?: unknown; valueString?: unknown }[] } | undefined)?.extension ?? [];
  return ext.filter((e) => e.url === BACKPORT_EXT.filterCriteria && typeof e.valueString === 'string').map((e) => e.valueString as string).sort();
}

export interface CreateSubscriptionsResult {
  mode: SubscriptionMode;
  /** topic mode: the topic's canonical URL */
  topic?: string;
  /** why this mode (and topic) */
  reason: string;
  created: string[];
  /** filters that already had a Subscription to this endpoint with the same criteria (and filter) */
  existing: string[];
  /** ids of active Subscriptions to this endpoint of the other mode: left alone, but they notify too (remove them) */
  otherMode: string[];
}

export class SubscriptionSetupError extends Error {
  override name = 'SubscriptionSetupError';
}

/**
 * Create the Subscriptions on the EHR's FHIR server, one per Observation filter, skipping those that already exist for
 * the same endpoint and criteria (topic mode: topic and filter). `mode` auto = topic-based where the server
 * advertises a topic on Observation create/update, criteria-based otherwise. `token` is the service's backend token.
 */
export async function createSubscriptions(o: {
  fhirUrl: string;
  token: string;
  endpoint: string;
  notifyToken: string;
  catalog: ServiceCatalog;
  payload?: Payload;
  mode?: SubscriptionMode | 'auto';
  topic?: string;
  heartbeatSeconds?: number;
}): Promise<CreateSubscriptionsResult> {
  const base = o.fhirUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${o.token}`, accept: 'application/fhir+json' };
  const get = (path: string) => fetch(`${base}/${path}`, { headers, redirect: 'manual' });
  const mode = o.mode ?? 'auto';
  if (mode === 'criteria' && o.topic !== undefined) throw new SubscriptionSetupError('--topic needs --mode topic or auto');

  let choice: { topic?: string; reason: string } = { reason: 'criteria-based, as asked (--mode criteria)' };
  if (mode !== 'criteria') {
    const meta = await get('metadata');
    if (!meta.ok) throw new SubscriptionSetupError(`the CapabilityStatement could not be read (HTTP ${meta.status}): cannot tell whether topic-based subscriptions are supported (--mode criteria skips the check)`);
    const capability = (await meta.json().catch(() => undefined)) as { resourceType?: unknown } | undefined;
    if (capability?.resourceType !== 'CapabilityStatement') throw new SubscriptionSetupError('the server\'s /metadata is not a CapabilityStatement: cannot tell whether topic-based subscriptions are supported (--mode criteria skips the check)');
    const advertised = advertisedTopics(capability);
    const definitions = advertised.length > 0 ? await topicDefinitions(get) : [];
    choice = chooseTopic(advertised, definitions, o.topic);
    if (!choice.topic && (mode === 'topic' || o.topic !== undefined)) throw new SubscriptionSetupError(`topic-based subscriptions are not possible: ${choice.reason}`);
    if (!choice.topic) choice = { reason: `criteria-based: ${choice.reason}` };
  }
  const topic = choice.topic;

  const res = await get(`Subscription?url=${encodeURIComponent(o.endpoint)}&_count=100`);
  if (!res.ok) throw new SubscriptionSetupError(`Subscription search failed (HTTP ${res.status})`);
  const found = (((await res.json()) as { entry?: { resource?: Record<string, unknown> }[] }).entry ?? [])
    .map((e) => e.resource)
    .filter((s): s is Record<string, unknown> => !!s && s['status'] !== 'off' && s['status'] !== 'error');
  const isTopicSub = (s: Record<string, unknown>) => typeof s['criteria'] === 'string' && !/^[A-Z][A-Za-z]+\?/.test(s['criteria']) && /^[a-z][a-z0-9+.-]*:/i.test(s['criteria']);
  const out: CreateSubscriptionsResult = {
    mode: topic ? 'topic' : 'criteria',
    ...(topic ? { topic } : {}),
    reason: choice.reason,
    created: [],
    existing: [],
    otherMode: found.filter((s) => (topic ? !isTopicSub(s) : isTopicSub(s))).map((s) => String(s['id'])),
  };
  const channelOpts: ChannelOptions = { endpoint: o.endpoint, token: o.notifyToken, payload: o.payload ?? 'id-only', heartbeatSeconds: o.heartbeatSeconds ?? 3600 };
  for (const f of observationFilters(o.catalog)) {
    const sub = topic ? topicSubscriptionFor(f, topic, channelOpts) : subscriptionFor(f, o.endpoint, o.notifyToken, o.payload);
    const same = (s: Record<string, unknown>) => s['criteria'] === sub['criteria'] && (!topic || JSON.stringify(filterCriteriaOf(s)) === JSON.stringify(filterCriteriaOf(sub)));
    if (found.some(same)) {
      out.existing.push(f.key);
      continue;
    }
    const r = await fetch(`${base}/Subscription`, { method: 'POST', headers: { ...headers, 'content-type': 'application/fhir+json' }, body: JSON.stringify(sub), redirect: 'manual' });
    if (r.status !== 201 && r.status !== 200) throw new SubscriptionSetupError(`Subscription for ${f.key} refused (HTTP ${r.status}): ${(await r.text()).slice(0, 300)}`);
    out.created.push(f.key);
  }
  return out;
}

/** The topic definitions the server publishes: R4 Basic (cross-version extensions), else R4B SubscriptionTopic. */
async function topicDefinitions(get: (path: string) => Promise<Response>): Promise<TopicDefinition[]> {
  const read = async (path: string): Promise<TopicDefinition[]> => {
    const r = await get(path).catch(() => undefined);
    if (!r?.ok) return [];
    const b = (await r.json().catch(() => undefined)) as { entry?: { resource?: unknown }[] } | undefined;
    return (b?.entry ?? []).map((e) => topicDefinition(e.resource)).filter((d): d is TopicDefinition => !!d);
  };
  const basic = await read(`Basic?code=${encodeURIComponent('http://hl7.org/fhir/fhir-types|SubscriptionTopic')}&_count=100`);
  return basic.length > 0 ? basic : read('SubscriptionTopic?_count=100');
}
