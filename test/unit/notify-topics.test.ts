// Topic discovery (src/notify/topics.ts) against the Subscriptions R5 Backport IG's own shapes: the R4 example
// CapabilityStatement (r4-capabilitystatement-example-server: the extension capabilitystatement-subscriptiontopic-canonical
// on rest.resource Subscription), the R4 example topic Basic-r4-encounter-complete (cross-version extensions: url in
// the 5.0 namespace, resourceTrigger in the 4.3 one) and the R4B SubscriptionTopic r4b-encounter-complete.
import { advertisedTopics, chooseTopic, topicDefinition, triggersOnObservation, type TopicDefinition } from '../../src/notify/topics.js';

const CANONICAL_EXT = 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/capabilitystatement-subscriptiontopic-canonical';
const ENCOUNTER = 'http://hl7.org/fhir/uv/subscriptions-backport/SubscriptionTopic/r4-encounter-complete';
const OBS = 'http://ehr.example.org/SubscriptionTopic/observation-changed';

const capability = (topics: string[], mode = 'server') => ({
  resourceType: 'CapabilityStatement',
  rest: [{ mode, resource: [{ type: 'Patient' }, { type: 'Subscription', extension: topics.map((valueCanonical) => ({ url: CANONICAL_EXT, valueCanonical })) }] }],
});

/** The IG's Basic-r4-encounter-complete, trimmed to what discovery reads (url, one resourceTrigger). */
const basicEncounter = {
  resourceType: 'Basic',
  id: 'r4-encounter-complete',
  code: { coding: [{ system: 'http://hl7.org/fhir/fhir-types', code: 'SubscriptionTopic' }] },
  extension: [
    { url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.url', valueUri: ENCOUNTER },
    {
      url: 'http://hl7.org/fhir/4.3/StructureDefinition/extension-SubscriptionTopic.resourceTrigger',
      extension: [
        { url: 'description', valueMarkdown: 'Triggered when an encounter is completed.' },
        { url: 'resource', valueUri: 'http://hl7.org/fhir/StructureDefinition/Encounter' },
        { url: 'supportedInteraction', valueCode: 'create' },
        { url: 'supportedInteraction', valueCode: 'update' },
      ],
    },
  ],
};

const basicObservation = (interactions: string[]) => ({
  ...basicEncounter,
  extension: [
    { url: 'http://hl7.org/fhir/5.0/StructureDefinition/extension-SubscriptionTopic.url', valueUri: OBS },
    {
      url: 'http://hl7.org/fhir/4.3/StructureDefinition/extension-SubscriptionTopic.resourceTrigger',
      extension: [{ url: 'resource', valueUri: 'Observation' }, ...interactions.map((valueCode) => ({ url: 'supportedInteraction', valueCode }))],
    },
  ],
});

test('advertised topics: the canonical extension on rest.resource Subscription of a server CapabilityStatement', () => {
  expect(advertisedTopics(capability([ENCOUNTER, OBS, OBS]))).toEqual([ENCOUNTER, OBS]);
  expect(advertisedTopics(capability([ENCOUNTER], 'client'))).toEqual([]);
  expect(advertisedTopics(capability([]))).toEqual([]);
  expect(advertisedTopics({ resourceType: 'OperationOutcome' })).toEqual([]);
  expect(advertisedTopics('<html>')).toEqual([]);
});

test.each<[string, unknown, TopicDefinition | undefined]>([
  ['the IG R4 Basic example (Encounter create/update)', basicEncounter, { url: ENCOUNTER, from: 'Basic', triggers: [{ resource: 'Encounter', interactions: ['create', 'update'] }] }],
  ['an R4B SubscriptionTopic', { resourceType: 'SubscriptionTopic', url: OBS, resourceTrigger: [{ resource: 'http://hl7.org/fhir/StructureDefinition/Observation', supportedInteraction: ['create'] }] }, { url: OBS, from: 'SubscriptionTopic', triggers: [{ resource: 'Observation', interactions: ['create'] }] }],
  ['a Basic that is not a topic', { resourceType: 'Basic', code: { coding: [{ code: 'referral' }] } }, undefined],
  ['a topic Basic without its url', { ...basicEncounter, extension: basicEncounter.extension.slice(1) }, undefined],
])('topic definition: %s', (_label, resource, expected) => {
  expect(topicDefinition(resource)).toEqual(expected);
});

test.each<[string[], boolean]>([
  [['create', 'update'], true],
  [['create'], true],
  [['update'], true],
  [[], true], // supportedInteraction absent: not restricted
  [['delete'], false],
])('an Observation trigger with interactions %j fires on a new or changed result: %s', (interactions, fires) => {
  expect(triggersOnObservation(topicDefinition(basicObservation(interactions))!)).toBe(fires);
});

describe('choosing the topic', () => {
  const enc = topicDefinition(basicEncounter)!;
  const obs = topicDefinition(basicObservation(['create', 'update']))!;
  test('the advertised topic that triggers on Observation, not the Encounter one', () => {
    expect(chooseTopic([ENCOUNTER, OBS], [enc, obs]).topic).toBe(OBS);
  });
  test('create and update both are preferred over create only', () => {
    const createOnly = { ...topicDefinition(basicObservation(['create']))!, url: 'http://a.example/create-only' };
    expect(chooseTopic([createOnly.url, OBS], [createOnly, obs]).topic).toBe(OBS);
  });
  test('a definition for a topic the server does not advertise is not used', () => {
    expect(chooseTopic([ENCOUNTER], [enc, obs])).toEqual({ reason: 'none of the advertised topics is known to trigger on Observation create/update' });
  });
  test('nothing advertised: says so', () => {
    expect(chooseTopic([], [obs]).reason).toMatch(/advertises no SubscriptionTopic/);
  });
  test('a named topic must be advertised and, when defined, trigger on Observation', () => {
    expect(chooseTopic([OBS], [obs], OBS).topic).toBe(OBS);
    expect(chooseTopic([OBS], [], OBS)).toMatchObject({ topic: OBS, reason: expect.stringContaining("operator's word") });
    expect(chooseTopic([ENCOUNTER], [enc], ENCOUNTER)).toEqual({ reason: `topic ${ENCOUNTER} does not trigger on Observation create or update (its Basic definition)` });
    expect(chooseTopic([ENCOUNTER], [enc], OBS).topic).toBeUndefined();
  });
});
