// PatientFacts from gathered FHIR resources (src/fhir/facts.ts): newest valid value, UCUM units, patient safety checks.
import type { Extension, FhirResource, MedicationRequest, MedicationStatement, Observation, Patient } from 'fhir/r4';
import { ageInYears, iwpcRaceOf } from '../../src/fhir/demographics.js';
import { extractFacts, referenceOf, refersToPatient } from '../../src/fhir/facts.js';
import type { GatheredKey, GatherResult } from '../../src/fhir/gather.js';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const US_CORE_RACE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race';
const OMB = 'urn:oid:2.16.840.1.113883.6.238';

const PID = 'p1';
const NOW = new Date('2026-11-25T12:00:00Z');

function gather(byKey: Record<string, Partial<GatheredKey> & { resources?: FhirResource[] }>): GatherResult {
  const out: Record<string, GatheredKey> = {};
  for (const [k, v] of Object.entries(byKey)) out[k] = { resources: v.resources ?? [], status: v.status ?? 'prefetch', ...(v.incomplete ? { incomplete: true } : {}), ...(v.error ? { error: v.error } : {}) };
  return { byKey: out, fhirCalls: 0, fhirMs: 0 };
}

function obs(
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
const weight = (id: string, v: number, unit: string, date: string | undefined, o: Parameters<typeof obs>[5] = {}) => obs(id, '29463-7', v, unit, date, o);
const height = (id: string, v: number, unit: string, date: string, o: Parameters<typeof obs>[5] = {}) => obs(id, '8302-2', v, unit, date, o);
const creat = (id: string, v: number, unit: string, date: string, o: Parameters<typeof obs>[5] = {}) => obs(id, '2160-0', v, unit, date, o);

function raceExt(...codes: string[]): Extension {
  return {
    url: US_CORE_RACE,
    extension: [...codes.map((code) => ({ url: 'ombCategory', valueCoding: { system: OMB, code } })), { url: 'text', valueString: 'as recorded' }],
  };
}
function patient(id = PID, extra: Partial<Patient> = {}): Patient {
  return { resourceType: 'Patient', id, birthDate: '1960-05-01', gender: 'male', ...extra };
}

const facts = (resources: FhirResource[], key = 'all') => extractFacts(gather({ [key]: { resources } }), { patientId: PID, now: NOW });
const notesText = (f: ReturnType<typeof facts>) => f.notes.join('\n');

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


describe('measurements: newest valid value wins', () => {
  // Source: the IWPC equations need current weight/height (dosing-formulas.md); UCUM 1 [lb_av] = 0.45359237 kg.
  const older = weight('w-old', 90, 'kg', '2024-01-10');
  const newer = weight('w-new', 176, '[lb_av]', '2026-09-15');
  const middle = weight('w-mid', 85, 'kg', '2025-06-01');
  test.each([
    ['oldest first', [older, middle, newer]],
    ['newest first', [newer, middle, older]],
    ['mixed', [middle, newer, older]],
  ])('%s', (_n, list) => {
    const f = facts([patient(), ...list]);
    expect(f.weight?.value.unit).toBe('kg');
    expect(f.weight?.value.value).toBeCloseTo(176 * 0.45359237, 9);
    // the value as reported travels with the source (the SMART app shows "176 lb = 79.8 kg")
    expect(f.weight?.source).toEqual({ reference: 'Observation/w-new', date: '2026-09-15', via: 'prefetch', reported: { value: 176, unit: '[lb_av]' } });
  });

  test('a value used in its own (canonical) unit carries no reported value', () => {
    expect(facts([patient(), older]).weight?.source).toEqual({ reference: 'Observation/w-old', date: '2024-01-10', via: 'prefetch' });
  });

  test('resources from a query are marked via "query"', () => {
    const f = extractFacts(gather({ weight: { resources: [newer], status: 'query' } }), { patientId: PID, now: NOW });
    expect(f.weight?.source.via).toBe('query');
  });

  test('an undated value is used only when no dated value exists', () => {
    const undated = weight('w-undated', 60, 'kg', undefined);
    expect(facts([undated, older]).weight?.source.reference).toBe('Observation/w-old');
    expect(facts([undated]).weight?.source.reference).toBe('Observation/w-undated');
  });

  test('height in [in_i] is converted to cm (1 [in_i] = 2.54 cm)', () => {
    const f = facts([height('h1', 69, '[in_i]', '2026-01-01')]);
    expect(f.height?.value.value).toBeCloseTo(175.26, 9);
    expect(f.height?.value.unit).toBe('cm');
  });

  test('creatinine in umol/L is converted to mg/dL (÷ 88.4)', () => {
    const f = facts([creat('c1', 97.24, 'umol/L', '2026-11-01')]);
    expect(f.serumCreatinine?.value.value).toBeCloseTo(1.1, 9);
    expect(f.serumCreatinine?.value.unit).toBe('mg/dL');
  });
});

describe('a newer unusable value is skipped with a note and the next newest is used', () => {
  // Source: dosing-formulas.md "convert by UCUM unit, never assume"; plausible ranges in MEASUREMENTS (src/fhir/facts.ts).
  const good = { w: weight('good', 80, 'kg', '2026-01-01'), c: creat('good-c', 1.0, 'mg/dL', '2026-01-01') };
  test.each<[string, Observation, 'weight' | 'serumCreatinine', RegExp]>([
    ['unknown unit "stone"', obs('bad', '29463-7', 12, undefined, '2026-11-01', { unit: 'stone' }), 'weight', /unit/],
    ['non-UCUM system code', { ...weight('bad', 80, 'kg', '2026-11-01'), valueQuantity: { value: 80, system: 'http://snomed.info/sct', code: '258683005' } }, 'weight', /unit/],
    ['no valueQuantity', { ...weight('bad', 80, 'kg', '2026-11-01'), valueQuantity: undefined } as Observation, 'weight', /no numeric value/],
    ['5000 kg (implausible)', weight('bad', 5000, 'kg', '2026-11-01'), 'weight', /outside/],
    ['0 kg (implausible)', weight('bad', 0, 'kg', '2026-11-01'), 'weight', /outside/],
    ['negative weight', weight('bad', -70, 'kg', '2026-11-01'), 'weight', /outside/],
    ['negative creatinine', creat('bad', -1, 'mg/dL', '2026-11-01'), 'serumCreatinine', /outside/],
    ['creatinine 500 mg/dL (implausible)', creat('bad', 500, 'mg/dL', '2026-11-01'), 'serumCreatinine', /outside/],
    ['comparator "<"', { ...creat('bad', 0.2, 'mg/dL', '2026-11-01'), valueQuantity: { value: 0.2, comparator: '<', system: UCUM, code: 'mg/dL' } }, 'serumCreatinine', /no numeric value/],
  ])('%s', (_n, bad, key, noteRe) => {
    const fallback = key === 'weight' ? good.w : good.c;
    const f = facts([bad, fallback]);
    expect(f[key]?.source.reference).toBe(fallback.id === 'good' ? 'Observation/good' : 'Observation/good-c');
    const note = f.notes.find((n) => n.startsWith('Observation/bad'));
    expect(note).toMatch(noteRe);
  });

  test('an implausible value alone → no weight fact at all, only a note', () => {
    const f = facts([weight('bad', 5000, 'kg', '2026-11-01')]);
    expect(f.weight).toBeUndefined();
    expect(notesText(f)).toContain('Observation/bad');
  });
});

describe('notes are only about values set aside', () => {
  // BUG (src/fhir/facts.ts, extractFacts: every Observation of the patient is pushed to `observations` and passed to
  // readGeneResults, whose `ignored` list is copied into facts.notes). Weight, height, creatinine and INR
  // Observations that WERE used therefore also get the note "Observation/w ignored: not a pharmacogenomic result
  // (Observation.code not recognised)". Expected: only genomic candidates are given to readGeneResults (or
  // measurement Observations are not reported), so notes list only values actually set aside.
  test('a weight Observation that is used is not also noted as ignored', () => {
    const f = facts([weight('w', 80, 'kg', '2026-01-01'), height('h', 180, 'cm', '2026-01-01')]);
    expect(f.weight?.source.reference).toBe('Observation/w');
    expect(f.notes).toEqual([]);
  });
});

describe('observations that must not be used', () => {
  // Source: FHIR R4 ObservationStatus (only final/amended/corrected are results to act on); patient safety: data of
  // another patient must never be used, even when it is the newest.
  const good = weight('good', 80, 'kg', '2026-01-01');
  test.each<[string, Observation]>([
    ['dated 2 days in the future', weight('bad', 70, 'kg', '2026-11-27T12:00:00Z')],
    ['dated next year', weight('bad', 70, 'kg', '2027-06-01')],
    ['status preliminary', weight('bad', 70, 'kg', '2026-11-01', { status: 'preliminary' })],
    ['status entered-in-error', weight('bad', 70, 'kg', '2026-11-01', { status: 'entered-in-error' })],
    ['status registered', weight('bad', 70, 'kg', '2026-11-01', { status: 'registered' })],
    ['status cancelled', weight('bad', 70, 'kg', '2026-11-01', { status: 'cancelled' })],
    ['another patient (newest)', weight('bad', 70, 'kg', '2026-11-24', { patientId: 'p2' })],
    ['another patient, absolute URL', weight('bad', 70, 'kg', '2026-11-24', { subjectRef: 'https://ehr.example.org/fhir/Patient/p2' })],
    ['patient id with our id as suffix', weight('bad', 70, 'kg', '2026-11-24', { subjectRef: 'Patient/xp1' })],
    ['no subject', { ...weight('bad', 70, 'kg', '2026-11-24'), subject: undefined } as Observation],
    ['subject is a Group', weight('bad', 70, 'kg', '2026-11-24', { subjectRef: 'Group/p1' })],
  ])('%s → ignored with a note, older valid value used', (_n, bad) => {
    for (const order of [[bad, good], [good, bad]]) {
      const f = facts(order);
      expect(f.weight?.value.value).toBe(80);
      expect(f.weight?.source.reference).toBe('Observation/good');
      expect(f.notes.some((n) => n.startsWith('Observation/bad'))).toBe(true);
    }
  });

  test('a value a few hours in the future (clock skew) is still accepted', () => {
    const f = facts([good, weight('soon', 70, 'kg', '2026-11-25T15:00:00Z')]);
    expect(f.weight?.source.reference).toBe('Observation/soon');
  });

  test('amended and corrected results are usable', () => {
    expect(facts([good, weight('a', 70, 'kg', '2026-11-01', { status: 'amended' })]).weight?.source.reference).toBe('Observation/a');
    expect(facts([good, weight('c', 71, 'kg', '2026-11-01', { status: 'corrected' })]).weight?.source.reference).toBe('Observation/c');
  });

  test('only another patient\'s data → no weight at all (never borrowed)', () => {
    const f = facts([weight('other', 70, 'kg', '2026-11-24', { patientId: 'p2' })]);
    expect(f.weight).toBeUndefined();
  });

  test('notes about ignored resources are PHI-free (no values of another patient)', () => {
    const f = facts([weight('other', 73.3, 'kg', '2026-11-24', { patientId: 'p2' })]);
    expect(notesText(f)).not.toContain('73.3');
    expect(notesText(f)).not.toContain('p2');
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

describe('medications', () => {
  // Source: FHIR R4 MedicationRequest/MedicationStatement: only status "active" is a current co-medication;
  // medication[x] is a CodeableConcept or a Reference (here to a contained Medication, "#id").
  const mr = (id: string, status: MedicationRequest['status'], extra: Partial<MedicationRequest> = {}, pid = PID): MedicationRequest => ({
    resourceType: 'MedicationRequest',
    id,
    status,
    intent: 'order',
    subject: { reference: `Patient/${pid}` },
    authoredOn: '2026-10-01',
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '833528', display: 'amiodarone hydrochloride 200 MG Oral Tablet' }], text: 'Amiodarone 200 mg' },
    ...extra,
  });
  const ms = (id: string, status: MedicationStatement['status']): MedicationStatement => ({
    resourceType: 'MedicationStatement',
    id,
    status,
    subject: { reference: `Patient/${PID}` },
    dateAsserted: '2026-09-01',
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '9384', display: 'rifampin' }] },
  });

  test.each<[string, boolean, FhirResource]>([
    ['active MedicationRequest', true, mr('m1', 'active')],
    ['stopped MedicationRequest', false, mr('m1', 'stopped')],
    ['completed MedicationRequest', false, mr('m1', 'completed')],
    ['draft MedicationRequest', false, mr('m1', 'draft')],
    ['entered-in-error MedicationRequest', false, mr('m1', 'entered-in-error')],
    ['active MedicationRequest of another patient', false, mr('m1', 'active', {}, 'p2')],
    ['active MedicationStatement', true, ms('s1', 'active')],
    ['completed MedicationStatement', false, ms('s1', 'completed')],
    ['intended MedicationStatement', false, ms('s1', 'intended')],
  ])('%s → used: %s', (_n, used, r) => {
    expect(facts([r]).medications.length).toBe(used ? 1 : 0);
  });

  test('RxNorm codes and text are collected with the source', () => {
    const f = facts([
      mr('m1', 'active', {
        medicationCodeableConcept: {
          coding: [
            { system: RXNORM, code: '833528', display: 'amiodarone hydrochloride 200 MG Oral Tablet' },
            { system: RXNORM, code: '703' },
            { system: 'http://hl7.org/fhir/sid/ndc', code: '0000-0000', display: 'NDC product' },
          ],
          text: 'Amiodarone 200 mg',
        },
      }),
    ]);
    expect(f.medications).toHaveLength(1);
    const m = f.medications[0]!;
    expect(m.rxnorm).toEqual(['833528', '703']);
    expect(m.text).toContain('Amiodarone 200 mg');
    expect(m.text).toContain('amiodarone hydrochloride 200 MG Oral Tablet');
    expect(m.source).toEqual({ reference: 'MedicationRequest/m1', date: '2026-10-01', via: 'prefetch' });
  });

  test('contained Medication via medicationReference "#id"', () => {
    const r = mr('m2', 'active', {
      medicationCodeableConcept: undefined,
      medicationReference: { reference: '#med1' },
      contained: [{ resourceType: 'Medication', id: 'med1', code: { coding: [{ system: RXNORM, code: '8183', display: 'phenytoin' }], text: 'Dilantin' } }],
    } as Partial<MedicationRequest>);
    delete r.medicationCodeableConcept;
    const f = facts([r]);
    expect(f.medications).toHaveLength(1);
    expect(f.medications[0]!.rxnorm).toEqual(['8183']);
    expect(f.medications[0]!.text).toContain('Dilantin');
  });

  test('medicationReference with display only keeps the display as text', () => {
    const r = mr('m3', 'active', { medicationReference: { reference: 'Medication/xyz', display: 'Tegretol 200 mg' } });
    delete r.medicationCodeableConcept;
    const f = facts([r]);
    expect(f.medications[0]?.rxnorm).toEqual([]);
    expect(f.medications[0]?.text).toBe('Tegretol 200 mg');
  });

  test('a medication with neither code nor text is not recorded', () => {
    const r = mr('m4', 'active');
    delete r.medicationCodeableConcept;
    r.medicationReference = { reference: 'Medication/xyz' };
    expect(facts([r]).medications).toEqual([]);
  });

  test('the same resource arriving under two keys is counted once', () => {
    const f = extractFacts(gather({ medicationRequests: { resources: [mr('m1', 'active')] }, again: { resources: [mr('m1', 'active')], status: 'query' } }), { patientId: PID, now: NOW });
    expect(f.medications).toHaveLength(1);
  });
});

