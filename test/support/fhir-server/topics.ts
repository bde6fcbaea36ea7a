// Subscription topics the test FHIR server offers (Subscriptions R5 Backport IG, R4): the CapabilityStatement entry
// that advertises them and the IG's R4 definition shape (its example Basic-r4-encounter-complete).
import type { CapabilityStatementRestResource, Resource } from '@medplum/fhirtypes';

const BACKPORT_SD = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition';

export interface SubscriptionTopicOffer {
  /** the topic's canonical URL */
  url: string;
  /** the resource type it triggers on, e.g. Observation */
  resource: string;
  /** supportedInteraction (default create and update) */
  interactions?: string[];
  /** store the Basic definition too (default true) */
  define?: boolean;
}

/** The IG's R4 topic shape (its example Basic-r4-encounter-complete): Basic with cross-version extensions. */
export function topicBasic(t: SubscriptionTopicOffer, id: string): Resource {
  return {
    resourceType: 'Basic',
    id,
    code: { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] },
    extension: [
      { url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.url', valueUri: t.url },
      { url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.title', valueString: `${t.resource} created or updated (test server)` },
      {
        url: 'http://hl7.org/fhir/4.3/StructureDefinition/extension-SubscriptionTopic.resourceTrigger',
        extension: [
          { url: 'resource', valueUri: `http://hl7.org/fhir/StructureDefinition/${t.resource}` },
          ...(t.interactions ?? ['create', 'update']).map((c) => ({ url: 'supportedInteraction', valueCode: c })),
        ],
      },
    ],
  } as Resource;
}

/** rest.resource Subscription: supportedProfile backport-subscription, one canonical extension per topic (none: no entry). */
export function subscriptionCapability(topics: SubscriptionTopicOffer[]): CapabilityStatementRestResource[] {
  if (topics.length === 0) return [];
  return [
    {
      extension: topics.map((t) => ({ url: `${BACKPORT_SD}/capabilitystatement-subscriptiontopic-canonical`, valueCanonical: t.url })),
      type: 'Subscription',
      supportedProfile: [`${BACKPORT_SD}/backport-subscription`],
      interaction: (['read', 'create', 'update', 'delete', 'search-type'] as const).map((code) => ({ code })),
    },
  ];
}
