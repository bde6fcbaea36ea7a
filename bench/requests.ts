// What the load generators send (bench/run.ts, bench/profile.ts, bench/open-loop.ts): the bench EHR's two keys — RS384
// (RSA 2048, as Epic-style EHRs sign) and ES384 (P-384, as the CDS Hooks Sandbox signs) — signed client JWTs (fresh jti
// each), and the hook calls of the scenarios.
import { generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { MedicationRequest } from 'fhir/r4';
import { pharmvarGenotype } from '../test/fixtures/synthetic-patients.js';

export type BenchAlg = 'RS384' | 'ES384';
export const BENCH_ALGS: readonly BenchAlg[] = ['ES384', 'RS384'];

interface BenchKey { alg: BenchAlg; kid: string; privateKey: KeyObject; publicKey: KeyObject; header: string; jwk: Record<string, unknown> }
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
function benchKey(alg: BenchAlg): BenchKey {
  const kid = `bench-${alg.toLowerCase()}`;
  const { privateKey, publicKey } = alg === 'RS384' ? generateKeyPairSync('rsa', { modulusLength: 2048 }) : generateKeyPairSync('ec', { namedCurve: 'P-384' });
  return { alg, kid, privateKey, publicKey, header: b64({ alg, typ: 'JWT', kid }), jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' } };
}
export const KEYS: Readonly<Record<BenchAlg, BenchKey>> = { RS384: benchKey('RS384'), ES384: benchKey('ES384') };

export const ISS = 'https://bench-ehr.local';
/** Signing options of `alg` for node:crypto `sign` (JWS ES384 signatures are raw r||s, not DER). */
export const signOptions = (alg: BenchAlg, key: KeyObject) => (alg === 'ES384' ? { key, dsaEncoding: 'ieee-p1363' as const } : key);

/** A client JWT for `aud` (the exact endpoint URL), fresh jti, valid 5 minutes; RS384 unless told. */
export function token(aud: string, alg: BenchAlg = 'RS384'): string {
  const k = KEYS[alg];
  const now = Math.floor(Date.now() / 1000);
  const body = `${k.header}.${b64({ iss: ISS, aud, iat: now, exp: now + 300, jti: randomUUID(), sub: 'bench' })}`;
  return `${body}.${sign('sha384', Buffer.from(body), signOptions(alg, k.privateKey)).toString('base64url')}`;
}

/** The trusted-clients file content for the bench EHR: both keys, pinned. */
export const clientsJson = () => JSON.stringify({ clients: [{ iss: ISS, name: 'bench EHR', jwks: { keys: [KEYS.RS384.jwk, KEYS.ES384.jwk] } }] });

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