describe('unavailable data', () => {
  // Source: CDS Hooks 2.0 prefetch: a key may be absent or failed; the service must say what it could not obtain.
  test('failed keys and incomplete paging appear in `unavailable`', () => {
    const f = extractFacts(
      gather({
        patient: { resources: [patient()] },
        weight: { status: 'failed', error: 'the FHIR server did not answer in time' },
        height: { status: 'failed' },
        medicationRequests: { status: 'query', incomplete: true, resources: [] },
        genomics: { status: 'prefetch', resources: [] },
      }),
      { patientId: PID, now: NOW },
    );
    expect(f.unavailable).toEqual(['weight: the FHIR server did not answer in time', 'height: unavailable', 'medicationRequests: not all result pages could be read']);
    expect(f.ageYears?.value).toBe(66);
  });

  test('nothing gathered → empty facts with the patient id', () => {
    const f = extractFacts(gather({}), { patientId: PID, now: NOW });
    expect(f).toEqual({ patientId: PID, genes: [], medications: [], conditions: [], unavailable: [], notes: [] });
  });
});

describe('warfarin administrations (MONITORED_ADMINISTRATIONS)', () => {
  test('the warfarin codes read are the RxNorm ingredient and the products of knowledge/drug-codes.json', async () => {
    const { MONITORED_ADMINISTRATIONS } = await import('../../src/fhir/medications.js');
    const { readFileSync } = await import('node:fs');
    const codes = JSON.parse(readFileSync('knowledge/drug-codes.json', 'utf8')) as { ingredients: { name: string; rxcui: string }[]; products: { rxcui: string; ingredient: string }[] };
    const w = MONITORED_ADMINISTRATIONS.find((m) => m.drug === 'warfarin')!;
    expect([...w.rxnorm].sort()).toEqual(
      [codes.ingredients.find((i) => i.name === 'warfarin')!.rxcui, ...codes.products.filter((p) => p.ingredient === 'warfarin').map((p) => p.rxcui)].sort(),
    );
    expect(w.statuses).toEqual(new Set(['completed']));
  });

  test('a warfarin dose of another patient is ignored with a note', () => {
    const f = extractFacts(
      gather({
        a: {
          resources: [
            {
              resourceType: 'MedicationAdministration',
              id: 'x1',
              status: 'completed',
              medicationCodeableConcept: { coding: [{ system: RXNORM, code: '11289' }] },
              subject: { reference: 'Patient/other' },
              effectiveDateTime: '2026-11-24T08:00:00Z',
              dosage: { dose: { value: 5, system: UCUM, code: 'mg' } },
            },
          ],
        },
      }),
      { patientId: PID, now: NOW },
    );
    expect(f.administrations).toBeUndefined();
    expect(f.notes).toContain('MedicationAdministration/x1 ignored: subject is not the patient in context');
  });
});

