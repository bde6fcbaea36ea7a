// PatientFacts from gathered FHIR resources (src/fhir/facts.ts): newest valid value, UCUM units, patient safety checks
// (fixtures: test/support/patient-facts.ts).
// This file: which resources are about the patient, the Patient resource, age and IWPC race group.
import type { Extension } from 'fhir/r4';
import { ageInYears, iwpcRaceOf } from '../../src/fhir/demographics.js';
import { extractFacts, referenceOf, refersToPatient } from '../../src/fhir/facts.js';
import { US_CORE_RACE, OMB, PID, NOW, gather, weight, raceExt, patient, facts, notesText } from '../support/patient-facts.js';

describe('refersToPatient', () => {
  // Source: FHIR R4 Reference.reference: relative "Patient/id", or an absolute URL; absolute counts only on the call's
  // own FHIR server (issue 21 scope 4), fragments never (a contained resource, or "Patient/bob#/Patient/p1").
  const FS = 'https://ehr.example.org/fhir';
  test.each<[string | undefined, string, string | undefined, boolean]>([
    ['Patient/p1', 'p1', FS, true],
    ['Patient/p1', 'p1', undefined, true],
    ['https://ehr.example.org/fhir/Patient/p1', 'p1', FS, true],
    ['https://ehr.example.org/fhir/Patient/p1', 'p1', `${FS}/`, true],
    ['https://ehr.example.org/fhir/Patient/p1', 'p1', undefined, false],
    ['https://other-hospital/fhir/Patient/p1', 'p1', FS, false],
    ['https://ehr.example.org.evil.org/fhir/Patient/p1', 'p1', FS, false],
    ['https://ehr.example.org/other/Patient/p1', 'p1', FS, false],
    ['https://x@ehr.example.org/fhir/Patient/p1', 'p1', FS, false],
    ['Patient/bob#/Patient/p1', 'p1', FS, false],
    ['#/Patient/p1', 'p1', FS, false],
    ['Patient/p12', 'p1', FS, false],
    ['Patient/xp1', 'p1', FS, false],
    ['https://ehr.example.org/fhir/Patient/xp1', 'p1', FS, false],
    ['Group/p1', 'p1', FS, false],
    ['p1', 'p1', FS, false],
    [undefined, 'p1', FS, false],
  ])('%s vs %s on %s → %s', (ref, id, fs, expected) => {
    expect(refersToPatient(ref === undefined ? undefined : { reference: ref }, id, fs)).toBe(expected);
  });

  test('referenceOf writes only ids of the FHIR id pattern (a Condition id "![img](http://x)" never reaches a card)', () => {
    expect(referenceOf({ resourceType: 'Condition', id: 'c-1.2' })).toBe('Condition/c-1.2');
    for (const id of ['![img](http://x)', '[x](https://evil)', 'a b', '', 'a'.repeat(65), 42]) expect(referenceOf({ resourceType: 'Condition', id })).toBe('Condition/(invalid id)');
    expect(referenceOf({ resourceType: '<b>x', id: 'c1' })).toBe('Resource/c1');
  });

  test('a weight of another server’s patient, or behind a fragment, is set aside and said; the own one is used', () => {
    const f = extractFacts(
      gather({
        weight: {
          resources: [
            weight('w-other', 45, 'kg', '2026-11-20', { subjectRef: 'https://other-hospital/fhir/Patient/p1' }),
            weight('w-frag', 46, 'kg', '2026-11-21', { subjectRef: 'Patient/bob#/Patient/p1' }),
            weight('w-own', 80, 'kg', '2026-11-01', { subjectRef: `${FS}/Patient/p1` }),
          ],
        },
      }),
      { patientId: PID, now: NOW, fhirServer: FS },
    );
    expect(f.weight?.value.value).toBe(80);
    expect(f.notes).toEqual(expect.arrayContaining([
      'Observation/w-other ignored: subject is a patient on another FHIR server',
      'Observation/w-frag ignored: subject is a reference with a fragment',
    ]));
  });
});

