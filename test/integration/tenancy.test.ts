// Two EHRs sharing the service (issue 21, scope 1), through the real service on SQLite and on PostgreSQL: EHR A and
// EHR C have different issuers and FHIR servers and the same patient ids. Nothing one does is visible to or affects
// the other: its overrides do not hide the other's cards, its feedback on the other's card uuid is answered as for an
// unknown card and changes nothing, and each SMART app lists only its own server's recommendations.
import { randomUUID } from 'node:crypto';
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { activeMed, patient, pharmvarGenotype } from '../fixtures/synthetic-patients.js';
import { describeEachStore, type Ehr } from '../support/two-tenants.js';

const TOKEN = 'ehr-access-token-tenancy';

function activeClopidogrel(id: string, patientId: string): MedicationRequest {
  return {
    ...activeMed(id, patientId, '32968', 'clopidogrel 75 MG Oral Tablet'),
    status: 'active',
    dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 75, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] }],
  };
}

/** ten-1: CYP2C19 *2/*2 on active clopidogrel: a critical monitoring card on every chart opening until overridden. */
const pool: FhirResource[] = [
  patient('ten-1', '1958-01-01', 'male'),
  pharmvarGenotype('ten-1-cyp2c19', 'ten-1', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-06-01'),
  activeClopidogrel('ten-1-clop', 'ten-1'),
];

describeEachStore({ token: TOKEN, seed: pool }, (env) => {
  const open = async (ehr: Ehr, patientId = 'ten-1'): Promise<any[]> => {
    const r = await env.svc.post(ehr, '/cds-services/dosing-monitor', {
      hook: 'patient-view',
      hookInstance: randomUUID(),
      fhirServer: ehr.fhirServer,
      fhirAuthorization: { access_token: TOKEN, token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'cds-service', patient: patientId },
      context: { userId: 'Practitioner/example', patientId },
    });
    expect(r.status).toBe(200);
    return r.json.cards;
  };
  const feedback = (ehr: Ehr, card: string, outcome: 'overridden' | 'accepted' = 'overridden') =>
    env.svc.post(ehr, '/cds-services/dosing-monitor/feedback', {
      feedback: [{ card, outcome, ...(outcome === 'overridden' ? { overrideReason: { userComment: 'reviewed' } } : {}), outcomeTimestamp: new Date().toISOString() }],
    });
  const recIdOf = (card: any): string => (JSON.parse(card.links[0].appContext) as { recommendationId: string }).recommendationId;
  const smart = (ehr: Ehr, pathname: string) => env.svc.get(pathname, { authorization: `Bearer ${TOKEN}`, 'x-fhir-server': ehr.fhirServer, 'x-patient-id': 'ten-1' });

  test('overrides, feedback on the other EHR’s card uuid and SMART listings stay with their own EHR', async () => {
    const [cardA] = await open(env.svc.a);
    const [cardC] = await open(env.svc.c);
    expect(cardA?.indicator).toBe('critical');
    expect(cardC?.indicator).toBe('critical');

    // C overrides its own card (sent at once: the feedback waits for the card's audit record)
    expect((await feedback(env.svc.c, cardC.uuid)).json).toEqual({ stored: 1, duplicates: 0, unknownCards: 0 });
    expect(await open(env.svc.c)).toEqual([]); // C's override holds for C
    const againA = await open(env.svc.a);
    expect(againA).toHaveLength(1); // ...and hides nothing of A's

    // C answers A's card uuid: the same answer as for a card that was never issued, and nothing changes for A
    const foreign = await feedback(env.svc.c, againA[0].uuid);
    const never = await feedback(env.svc.c, randomUUID());
    expect(foreign.status).toBe(200);
    expect(foreign.json).toEqual(never.json);
    expect(foreign.json).toEqual({ stored: 1, duplicates: 0, unknownCards: 1 });
    const thirdA = await open(env.svc.a);
    expect(thirdA).toHaveLength(1);
    await env.svc.store.settle();
    const audit = (await env.svc.store.cardAudit(againA[0].uuid))!;
    expect(audit.card).toMatchObject({ clientIss: env.svc.a.client.iss, fhirServer: env.svc.a.fhirServer });
    expect(audit.feedback).toEqual([expect.objectContaining({ clientIss: env.svc.c.client.iss, knownCard: false })]);
    expect((await env.svc.store.reportRows()).find((r) => r.cardUuid === againA[0].uuid)!.outcome).toBeUndefined();

    // A's own override still works for A (and only A)
    expect((await feedback(env.svc.a, thirdA[0].uuid)).json).toEqual({ stored: 1, duplicates: 0, unknownCards: 0 });
    expect(await open(env.svc.a)).toEqual([]);

    // SMART: each EHR's app lists only its own server's recommendations for the same patient id
    const idsA = [cardA, againA[0], thirdA[0]].map(recIdOf);
    const idsC = [cardC].map(recIdOf);
    const listA = await smart(env.svc.a, '/api/recommendations');
    const listC = await smart(env.svc.c, '/api/recommendations');
    expect(listA.status).toBe(200);
    expect(listC.status).toBe(200);
    const listed = (r: { json: any }) => (r.json.recommendations as { id: string }[]).map((x) => x.id).sort();
    expect(listed(listA)).toEqual(expect.arrayContaining(idsA.sort()));
    expect(listed(listA).some((id) => idsC.includes(id))).toBe(false);
    // C's later chart openings made recommendations too (no card shown): all of C's are C's own
    expect(listed(listC)).toEqual(expect.arrayContaining(idsC));
    expect(listed(listC).some((id) => idsA.includes(id))).toBe(false);
    // by id: the other server's recommendation answers as an unknown one
    expect((await smart(env.svc.a, `/api/recommendations/${idsA[0]}`)).status).toBe(200);
    const cross = await smart(env.svc.a, `/api/recommendations/${idsC[0]}`);
    const unknown = await smart(env.svc.a, `/api/recommendations/${randomUUID()}`);
    expect(cross.status).toBe(404);
    expect(cross.json).toEqual(unknown.json);
    expect((await env.svc.readyz()).json.store).toBe('ok');
  }, 60000);
});
