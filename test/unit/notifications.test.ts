// Notification parsing (src/notify/notification.ts) against the Subscriptions R5 Backport IG STU 1.1 R4 examples
// (Parameters-r4-notification-status: events-since-subscription-start and event-number as valueString), the
// missed-event rule (src/store/notifyQueue.ts), the secret comparison and the configuration rules.
import { ConfigError, loadConfig } from '../../src/config.js';
import { issueDetail } from '../../src/notify/detectedIssue.js';
import { NotificationError, parseNotification, relativeReference } from '../../src/notify/notification.js';
import { secretMatches } from '../../src/notify/router.js';
import { patientOf } from '../../src/notify/worker.js';
import { CATCH_UP_MARGIN_MS, planNotification } from '../../src/store/notifyQueue.js';

/** The IG's "R4 Notification: Id Only" example shape (subscription admission, event 2, focus an Encounter). */
const igIdOnly = {
  resourceType: 'Bundle',
  type: 'history',
  timestamp: '2020-05-29T11:44:13.1882432-05:00',
  entry: [
    {
      fullUrl: 'urn:uuid:9e41ff6d-5be6-4e6a-8b85-abd4e7f58400',
      resource: {
        resourceType: 'Parameters',
        parameter: [
          { name: 'subscription', valueReference: { reference: 'https://example.org/fhir/Subscription/admission' } },
          { name: 'topic', valueCanonical: 'http://hl7.org/SubscriptionTopic/admission' },
          { name: 'status', valueCode: 'active' },
          { name: 'type', valueCode: 'event-notification' },
          { name: 'events-since-subscription-start', valueString: '2' },
          {
            name: 'notification-event',
            part: [
              { name: 'event-number', valueString: '2' },
              { name: 'timestamp', valueInstant: '2020-05-29T11:44:13.1882432-05:00' },
              { name: 'focus', valueReference: { reference: 'https://example.org/fhir/Encounter/86009987-eabe-42bf-8c02-b112b18cb616' } },
            ],
          },
        ],
      },
    },
    { fullUrl: 'https://example.org/fhir/Encounter/86009987-eabe-42bf-8c02-b112b18cb616', request: { method: 'PUT', url: 'Encounter' }, response: { status: '201' } },
  ],
};

describe('parseNotification', () => {
  test('the IG id-only example: subscription, type, count and one event with its focus as Type/id', () => {
    expect(parseNotification(igIdOnly)).toEqual({
      subscription: 'https://example.org/fhir/Subscription/admission',
      type: 'event-notification',
      eventsSinceStart: 2,
      events: [{ eventNumber: 2, timestamp: '2020-05-29T16:44:13.188Z', focus: 'Encounter/86009987-eabe-42bf-8c02-b112b18cb616' }],
    });
  });

  test('full-resource: the focus resource is attached to its event; empty: no focus', () => {
    const full = structuredClone(igIdOnly) as any;
    full.entry[1].resource = { resourceType: 'Encounter', id: '86009987-eabe-42bf-8c02-b112b18cb616', status: 'in-progress' };
    expect(parseNotification(full).events[0]!.resource).toMatchObject({ status: 'in-progress' });
    const empty = structuredClone(igIdOnly) as any;
    empty.entry[0].resource.parameter[5].part.pop();
    empty.entry.pop();
    expect(parseNotification(empty).events).toEqual([{ eventNumber: 2, timestamp: '2020-05-29T16:44:13.188Z' }]);
  });

  test('counts sent as integers (R4B/R5 servers) are accepted; the same event twice in one bundle is one event', () => {
    const b = structuredClone(igIdOnly) as any;
    b.entry[0].resource.parameter[4] = { name: 'events-since-subscription-start', valueInteger64: 2 };
    b.entry[0].resource.parameter.push(b.entry[0].resource.parameter[5]);
    expect(parseNotification(b)).toMatchObject({ eventsSinceStart: 2, events: [{ eventNumber: 2 }] });
  });

  test.each<[string, (b: any) => void, RegExp]>([
    ['no subscription', (b) => b.entry[0].resource.parameter.splice(0, 1), /subscription/],
    ['negative event number', (b) => (b.entry[0].resource.parameter[5].part[0].valueString = '-1'), /event-number/],
    ['focus not a reference to a resource', (b) => (b.entry[0].resource.parameter[5].part[2].valueReference.reference = 'not a reference'), /focus/],
    ['events-since-subscription-start not a count', (b) => (b.entry[0].resource.parameter[4].valueString = 'two'), /events-since-subscription-start/],
    ['type searchset', (b) => (b.type = 'searchset'), /history/],
  ])('%s → NotificationError naming it', (_label, spoil, msg) => {
    const b = structuredClone(igIdOnly) as any;
    spoil(b);
    expect(() => parseNotification(b)).toThrow(NotificationError);
    try {
      parseNotification(b);
    } catch (e) {
      expect((e as NotificationError).issues.join('; ')).toMatch(msg);
    }
  });

  test.each([
    ['Observation/1', 'Observation/1'],
    ['https://ehr.example/fhir/Observation/abc-1', 'Observation/abc-1'],
    ['https://ehr.example/fhir/Observation/abc/_history/3', 'Observation/abc'],
    ['Observation/', undefined],
    ['observation/1', undefined],
    ['https://ehr.example/fhir/Observation/a b', undefined],
  ])('relativeReference(%s) = %s', (ref, out) => {
    expect(relativeReference(ref)).toBe(out);
  });
});

