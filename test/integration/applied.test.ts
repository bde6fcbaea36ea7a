// Accepted is not applied, end to end through the real service (real JWTs, real SQLite): a warfarin card's update
// suggestion accepted, then the next call for the same order shows whether the EHR applied it.
import { randomUUID } from 'node:crypto';
import type { MedicationRequest } from 'fhir/r4';
import { buildReport } from '../../src/store/report.js';
import { draftWarfarin, fullPrefetch } from '../fixtures/synthetic-patients.js';
import { makeTestClient, type TestClient } from '../support/jwt.js';
import { startTestService, type TestService } from '../support/service.js';

let svc: TestService;
let other: TestClient;
beforeAll(async () => {
  other = await makeTestClient({ alg: 'ES384', iss: 'https://other-ehr.test.local' });
  svc = await startTestService({}, [other]);
}, 30000);
afterAll(async () => {
  await svc?.close();
});

const PATIENT = 'pgx-1';
function call(hook: 'order-select' | 'order-sign', drafts: MedicationRequest[]) {
  return {
    hook,
    hookInstance: randomUUID(),
    context: {
      userId: 'Practitioner/example',
      patientId: PATIENT,
      ...(hook === 'order-select' ? { selections: drafts.map((d) => `MedicationRequest/${d.id}`) } : {}),
      draftOrders: { resourceType: 'Bundle', type: 'collection', entry: drafts.map((resource) => ({ resource })) },
    },
    prefetch: fullPrefetch(PATIENT),
  };
}

/** order-select on a 5 mg warfarin draft: the card, its update suggestion and the order the suggestion writes. */
async function cardFor(id: string) {
  const draft = draftWarfarin(id, PATIENT, 5);
  const r = await svc.hook('dosing-order-select', call('order-select', [draft]));
  expect(r.status).toBe(200);
  const card = r.json.cards[0];
  const suggestion = card.suggestions[0];
  const action = suggestion.actions[0];
  expect(action).toMatchObject({ type: 'update', resource: { id } });
  return { draft, card: card.uuid as string, suggestion: suggestion.uuid as string, suggested: action.resource as MedicationRequest };
}

const feedback = (card: string, item: Record<string, unknown>) =>
  svc.post('/cds-services/dosing-order-select/feedback', JSON.stringify({ feedback: [{ card, outcomeTimestamp: new Date().toISOString(), ...item }] }));
const accept = (c: { card: string; suggestion: string }) => feedback(c.card, { outcome: 'accepted', acceptedSuggestions: [{ id: c.suggestion }] });
const resolutionOf = async (card: string) => (await svc.store.cardAudit(card))!.intendedOrders[0]?.resolution;

test('accepted then applied, accepted with the old draft kept (sandbox), accepted and never seen, another client, overridden', async () => {
  const applied = await cardFor('mr-ap-1');
  const sandbox = await cardFor('mr-ap-2');
  const unseen = await cardFor('mr-ap-3');
  const otherClient = await cardFor('mr-ap-4');
  const overridden = await cardFor('mr-ap-5');
  // the intended order is recorded with the card: the draft reader's dose of the suggested resource
  const intended = (await svc.store.cardAudit(applied.card))!.intendedOrders;
  const proposed = applied.suggested.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity!.value!;
  expect(intended).toEqual([{ suggestionUuid: applied.suggestion, orderRef: 'MedicationRequest/mr-ap-1', rxnorm: ['855332'], dose: { value: proposed, unit: 'mg', frequencyPerDay: 1 } }]);
  expect(proposed).not.toBe(5);

  for (const c of [applied, sandbox, unseen, otherClient]) expect((await accept(c)).status).toBe(200);
  expect((await feedback(overridden.card, { outcome: 'overridden', overrideReason: { reason: { code: 'clinical-judgement', system: 'urn:pgx-dosing-cds:override-reason' } } })).status).toBe(200);

  // the next call (order-sign) shows: the suggested order; the old dose with the suggestion's product copied (what the
  // sandbox's "take suggestion" does); and the overridden card's suggested order
  const sign = call('order-sign', [applied.suggested, { ...sandbox.draft, medicationCodeableConcept: sandbox.suggested.medicationCodeableConcept! }, overridden.suggested]);
  expect((await svc.hook('dosing-order-sign', sign)).status).toBe(200);
  // another client shows the suggested order for the same patient and order id: not this EHR's order
  const url = `${svc.url}/cds-services/dosing-order-sign`;
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: await other.bearer(url) }, body: JSON.stringify(call('order-sign', [otherClient.suggested])) });
  expect(res.status).toBe(200);

  expect(await resolutionOf(applied.card)).toMatchObject({ outcome: 'applied', hookInstance: sign.hookInstance, seen: { orderRef: 'MedicationRequest/mr-ap-1', dose: { value: proposed } } });
  expect(await resolutionOf(sandbox.card)).toMatchObject({ outcome: 'not-applied', hookInstance: sign.hookInstance, seen: { dose: { value: 5 } } });
  expect(await resolutionOf(unseen.card)).toBeUndefined();
  expect(await resolutionOf(otherClient.card)).toBeUndefined();
  expect(await resolutionOf(overridden.card)).toBeUndefined();

  // resolved once: a later call with the draft changed back does not change "applied"
  expect((await svc.hook('dosing-order-sign', call('order-sign', [applied.draft]))).status).toBe(200);
  expect((await resolutionOf(applied.card))!.hookInstance).toBe(sign.hookInstance);

  const mine = new Set([applied, sandbox, unseen, otherClient, overridden].map((c) => c.card));
  const report = buildReport((await svc.store.reportRows()).filter((r) => mine.has(r.cardUuid)));
  expect(report.total).toMatchObject({ cards: 5, withFeedback: 5, accepted: 4, overridden: 1, applied: 1, notApplied: 1, notSeenAgain: 2, appliedRate: 0.5 });
});
