// Subscription notifications from the test FHIR server (option `deliverNotifications`), so a Subscription the service
// registered can be tested end to end: after a create or update through the FHIR API (not /__admin/seed), every
// rest-hook Subscription (status requested or active) that matches is sent one notification in the Subscriptions R5
// Backport IG R4 shape (Bundle history, first entry the SubscriptionStatus Parameters with event-number counting per
// Subscription; payload per backport-payload-content: full-resource, id-only or empty), with its channel.header.
// - R4 criteria-based: `criteria` = `Type?query`, matched with Medplum's search matching;
// - topic-based: `criteria` = an offered topic's canonical whose resource and interaction fit, and every
//   backport-filter-criteria (ANDed, as the IG says) matches.
// Sent after the write's answer, one at a time per server (in order); what was sent is listed at /__admin/deliveries.
import { matchesSearchRequest, parseSearchRequest } from '@medplum/core';
import type { MemoryRepository } from '@medplum/fhir-router';
import type { Resource, Subscription } from '@medplum/fhirtypes';
import type { SubscriptionTopicOffer } from './topics.js';

const BACKPORT_SD = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';

export interface Delivery {
  subscription: string;
  eventNumber: number;
  endpoint: string;
  focus: string;
  /** HTTP status of the subscriber's answer; 0 = not reached */
  status: number;
}

function matches(resource: Resource, query: string): boolean {
  const m = /^([A-Z][A-Za-z]+)\?/.exec(query);
  if (!m || m[1] !== resource.resourceType) return false;
  try {
    return matchesSearchRequest(resource, parseSearchRequest(query));
  } catch {
    return false;
  }
}

export function createDelivery(repo: MemoryRepository, topics: SubscriptionTopicOffer[]) {
  const events = new Map<string, number>();
  const sent: Delivery[] = [];
  let chain: Promise<void> = Promise.resolve();

  function fires(sub: Subscription, resource: Resource, interaction: 'create' | 'update'): boolean {
    if (sub.channel?.type !== 'rest-hook' || !sub.channel.endpoint) return false;
    if (sub.status !== 'requested' && sub.status !== 'active') return false;
    const criteria = sub.criteria ?? '';
    if (/^[A-Z][A-Za-z]+\?/.test(criteria)) return matches(resource, criteria);
    const topic = topics.find((t) => t.url === criteria);
    if (!topic || topic.resource !== resource.resourceType || !(topic.interactions ?? ['create', 'update']).includes(interaction)) return false;
    const filters = (((sub as unknown as Record<string, unknown>)['_criteria'] as { extension?: { url?: string; valueString?: string }[] } | undefined)?.extension ?? [])
      .filter((e) => e.url === `${BACKPORT_SD}/backport-filter-criteria` && typeof e.valueString === 'string')
      .map((e) => e.valueString!);
    return filters.every((f) => matches(resource, f));
  }

  async function send(sub: Subscription, resource: Resource, base: string): Promise<void> {
    const n = (events.get(sub.id!) ?? 0) + 1;
    events.set(sub.id!, n);
    const payload = (sub.channel as unknown as { _payload?: { extension?: { url?: string; valueCode?: string }[] } })._payload?.extension?.find((e) => e.url === `${BACKPORT_SD}/backport-payload-content`)?.valueCode ?? 'id-only';
    const focus = `${base}/${resource.resourceType}/${resource.id}`;
    const topic = /^[A-Z][A-Za-z]+\?/.test(sub.criteria ?? '') ? undefined : sub.criteria;
    const bundle = {
      resourceType: 'Bundle',
      type: 'history',
      timestamp: new Date().toISOString(),
      entry: [
        {
          fullUrl: `urn:uuid:${crypto.randomUUID()}`,
          resource: {
            resourceType: 'Parameters',
            parameter: [
              { name: 'subscription', valueReference: { reference: `${base}/Subscription/${sub.id}` } },
              ...(topic ? [{ name: 'topic', valueCanonical: topic }] : []),
              { name: 'status', valueCode: 'active' },
              { name: 'type', valueCode: 'event-notification' },
              { name: 'events-since-subscription-start', valueString: String(n) },
              {
                name: 'notification-event',
                part: [
                  { name: 'event-number', valueString: String(n) },
                  { name: 'timestamp', valueInstant: new Date().toISOString() },
                  ...(payload !== 'empty' ? [{ name: 'focus', valueReference: { reference: focus } }] : []),
                ],
              },
            ],
          },
        },
        ...(payload !== 'empty' ? [{ fullUrl: focus, ...(payload === 'full-resource' ? { resource } : {}), request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` }, response: { status: '200' } }] : []),
      ],
    };
    const headers: Record<string, string> = { 'content-type': 'application/fhir+json' };
    for (const h of sub.channel?.header ?? []) {
      const i = h.indexOf(':');
      if (i > 0) headers[h.slice(0, i).trim().toLowerCase()] = h.slice(i + 1).trim();
    }
    let status = 0;
    try {
      const res = await fetch(sub.channel!.endpoint!, { method: 'POST', headers, body: JSON.stringify(bundle), signal: AbortSignal.timeout(10_000) });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch {
      status = 0;
    }
    sent.push({ subscription: sub.id!, eventNumber: n, endpoint: sub.channel!.endpoint!, focus: `${resource.resourceType}/${resource.id}`, status });
  }

  return {
    /** After a create or update through the API: queue the notifications (sent in order, after the answer). */
    written(resource: Resource, interaction: 'create' | 'update', base: string): void {
      if (resource.resourceType === 'Subscription' || !resource.id) return;
      chain = chain.then(async () => {
        const subs = await repo.searchResources<Subscription>(parseSearchRequest('Subscription?_count=1000')).catch(() => [] as Subscription[]);
        for (const sub of subs) if (fires(sub, resource, interaction)) await send(sub, resource, base);
      });
    },
    deliveries: (): Delivery[] => sent,
    /** wait for what was queued */
    settled: (): Promise<void> => chain,
    reset(): void {
      events.clear();
      sent.length = 0;
    },
  };
}