describe('planNotification: missed events', () => {
  const at = (m: number) => new Date(Date.UTC(2026, 11, 1, 10, m));
  const b = (events: number[], since?: number, t = 10) => ({ subscription: 's', type: 'event-notification' as const, ...(since !== undefined ? { eventsSinceStart: since } : {}), events: events.map((n) => ({ eventNumber: n })), receivedAt: at(t) });
  test.each<[string, { lastEvent: number; lastAt: string } | undefined, ReturnType<typeof b>, boolean]>([
    ['first notification sets the baseline', undefined, b([5], 5), false],
    ['next in sequence', { lastEvent: 4, lastAt: at(1).toISOString() }, b([5], 5), false],
    ['two in one bundle', { lastEvent: 4, lastAt: at(1).toISOString() }, b([5, 6], 6), false],
    ['number skipped', { lastEvent: 4, lastAt: at(1).toISOString() }, b([6], 6), true],
    ['count ahead of the numbers', { lastEvent: 4, lastAt: at(1).toISOString() }, b([5], 7), true],
    ['a late event (already past)', { lastEvent: 6, lastAt: at(1).toISOString() }, b([5], 6), false],
    ['a repeat', { lastEvent: 5, lastAt: at(1).toISOString() }, b([5], 5), false],
  ])('%s → catch-up %s', (_l, prev, batch, catchUp) => {
    const plan = planNotification(batch, prev);
    expect(plan.catchUpSince !== undefined).toBe(catchUp);
    if (catchUp) expect(plan.catchUpSince).toBe(new Date(Date.parse(prev!.lastAt) - CATCH_UP_MARGIN_MS).toISOString());
    expect(plan.progress.lastEvent).toBe(Math.max(prev?.lastEvent ?? 0, batch.eventsSinceStart ?? 0, ...batch.events.map((e) => e.eventNumber)));
  });
});

describe('the notification secret', () => {
  const secret = 'notify-secret-0123456789abcdef';
  test.each<[string | undefined, boolean]>([
    [`Bearer ${secret}`, true],
    [`bearer ${secret}`, true],
    [`Bearer ${secret}x`, false],
    [`Bearer ${secret.slice(0, -1)}`, false],
    [secret, false],
    ['Bearer ', false],
    [undefined, false],
  ])('%s → %s', (header, ok) => {
    expect(secretMatches(header, secret)).toBe(ok);
  });
});