describe('Patient resource', () => {
  // Source: CDS Hooks context.patientId is the patient in context; any other Patient resource is not this patient.
  test('a Patient with a different id is ignored with a note', () => {
    const f = facts([patient('p2', { birthDate: '1990-01-01', gender: 'female', extension: [raceExt('2028-9')] })]);
    expect(f.ageYears).toBeUndefined();
    expect(f.birthDate).toBeUndefined();
    expect(f.sex).toBeUndefined();
    expect(f.race).toBeUndefined();
    expect(notesText(f)).toContain('Patient/p2 ignored');
  });

  test('the patient in context is read alongside another Patient', () => {
    const f = facts([patient('p2', { birthDate: '1990-01-01', gender: 'female' }), patient(PID, { extension: [raceExt('2106-3')] })]);
    expect(f.ageYears?.value).toBe(66);
    expect(f.sex?.value).toBe('male');
    expect(f.race?.value).toBe('White');
    expect(f.ageYears?.source.reference).toBe('Patient/p1');
  });

  test('an unusable birthDate is noted', () => {
    const f = facts([patient(PID, { birthDate: 'not-a-date' })]);
    expect(f.ageYears).toBeUndefined();
    expect(notesText(f)).toMatch(/birthDate/);
  });

  test('a birthDate in the future gives no age', () => {
    const f = facts([patient(PID, { birthDate: '2030-01-01' })]);
    expect(f.ageYears).toBeUndefined();
  });
});

describe('ageInYears', () => {
  // Source: FHIR R4 Patient.birthDate is a `date` (YYYY, YYYY-MM or YYYY-MM-DD); whole years completed on `now` (UTC).
  // Partial dates use the earliest possible birthday (1 January / the 1st of the month).
  test.each<[string, string, number | undefined]>([
    ['1960-05-01', '2026-11-25T12:00:00Z', 66],
    ['1960-11-25', '2026-11-25T12:00:00Z', 66], // birthday today
    ['1960-11-26', '2026-11-25T12:00:00Z', 65], // birthday tomorrow
    ['1960-11-24', '2026-11-25T12:00:00Z', 66], // birthday yesterday
    ['1960-12-01', '2026-11-25T12:00:00Z', 65],
    ['1960', '2026-11-25T12:00:00Z', 66],
    ['1960', '2026-01-01T00:00:00Z', 66],
    ['1960-05', '2026-11-25T12:00:00Z', 66],
    ['1960-05', '2026-04-30T12:00:00Z', 65],
    ['1960-05', '2026-05-01T00:00:00Z', 66],
    ['2000-02-29', '2025-02-28T12:00:00Z', 24],
    ['2000-02-29', '2025-03-01T12:00:00Z', 25],
    ['2026-11-25', '2026-11-25T12:00:00Z', 0],
    ['2026-11-26', '2026-11-25T12:00:00Z', undefined], // not born yet
    ['1880-01-01', '2026-11-25T12:00:00Z', undefined], // implausible
    ['garbage', '2026-11-25T12:00:00Z', undefined],
  ])('%s on %s → %s', (birth, now, age) => {
    expect(ageInYears(birth, new Date(now))).toBe(age);
  });
});

describe('iwpcRaceOf (US Core race ombCategory → IWPC group)', () => {
  // Source: US Core race extension (OMB categories, urn:oid:2.16.840.1.113883.6.238): 2106-3 White, 2028-9 Asian,
  // 2054-5 Black or African American, 1002-5 American Indian or Alaska Native, 2076-8 Native Hawaiian or Other
  // Pacific Islander; IWPC 2009 groups: White, Asian, Black, missing or mixed.
  test.each<[string, Extension[] | undefined, string | undefined]>([
    ['White', [raceExt('2106-3')], 'White'],
    ['Asian', [raceExt('2028-9')], 'Asian'],
    ['Black', [raceExt('2054-5')], 'Black'],
    ['American Indian or Alaska Native', [raceExt('1002-5')], 'MissingOrMixed'],
    ['Native Hawaiian or Other Pacific Islander', [raceExt('2076-8')], 'MissingOrMixed'],
    ['UNK null flavour', [raceExt('UNK')], 'MissingOrMixed'],
    ['two categories (White + Black)', [raceExt('2106-3', '2054-5')], 'MissingOrMixed'],
    ['no race extension', undefined, undefined],
    ['other extension only', [{ url: 'http://example.org/x', valueString: 'y' }], undefined],
    ['race extension with text only', [{ url: US_CORE_RACE, extension: [{ url: 'text', valueString: 'White' }] }], undefined],
    ['detailed only, no ombCategory', [{ url: US_CORE_RACE, extension: [{ url: 'detailed', valueCoding: { system: OMB, code: '2108-9' } }] }], undefined],
  ])('%s → %s', (_n, extension, expected) => {
    expect(iwpcRaceOf(patient(PID, extension ? { extension } : {}))).toBe(expected);
  });
});
