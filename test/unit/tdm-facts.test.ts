// Vancomycin levels and administrations in PatientFacts (src/fhir/facts.ts), and the Recommendation built from them
// (src/dosing/tdm/recommend.ts) for the cases the integration test does not reach.
import type { FhirResource, MedicationAdministration, Observation } from 'fhir/r4';
import type { DraftOrder } from '../../src/cds/orders.js';
import type { GatherResult } from '../../src/fhir/gather.js';
import { extractFacts } from '../../src/fhir/facts.js';
import { loadPkModels } from '../../src/dosing/tdm/load.js';
import { recommendVancomycin } from '../../src/dosing/tdm/recommend.js';
import { dialysisStatus } from '../../src/dosing/renal/evaluator.js';
import { defaultRenalKnowledge } from '../../src/knowledge/renal.js';
import type { PatientFacts } from '../../src/domain/facts.js';

const NOW = new Date('2026-11-25T12:00:00Z');
const UCUM = 'http://unitsofmeasure.org';
const gather = (resources: FhirResource[]): GatherResult => ({ byKey: { all: { resources, status: 'prefetch' } }, fhirCalls: 0, fhirMs: 0 });

function level(id: string, loinc: string, value: number, code: string, time: string | undefined, extra: Partial<Observation> = {}): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: loinc }] },
    subject: { reference: 'Patient/p1' },
    ...(time ? { effectiveDateTime: time } : {}),
    valueQuantity: { value, unit: code, system: UCUM, code },
    ...extra,
  };
}
function admin(id: string, extra: Partial<MedicationAdministration>): MedicationAdministration {
  return {
    resourceType: 'MedicationAdministration',
    id,
    status: 'completed',
    medicationCodeableConcept: { coding: [{ system: 'http://www.nlm.nih.gov/research/umls/rxnorm', code: '11124' }] },
    subject: { reference: 'Patient/p1' },
    effectivePeriod: { start: '2026-11-24T08:00:00Z', end: '2026-11-24T09:30:00Z' },
    dosage: { dose: { value: 1500, unit: 'mg', system: UCUM, code: 'mg' } },
    ...extra,
  };
}

describe('vancomycin levels in PatientFacts', () => {
  test('ug/mL = mg/L, mg/dL × 10; exact times; sorted oldest first; bad status, other patient, no time ignored', () => {
    const f = extractFacts(
      gather([
        level('l2', '4090-7', 12.5, 'ug/mL', '2026-11-25T07:30:00Z'),
        level('l1', '4089-9', 3.1, 'mg/dL', '2026-11-24T10:30:00+01:00'),
        level('l3', '20578-1', 20, 'mg/L', '2026-11-25T08:00:00Z', { status: 'preliminary' }),
        level('l4', '20578-1', 20, 'mg/L', '2026-11-25T08:00:00Z', { subject: { reference: 'Patient/other' } }),
        level('l5', '20578-1', 20, 'mg/L', undefined, { issued: '2026-11-25T08:00:00Z' }),
        level('l6', '20578-1', 20, 'mmol/L', '2026-11-25T08:00:00Z'),
      ]),
      { patientId: 'p1', now: NOW },
    );
    expect(f.drugLevels).toEqual([
      { drug: 'vancomycin', loinc: '4089-9', mgL: 31, time: '2026-11-24T09:30:00.000Z', source: { reference: 'Observation/l1', date: '2026-11-24T10:30:00+01:00', via: 'prefetch' } },
      { drug: 'vancomycin', loinc: '4090-7', mgL: 12.5, time: '2026-11-25T07:30:00.000Z', source: { reference: 'Observation/l2', date: '2026-11-25T07:30:00Z', via: 'prefetch' } },
    ]);
    expect(f.notes.join('\n')).toMatch(/Observation\/l3 .*status preliminary/);
    expect(f.notes.join('\n')).toMatch(/Observation\/l4 ignored: subject is not the patient/);
    expect(f.notes.join('\n')).toMatch(/Observation\/l5 .*no sampling date-time/);
    expect(f.notes.join('\n')).toMatch(/Observation\/l6 .*no plausible value/);
  });
});

describe('vancomycin administrations in PatientFacts', () => {
  test('periods kept, g → mg, end from the rate, or assumed 1 h per g with a note; others ignored', () => {
    const f = extractFacts(
      gather([
        admin('a1', {}),
        admin('a2', { effectivePeriod: { start: '2026-11-24T20:00:00Z' }, dosage: { dose: { value: 1.5, unit: 'g', system: UCUM, code: 'g' } } }),
        admin('a3', {
          effectivePeriod: undefined as never,
          effectiveDateTime: '2026-11-25T08:00:00Z',
          dosage: { dose: { value: 1, unit: 'g', system: UCUM, code: 'g' }, rateRatio: { numerator: { value: 500, system: UCUM, code: 'mg' }, denominator: { value: 1, system: UCUM, code: 'h' } } },
        }),
        admin('a4', { status: 'entered-in-error' }),
        admin('a5', { subject: { reference: 'Patient/other' } }),
        admin('a6', { medicationCodeableConcept: { text: 'cefazolin 2 g' } }),
        admin('a7', { medicationCodeableConcept: { text: 'Vancocin 1 g IV' }, status: 'in-progress' }),
      ]),
      { patientId: 'p1', now: NOW },
    );
    const a = f.administrations!;
    expect(a.map((x) => x.source.reference)).toEqual(['MedicationAdministration/a1', 'MedicationAdministration/a7', 'MedicationAdministration/a2', 'MedicationAdministration/a3']);
    expect(a[0]).toMatchObject({ drug: 'vancomycin', amountMg: 1500, start: '2026-11-24T08:00:00.000Z', end: '2026-11-24T09:30:00.000Z' });
    expect(a[0]!.endNote).toBeUndefined();
    expect(a[2]).toMatchObject({ amountMg: 1500, start: '2026-11-24T20:00:00.000Z', end: '2026-11-24T21:30:00.000Z' });
    expect(a[2]!.endNote).toMatch(/assumed to last 1 h per g/);
    expect(a[3]).toMatchObject({ amountMg: 1000, start: '2026-11-25T08:00:00.000Z', end: '2026-11-25T10:00:00.000Z' });
    expect(a[3]!.endNote).toMatch(/rate \(500 mg\/h\)/);
    expect(f.notes.join('\n')).toMatch(/MedicationAdministration\/a4 \(administration\) ignored: status entered-in-error/);
    expect(f.notes.join('\n')).toMatch(/MedicationAdministration\/a5 ignored/);
  });
});

