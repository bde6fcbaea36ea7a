// PatientFacts from gathered FHIR resources (src/fhir/facts.ts): newest valid value, UCUM units, patient safety checks
// (fixtures: test/support/patient-facts.ts).
// This file: weight, height and creatinine (newest valid value, units, notes), and data that could not be gathered.
import type { Observation } from 'fhir/r4';
import { extractFacts } from '../../src/fhir/facts.js';
import { UCUM, PID, NOW, gather, obs, weight, height, creat, patient, facts, notesText } from '../support/patient-facts.js';

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