describe('configuration', () => {
  const on = { 'notify.token': 'notify-secret-0123456789abcdef', 'notify.clientIss': 'https://ehr.example', 'backend.fhirUrl': 'https://ehr.example/fhir', 'backend.staticToken': 't', 'fhir.allowedServers': ['https://ehr.example/fhir'] };
  test('off by default', () => {
    const c = loadConfig({});
    expect(c.notify.token).toBe('');
    expect(c.backend.scope).toContain('system/DetectedIssue.c');
  });
  test.each<[string, Record<string, unknown>, RegExp | undefined]>([
    ['complete (static token)', on, undefined],
    ['the backend FHIR server outside FHIR_ALLOWED_SERVERS (egress policy)', { ...on, 'fhir.allowedServers': ['https://other.example/fhir'] }, /backend FHIR server must be under FHIR_ALLOWED_SERVERS/],
    ['plain http to a remote backend', { ...on, 'backend.fhirUrl': 'http://ehr.example/fhir', 'fhir.allowedServers': ['http://ehr.example/fhir'] }, /FHIR_ALLOWED_SERVERS/],
    ['no client iss', { ...on, 'notify.clientIss': '' }, /NOTIFY_CLIENT_ISS/],
    ['a short secret', { ...on, 'notify.token': 'short' }, /at least 16/],
    ['no credentials', { ...on, 'backend.staticToken': '' }, /BACKEND_TOKEN_URL, BACKEND_CLIENT_ID and BACKEND_KEY_FILE/],
  ])('%s', (_l, overrides, error) => {
    if (error) expect(() => loadConfig({}, overrides)).toThrow(error);
    else expect(loadConfig({}, overrides).notify.token).toBe(on['notify.token']);
    if (error) expect(() => loadConfig({}, overrides)).toThrow(ConfigError);
  });

  // Source: src/config.ts ENV_OVERRIDES NOTIFY_COMMUNICATION (README configuration table): default off; on, the default
  // scope asks for the Communication create scope too; an operator's own scope is taken as written.
  test.each<[string, NodeJS.ProcessEnv, boolean, boolean]>([
    ['unset: off, no Communication scope', {}, false, false],
    ['true', { NOTIFY_COMMUNICATION: 'true' }, true, true],
    ['1', { NOTIFY_COMMUNICATION: '1' }, true, true],
    ['false', { NOTIFY_COMMUNICATION: 'false' }, false, false],
    ['on with an own BACKEND_SCOPE: kept as written', { NOTIFY_COMMUNICATION: 'true', BACKEND_SCOPE: 'system/*.rs system/DetectedIssue.c' }, true, false],
  ])('NOTIFY_COMMUNICATION %s', (_l, env, communication, scoped) => {
    const c = loadConfig(env);
    expect(c.notify.communication).toBe(communication);
    expect(c.backend.scope.split(' ').includes('system/Communication.c')).toBe(scoped);
    if (!scoped && env['BACKEND_SCOPE']) expect(c.backend.scope).toBe(env['BACKEND_SCOPE']);
  });

  test('NOTIFY_COMMUNICATION that is not a boolean → ConfigError naming it', () => {
    expect(() => loadConfig({ NOTIFY_COMMUNICATION: 'sometimes' })).toThrow(/notify\.communication \(env NOTIFY_COMMUNICATION\)/);
  });
});

test('patientOf: Patient itself, subject or patient references; anything else none', () => {
  expect(patientOf({ resourceType: 'Observation', subject: { reference: 'Patient/p1' } })).toBe('p1');
  expect(patientOf({ resourceType: 'Observation', subject: { reference: 'https://ehr/fhir/Patient/p2' } })).toBe('p2');
  expect(patientOf({ resourceType: 'Observation', subject: { reference: 'Group/g1' } })).toBeUndefined();
  expect(patientOf({ resourceType: 'AllergyIntolerance', patient: { reference: 'Patient/p3' } })).toBe('p3');
  expect(patientOf({ resourceType: 'Patient', id: 'p4' })).toBe('p4');
  expect(patientOf(undefined)).toBeUndefined();
});

test('issueDetail: summary and the proposed dose', () => {
  const x = {
    card: { summary: 'Gabapentin: 900 mg/day exceeds 200–700 mg/day for CrCl 25 mL/min' },
    rec: { proposedDose: { perDose: { value: 300, unit: 'mg' }, frequencyText: 'twice daily', timing: { frequency: 2, period: 1, periodUnit: 'd' } } },
  } as never;
  expect(issueDetail(x)).toBe('Gabapentin: 900 mg/day exceeds 200–700 mg/day for CrCl 25 mL/min Proposed dose: 300 mg twice daily.');
});