describe('dialysis Procedures (DIALYSIS_PROCEDURES, the `dialysis` prefetch key)', () => {
  const SCT = 'http://snomed.info/sct';
  const CPT = 'http://www.ama-assn.org/go/cpt';
  const PCS = 'http://www.cms.gov/Medicare/Coding/ICD10';
  type P = Extract<FhirResource, { resourceType: 'Procedure' }>;
  const proc = (id: string, system: string, code: string, o: { status?: string; at?: string; start?: string; end?: string; subject?: string } = {}): P =>
    ({
      resourceType: 'Procedure',
      id,
      status: o.status ?? 'completed',
      code: { coding: [{ system, code }] },
      subject: { reference: o.subject ?? `Patient/${PID}` },
      ...(o.at ? { performedDateTime: o.at } : {}),
      ...(o.start || o.end ? { performedPeriod: { ...(o.start ? { start: o.start } : {}), ...(o.end ? { end: o.end } : {}) } } : {}),
    }) as P;
  const read = (...resources: FhirResource[]) => extractFacts(gather({ dialysis: { resources } }), { patientId: PID, now: NOW });

  test('the prefetch template in config/services.json queries exactly the codes the reader reads', async () => {
    const { readFileSync } = await import('node:fs');
    const { DIALYSIS_PROCEDURES, dialysisProcedureCodeParam } = await import('../../src/fhir/dialysis.js');
    const tpl = (JSON.parse(readFileSync('config/services.json', 'utf8')) as { prefetch: Record<string, string> }).prefetch['dialysis']!;
    const m = /^Procedure\?patient=\{\{context\.patientId\}\}&code=([^&]+)&_sort=-date&_count=20$/.exec(tpl);
    expect(m).not.toBeNull();
    // percent-encoded tokens, decoded as the FHIR server decodes them
    expect(new Set(m![1]!.split(',').map(decodeURIComponent))).toEqual(new Set(DIALYSIS_PROCEDURES.map((c) => `${c.system}|${c.code}`)));
    expect(m![1]).toBe(dialysisProcedureCodeParam());
    expect(new Set(DIALYSIS_PROCEDURES.map((c) => `${c.system}|${c.code}`)).size).toBe(DIALYSIS_PROCEDURES.length);
  });

  // Sources: SNOMED CT International (procedure concepts), AMA CPT 90935–90947 (dialysis services), CMS ICD-10-PCS
  // 5A1D7/8/9 "Performance of Urinary Filtration" (intermittent <6 h / prolonged intermittent 6–18 h / continuous >18 h).
  test.each<[string, string, string, string | undefined]>([
    ['SNOMED hemodialysis', SCT, '302497006', 'hemodialysis'],
    ['SNOMED intermittent hemodialysis', SCT, '233575001', 'hemodialysis'],
    ['SNOMED peritoneal dialysis', SCT, '71192002', 'peritoneal'],
    ['SNOMED chronic peritoneal dialysis', SCT, '225230008', 'peritoneal'],
    ['SNOMED CAPD', SCT, '238318009', 'peritoneal'],
    ['SNOMED automated peritoneal dialysis', SCT, '428648006', 'peritoneal'],
    ['SNOMED renal dialysis (modality not stated)', SCT, '265764009', 'dialysis'],
    ['SNOMED CRRT', SCT, '714749008', 'crrt'],
    ['CPT 90935 hemodialysis, single evaluation', CPT, '90935', 'hemodialysis'],
    ['CPT 90937 hemodialysis, repeated evaluations', CPT, '90937', 'hemodialysis'],
    ['CPT 90945 dialysis other than hemodialysis (PD or CRRT)', CPT, '90945', 'dialysis'],
    ['CPT 90947 dialysis other than hemodialysis, repeated', CPT, '90947', 'dialysis'],
    ['ICD-10-PCS 5A1D70Z intermittent <6 h/day', PCS, '5A1D70Z', 'hemodialysis'],
    ['ICD-10-PCS 5A1D80Z prolonged intermittent 6–18 h/day', PCS, '5A1D80Z', 'crrt'],
    ['ICD-10-PCS 5A1D90Z continuous >18 h/day', PCS, '5A1D90Z', 'crrt'],
    ['ICD-10-PCS code in lower case', PCS, '5a1d70z', 'hemodialysis'],
    ['a SNOMED code sent with the CPT system → not read', CPT, '302497006', undefined],
    ['appendectomy (SNOMED 80146002) → not dialysis', SCT, '80146002', undefined],
    ['obsolete ICD-10-PCS 5A1D00Z → not read', PCS, '5A1D00Z', undefined],
  ])('%s', (_n, system, code, kind) => {
    const f = read(proc('d1', system, code, { at: '2026-11-23T08:00:00Z' }));
    expect(f.dialysisProcedures?.[0]?.kind).toBe(kind);
    if (kind) expect(f.dialysisProcedures?.[0]?.source).toEqual({ reference: 'Procedure/d1', date: '2026-11-23T08:00:00Z', via: 'prefetch' });
    expect(f.notes).toEqual([]);
  });

  // Source: FHIR R4 EventStatus — "stopped": terminated after the main activity began (the dialysis happened);
  // preparation / not-done / on-hold / entered-in-error / unknown: not (known to be) performed.
  test.each<[string, boolean]>([
    ['completed', true],
    ['in-progress', true],
    ['stopped', true],
    ['preparation', false],
    ['not-done', false],
    ['on-hold', false],
    ['entered-in-error', false],
    ['unknown', false],
  ])('status %s → read: %s', (status, used) => {
    const f = read(proc('s1', SCT, '302497006', { status, at: '2026-11-23T08:00:00Z' }));
    expect(f.dialysisProcedures?.length ?? 0).toBe(used ? 1 : 0);
    expect(f.notes).toEqual(used ? [] : [`Procedure/s1 (dialysis procedure) ignored: status ${status}`]);
  });

  test.each<[string, Parameters<typeof proc>[3], { date?: string; ongoing?: boolean; note?: string }]>([
    ['performedDateTime', { at: '2026-11-20' }, { date: '2026-11-20', ongoing: false }],
    ['performedPeriod: dated by its end', { start: '2026-11-20T08:00:00Z', end: '2026-11-20T12:00:00Z' }, { date: '2026-11-20T12:00:00Z', ongoing: false }],
    ['performedPeriod start only (completed)', { start: '2026-11-20T08:00:00Z' }, { date: '2026-11-20T08:00:00Z', ongoing: false }],
    ['in progress: ongoing, shown with its start', { status: 'in-progress', start: '2026-11-01T08:00:00Z' }, { date: '2026-11-01T08:00:00Z', ongoing: true }],
    ['in progress without a date: ongoing', { status: 'in-progress' }, { ongoing: true }],
    ['completed without a date → ignored', {}, { note: 'Procedure/t1 (dialysis procedure) ignored: no performed date' }],
    ['unparseable date → ignored', { at: 'last week' }, { note: 'Procedure/t1 (dialysis procedure) ignored: no performed date' }],
    ['dated tomorrow + 1 h (beyond the 24 h clock tolerance) → ignored', { at: '2026-11-26T13:00:00Z' }, { note: 'Procedure/t1 (dialysis procedure) ignored: dated in the future' }],
    ['in progress, started in the future → ignored', { status: 'in-progress', start: '2026-12-10' }, { note: 'Procedure/t1 (dialysis procedure) ignored: dated in the future' }],
    ['completed, ends in the future → ignored', { start: '2026-11-20', end: '2027-01-01' }, { note: 'Procedure/t1 (dialysis procedure) ignored: dated in the future' }],
    ['a few hours ahead (clock difference) → kept', { at: '2026-11-25T20:00:00Z' }, { date: '2026-11-25T20:00:00Z', ongoing: false }],
  ])('%s', (_n, o, expected) => {
    const f = read(proc('t1', SCT, '302497006', o));
    if (expected.note) {
      expect(f.dialysisProcedures).toBeUndefined();
      expect(f.notes).toEqual([expected.note]);
    } else {
      expect(f.notes).toEqual([]);
      expect(f.dialysisProcedures?.[0]?.ongoing).toBe(expected.ongoing);
      expect(f.dialysisProcedures?.[0]?.date).toBe(expected.date);
    }
  });

  test('another patient’s procedure is ignored with a PHI-free note; an absolute subject URL on the call’s FHIR server is this patient', () => {
    const resources = [proc('o1', SCT, '302497006', { at: '2026-11-24', subject: 'Patient/other' }), proc('o2', SCT, '302497006', { at: '2026-11-24', subject: `https://ehr.example/fhir/Patient/${PID}` })];
    const f = extractFacts(gather({ dialysis: { resources } }), { patientId: PID, now: NOW, fhirServer: 'https://ehr.example/fhir' });
    expect(f.dialysisProcedures?.map((p) => p.source.reference)).toEqual(['Procedure/o2']);
    expect(f.notes).toEqual(['Procedure/o1 ignored: subject is not the patient in context']);
  });

  test('newest first, a procedure in progress before every dated one; arrived by query is marked so', () => {
    const f = extractFacts(
      gather({
        dialysis: {
          status: 'query',
          resources: [
            proc('a', SCT, '302497006', { at: '2026-10-01' }),
            proc('b', SCT, '714749008', { status: 'in-progress', start: '2026-09-01' }),
            proc('c', CPT, '90935', { at: '2026-11-24' }),
          ],
        },
      }),
      { patientId: PID, now: NOW },
    );
    expect(f.dialysisProcedures?.map((p) => [p.source.reference, p.kind, p.source.via])).toEqual([
      ['Procedure/b', 'crrt', 'query'],
      ['Procedure/c', 'hemodialysis', 'query'],
      ['Procedure/a', 'hemodialysis', 'query'],
    ]);
  });
});
