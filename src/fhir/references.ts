// References to EHR data, checked before they are used: resource ids match the FHIR id pattern before they are written
// into a reference or card text (an id like "![img](http://x)" never reaches markdown), and a subject reference counts
// as the patient in context only when it is relative ("Patient/<id>") or absolute on the call's own FHIR server.

import { parseFhirBase } from './egress.js';

/** FHIR R4 `id`: 1–64 of A–Z a–z 0–9 - . */
export const FHIR_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const RESOURCE_TYPE = /^[A-Z][A-Za-z]{1,63}$/;

export const isFhirId = (v: unknown): v is string => typeof v === 'string' && FHIR_ID.test(v);

/** "Type/id" of a resource, or "Type/(invalid id)" when its id does not match the FHIR id pattern. */
export function referenceOf(r: { resourceType?: unknown; id?: unknown }): string {
  const type = typeof r.resourceType === 'string' && RESOURCE_TYPE.test(r.resourceType) ? r.resourceType : 'Resource';
  if (r.id === undefined) return `${type}/unknown`;
  return isFhirId(r.id) ? `${type}/${r.id}` : `${type}/(invalid id)`;
}

/** Why a subject reference is not this patient (undefined = it is): for the notes of what was set aside. */
export type ForeignReason = 'not the patient in context' | 'a reference with a fragment' | 'a patient on another FHIR server' | 'missing';

/**
 * Does `ref` point at this patient? Relative "Patient/<id>", or absolute "<fhirServer>/Patient/<id>" on the same
 * origin and base path as the call's `fhirServer` (parsed, so "https://other/fhir/Patient/<id>" or
 * "Patient/bob#/Patient/<id>" are not this patient).
 */
export function patientReferenceProblem(ref: { reference?: unknown } | undefined, patientId: string, fhirServer: string | undefined): ForeignReason | undefined {
  const s = ref?.reference;
  if (typeof s !== 'string' || s === '') return 'missing';
  if (s.includes('#')) return 'a reference with a fragment';
  const rel = /^Patient\/([^/?]+)$/.exec(s);
  if (rel) return rel[1] === patientId ? undefined : 'not the patient in context';
  const u = parseFhirBase(s);
  const base = fhirServer === undefined ? undefined : parseFhirBase(fhirServer);
  if (typeof u === 'string') return 'not the patient in context';
  if (base === undefined || typeof base === 'string' || u.origin !== base.origin) return 'a patient on another FHIR server';
  const expected = `${base.pathname.replace(/\/+$/, '')}/Patient/${patientId}`;
  if (u.pathname === expected) return undefined;
  return u.pathname.startsWith(`${base.pathname.replace(/\/+$/, '')}/Patient/`) ? 'not the patient in context' : 'a patient on another FHIR server';
}

export function refersToPatient(ref: { reference?: unknown } | undefined, patientId: string, fhirServer?: string): boolean {
  return patientReferenceProblem(ref, patientId, fhirServer) === undefined;
}
