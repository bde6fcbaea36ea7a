// What the load generators send (bench/run.ts, bench/profile.ts): the bench EHR's RS384 key and signed client JWTs
// (fresh jti each), and the hook calls of the scenarios.
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { MedicationRequest } from 'fhir/r4';
import { pharmvarGenotype } from '../test/fixtures/synthetic-patients.js';

export const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
export const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'bench-1', alg: 'RS384', use: 'sig' };
export const ISS = 'https://bench-ehr.local';
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
export const HEADER = b64({ alg: 'RS384', typ: 'JWT', kid: 'bench-1' });

/** A client JWT for `aud` (the exact endpoint URL), RS384, fresh jti, valid 5 minutes. */
export function token(aud: string, key: KeyObject = privateKey): string {
  const now = Math.floor(Date.now() / 1000);
  const body = `${HEADER}.${b64({ iss: ISS, aud, iat: now, exp: now + 300, jti: randomUUID(), sub: 'bench' })}`;
  return `${body}.${sign('sha384', Buffer.from(body), key).toString('base64url')}`;
}

/** The trusted-clients file content for the bench EHR. */
export const clientsJson = () => JSON.stringify({ clients: [{ iss: ISS, name: 'bench EHR', jwks: { keys: [jwk] } }] });

/** An order-select call for one draft; with `fhirServer` the service may query it with the bench's access token. */
export function hookBody(patientId: string, draft: MedicationRequest, prefetch: Record<string, unknown> | undefined, fhirServer?: string): string {
  return JSON.stringify({
    hook: 'order-select',
    hookInstance: randomUUID(),
    ...(fhirServer ? { fhirServer, fhirAuthorization: { access_token: 'bench-token', token_type: 'Bearer', expires_in: 300, scope: 'patient/*.read', subject: 'bench', patient: patientId } } : {}),
    context: { userId: 'Practitioner/bench', patientId, selections: [`MedicationRequest/${draft.id}`], draftOrders: { resourceType: 'Bundle', type: 'collection', entry: [{ resource: draft }] } },
    ...(prefetch ? { prefetch } : {}),
  });
}

export const clopidogrel: MedicationRequest = {
  resourceType: 'MedicationRequest', id: 'bench-clop', status: 'draft', intent: 'order', subject: { reference: 'Patient/pgx-1' },
  medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '32968', display: 'clopidogrel' }], text: 'clopidogrel 75 MG Oral Tablet' },
  dosageInstruction: [{ timing: { repeat: { frequency: 1, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 75, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] }],
};
export const amoxicillin: MedicationRequest = {
  resourceType: 'MedicationRequest', id: 'bench-amox', status: 'draft', intent: 'order', subject: { reference: 'Patient/pgx-1' },
  medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '723', display: 'amoxicillin' }], text: 'amoxicillin 500 MG Oral Capsule' },
};
/** pgx-1 as a CYP2C19 poor metabolizer (the clopidogrel scenario's genotype) */
export const cyp2c19 = pharmvarGenotype('pgx-1-cyp2c19', 'pgx-1', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-03-01');
