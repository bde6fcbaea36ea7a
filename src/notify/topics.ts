// Topic discovery on an R4 FHIR server, as the Subscriptions R5 Backport IG (STU 1.1, "Conformance in FHIR R4") has it:
// the server advertises the topics it supports with the extension capabilitystatement-subscriptiontopic-canonical on
// CapabilityStatement.rest.resource (type Subscription). R4 has no SubscriptionTopic resource; the IG's R4 example
// topic is a Basic resource (code fhir-types#SubscriptionTopic) carrying cross-version extensions
// (extension-SubscriptionTopic.url, .resourceTrigger with resource and supportedInteraction); an R4B server has the
// SubscriptionTopic resource itself. A topic is usable for the service when it triggers on Observation create or
// update: the filter criteria (backport-filter-criteria `Observation?code=…`) then narrow it to the codes the
// evaluators use.
export const BACKPORT_SD = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';
export const BACKPORT_EXT = {
  topicCanonical: `${BACKPORT_SD}/capabilitystatement-subscriptiontopic-canonical`,
  filterCriteria: `${BACKPORT_SD}/backport-filter-criteria`,
  payloadContent: `${BACKPORT_SD}/backport-payload-content`,
  heartbeatPeriod: `${BACKPORT_SD}/backport-heartbeat-period`,
  timeout: `${BACKPORT_SD}/backport-timeout`,
  maxCount: `${BACKPORT_SD}/backport-max-count`,
} as const;
export const BACKPORT_SUBSCRIPTION_PROFILE = `${BACKPORT_SD}/backport-subscription`;

/** Cross-version SubscriptionTopic extensions on Basic (the IG's example mixes the 4.3 and 5.0 namespaces). */
const XVER = /^http:\/\/hl7\.org\/fhir\/(?:4\.3|5\.0)\/StructureDefinition\/extension-SubscriptionTopic\.(url|resourceTrigger)$/;

export interface TopicTrigger {
  /** the resource type, e.g. "Observation" (a StructureDefinition URL is reduced to its type) */
  resource: string;
  /** create / update / delete; empty = not restricted */
  interactions: string[];
}

