// Fixtures for the PatientFacts tests (test/unit/facts-*.test.ts): a GatherResult built from resources per prefetch
// key, Observation/Patient builders, and extractFacts for one patient at a fixed date.
import type { Extension, FhirResource, Observation, Patient } from 'fhir/r4';
import { extractFacts } from '../../src/fhir/facts.js';
import type { GatheredKey, GatherResult } from '../../src/fhir/gather.js';

export const LOINC = 'http://loinc.org';
export const UCUM = 'http://unitsofmeasure.org';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const US_CORE_RACE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race';
export const OMB = 'urn:oid:2.16.840.1.113883.6.238';

export const PID = 'p1';
export const NOW = new Date('2026-11-25T12:00:00Z');

export function gather(byKey: Record<string, Partial<GatheredKey> & { resources?: FhirResource[] }>): GatherResult {
  const out: Record<string, GatheredKey> = {};
  for (const [k, v] of Object.entries(byKey)) out[k] = { resources: v.resources ?? [], status: v.status ?? 'prefetch', ...(v.incomplete ? { incomplete: true } : {}), ...(v.error ? { error: v.error } : {}) };
  return { byKey: out, fhirCalls: 0, fhirMs: 0 };
}

export function obs(
  id: string,
  loincCode: string,
  value: number,
  code: string | undefined,
  date: string | undefined,
  o: { patientId?: string; status?: Observation['status']; unit?: string; subjectRef?: string } = {},
): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: o.status ?? 'final',
    code: { coding: [{ system: LOINC, code: loincCode }] },
    subject: { reference: o.subjectRef ?? `Patient/${o.patientId ?? PID}` },
    ...(date ? { effectiveDateTime: date } : {}),
    valueQuantity: { value, ...(code ? { system: UCUM, code } : {}), ...(o.unit !== undefined ? { unit: o.unit } : code ? { unit: code } : {}) },
  };
}
export const weight = (id: string, v: number, unit: string, date: string | undefined, o: Parameters<typeof obs>[5] = {}) => obs(id, '29463-7', v, unit, date, o);
export const height = (id: string, v: number, unit: string, date: string, o: Parameters<typeof obs>[5] = {}) => obs(id, '8302-2', v, unit, date, o);
export const creat = (id: string, v: number, unit: string, date: string, o: Parameters<typeof obs>[5] = {}) => obs(id, '2160-0', v, unit, date, o);

export function raceExt(...codes: string[]): Extension {
  return {
    url: US_CORE_RACE,
    extension: [...codes.map((code) => ({ url: 'ombCategory', valueCoding: { system: OMB, code } })), { url: 'text', valueString: 'as recorded' }],
  };
}
export function patient(id = PID, extra: Partial<Patient> = {}): Patient {
  return { resourceType: 'Patient', id, birthDate: '1960-05-01', gender: 'male', ...extra };
}

export const facts = (resources: FhirResource[], key = 'all') => extractFacts(gather({ [key]: { resources } }), { patientId: PID, now: NOW });
export const notesText = (f: ReturnType<typeof facts>) => f.notes.join('\n');