describe('recommendVancomycin edge cases', () => {
  const models = loadPkModels();
  const order: DraftOrder = { ref: 'MedicationRequest/x', resource: { resourceType: 'MedicationRequest', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' } }, drugs: [] };
  const base = (over: Partial<PatientFacts> = {}): PatientFacts => ({
    patientId: 'p1',
    ageYears: { value: 60, source: { reference: 'Patient/p1' } },
    sex: { value: 'male', source: { reference: 'Patient/p1' } },
    weight: { value: { value: 80, unit: 'kg' }, source: { reference: 'Observation/w', date: '2026-11-24' } },
    serumCreatinine: { value: { value: 1, unit: 'mg/dL' }, source: { reference: 'Observation/c', date: '2026-11-24' } },
    genes: [],
    medications: [],
    conditions: [],
    unavailable: [],
    notes: [],
    ...over,
  });
  const opts = { now: NOW, newId: () => 'id', creatinineMaxAgeDays: 30 };

  test('a dose whose end is before its start (module throws) → missing-data, no dose', () => {
    const r = recommendVancomycin(base({ administrations: [{ drug: 'vancomycin', amountMg: 1000, start: '2026-11-24T08:00:00Z', end: '2026-11-24T07:00:00Z', source: { reference: 'MedicationAdministration/a' } }] }), order, models, opts);
    expect(r.kind).toBe('missing-data');
    expect(r.proposedDose).toBeUndefined();
    expect(r.notes.join(' ')).toMatch(/could not use these data/);
  });

  test('stale creatinine and a child → missing-data', () => {
    expect(recommendVancomycin(base({ serumCreatinine: { value: { value: 1, unit: 'mg/dL' }, source: { reference: 'Observation/c', date: '2026-09-01' } } }), order, models, opts).kind).toBe('missing-data');
    expect(recommendVancomycin(base({ ageYears: { value: 10, source: { reference: 'Patient/p1' } } }), order, models, opts).missing.join(' ')).toMatch(/adult/);
  });

  // Goti 2018 has haemodialysis covariates (intermittent HD); CRRT and peritoneal dialysis are outside the model.
  test.each<[string, string, string, 'hd' | 'none']>([
    ['hemodialysis 2 days ago → the HD covariates', '302497006', 'Hemodialysis', 'hd'],
    ['CRRT in the last week → no dose: the model does not cover CRRT', '714749008', 'Continuous renal replacement therapy', 'none'],
    ['peritoneal dialysis → no dose: the model does not cover it', '71192002', 'Peritoneal dialysis', 'none'],
  ])('dialysis from a Procedure: %s', (_n, code, display, expected) => {
    const facts = base({
      dialysisProcedures: [
        { kind: code === '302497006' ? 'hemodialysis' : code === '714749008' ? 'crrt' : 'peritoneal', code: { system: 'http://snomed.info/sct', code, display }, status: 'completed', date: '2026-11-23T10:00:00Z', ongoing: false, source: { reference: 'Procedure/d1' } },
      ],
    });
    const dialysis = dialysisStatus(defaultRenalKnowledge(), facts, NOW);
    expect(dialysis.onDialysis).toBe(true);
    const r = recommendVancomycin(facts, order, models, { ...opts, dialysis });
    expect(r.inputs.find((i) => i.key === 'dialysisProcedure')?.source?.reference).toBe('Procedure/d1');
    if (expected === 'hd') {
      expect(r.kind).toBe('dose');
      // the same patient without dialysis gets a different (creatinine-based) clearance
      expect(r.tdm!.proposed.auc24).toBeGreaterThan(0);
      expect(recommendVancomycin(base(), order, models, opts).tdm!.proposed).not.toEqual(r.tdm!.proposed);
    } else {
      expect(r.kind).toBe('missing-data');
      expect(r.proposedDose).toBeUndefined();
      expect(r.missing.join(' ')).toMatch(/covers intermittent haemodialysis only/);
    }
  });

  test('first regimen: tdm detail carries the AUC band and the proposed-start curve; timing every τ h', () => {
    const r = recommendVancomycin(base(), order, models, opts);
    expect(r.kind).toBe('dose');
    expect(r.method.id).toBe('tdm-goti2018-prior');
    expect(r.proposedDose?.timing).toEqual({ frequency: 1, period: r.tdm!.proposed.intervalH, periodUnit: 'h' });
    expect(r.interval).toBeUndefined();
    expect(r.tdm!.proposed.band.p10).toBeLessThan(r.tdm!.proposed.auc24);
    expect(r.tdm!.curve.kind).toBe('proposed-start');
    expect(r.tdm!.curve.points.length).toBeGreaterThan(10);
    expect(r.tdm!.loading?.doseMg).toBe(2000);
  });
});