export interface TopicDefinition {
  url: string;
  triggers: TopicTrigger[];
  /** where the definition was found */
  from: 'Basic' | 'SubscriptionTopic';
}

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown): Json[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** The topic canonicals a CapabilityStatement advertises on its Subscription resource (server mode). */
export function advertisedTopics(capability: unknown): string[] {
  if (!isObj(capability) || capability['resourceType'] !== 'CapabilityStatement') return [];
  const out: string[] = [];
  for (const rest of list(capability['rest'])) {
    if (rest['mode'] !== undefined && rest['mode'] !== 'server') continue;
    for (const r of list(rest['resource'])) {
      if (r['type'] !== 'Subscription') continue;
      for (const e of list(r['extension'])) {
        if (e['url'] === BACKPORT_EXT.topicCanonical && typeof e['valueCanonical'] === 'string' && e['valueCanonical'] !== '') out.push(e['valueCanonical']);
      }
    }
  }
  return [...new Set(out)];
}

function resourceType(uri: unknown): string | undefined {
  if (typeof uri !== 'string') return undefined;
  const m = /(?:^|\/StructureDefinition\/)([A-Z][A-Za-z]+)$/.exec(uri);
  return m?.[1];
}

/** A topic definition from an R4 Basic (cross-version extensions) or an R4B SubscriptionTopic; undefined if neither. */
export function topicDefinition(resource: unknown): TopicDefinition | undefined {
  if (!isObj(resource)) return undefined;
  if (resource['resourceType'] === 'SubscriptionTopic') {
    if (typeof resource['url'] !== 'string') return undefined;
    const triggers = list(resource['resourceTrigger']).flatMap((t) => {
      const type = resourceType(t['resource']);
      const interactions = Array.isArray(t['supportedInteraction']) ? t['supportedInteraction'].filter((x): x is string => typeof x === 'string') : [];
      return type ? [{ resource: type, interactions }] : [];
    });
    return { url: resource['url'], triggers, from: 'SubscriptionTopic' };
  }
  if (resource['resourceType'] !== 'Basic') return undefined;
  const isTopic = list((resource['code'] as Json | undefined)?.['coding']).some((c) => c['code'] === 'SubscriptionTopic');
  if (!isTopic) return undefined;
  let url: string | undefined;
  const triggers: TopicTrigger[] = [];
  for (const e of list(resource['extension'])) {
    const m = typeof e['url'] === 'string' ? XVER.exec(e['url']) : null;
    if (!m) continue;
    if (m[1] === 'url' && typeof e['valueUri'] === 'string') url = e['valueUri'];
    if (m[1] === 'resourceTrigger') {
      const parts = list(e['extension']);
      const type = resourceType(parts.find((p) => p['url'] === 'resource')?.['valueUri']);
      const interactions = parts.filter((p) => p['url'] === 'supportedInteraction' && typeof p['valueCode'] === 'string').map((p) => p['valueCode'] as string);
      if (type) triggers.push({ resource: type, interactions });
    }
  }
  return url ? { url, triggers, from: 'Basic' } : undefined;
}

/** The topic fires when an Observation is created or updated (no supportedInteraction listed = any interaction). */
export function triggersOnObservation(d: TopicDefinition): boolean {
  return d.triggers.some((t) => t.resource === 'Observation' && (t.interactions.length === 0 || t.interactions.includes('create') || t.interactions.includes('update')));
}

export type TopicChoice = { topic: string; reason: string } | { topic?: undefined; reason: string };

/**
 * Which advertised topic to subscribe to: one whose definition triggers on Observation create/update (create and
 * update both preferred, then by URL, so the choice is stable). `wanted` names one (it must be advertised; when its
 * definition cannot be read, the operator's word is taken and the reason says so).
 */
export function chooseTopic(advertised: string[], definitions: TopicDefinition[], wanted?: string): TopicChoice {
  const byUrl = new Map(definitions.map((d) => [d.url, d]));
  if (wanted !== undefined) {
    if (!advertised.includes(wanted)) return { reason: `topic ${wanted} is not advertised in the server's CapabilityStatement (advertised: ${advertised.join(', ') || 'none'})` };
    const d = byUrl.get(wanted);
    if (d && !triggersOnObservation(d)) return { reason: `topic ${wanted} does not trigger on Observation create or update (its ${d.from} definition)` };
    return { topic: wanted, reason: d ? `topic ${wanted} (as asked; its ${d.from} definition triggers on Observation)` : `topic ${wanted} (as asked; the server publishes no definition of it, so its Observation trigger is taken on the operator's word)` };
  }
  if (advertised.length === 0) return { reason: 'the server advertises no SubscriptionTopic (CapabilityStatement rest.resource Subscription, extension capabilitystatement-subscriptiontopic-canonical)' };
  const score = (d: TopicDefinition) => (d.triggers.some((t) => t.resource === 'Observation' && (t.interactions.length === 0 || (t.interactions.includes('create') && t.interactions.includes('update')))) ? 0 : 1);
  const usable = advertised.map((u) => byUrl.get(u)).filter((d): d is TopicDefinition => !!d && triggersOnObservation(d)).sort((a, b) => score(a) - score(b) || a.url.localeCompare(b.url));
  if (usable.length > 0) return { topic: usable[0]!.url, reason: `topic ${usable[0]!.url} (advertised; its ${usable[0]!.from} definition triggers on Observation create/update)` };
  const undefinedOnes = advertised.filter((u) => !byUrl.has(u));
  return {
    reason:
      `none of the advertised topics is known to trigger on Observation create/update` +
      (undefinedOnes.length ? ` (no definition found for ${undefinedOnes.join(', ')}; name one with --topic if it does)` : ''),
  };
}
