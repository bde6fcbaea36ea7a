// Kidney function formulas against the reference check values (../shared/reference/dosing-formulas.md, "Kidney function").
import type { PatientFacts } from '../../src/domain/facts.js';
import {
  adjustedBodyWeight,
  bodySurfaceArea,
  ckdEpi2021,
  cockcroftGault,
  creatinineForDosing,
  dosingWeight,
  idealBodyWeight,
} from '../../src/dosing/renal/kidney.js';
import { extractFacts } from '../../src/fhir/facts.js';
import type { GatherResult } from '../../src/fhir/gather.js';
import { patient, vital } from '../fixtures/synthetic-patients.js';

describe('CKD-EPI 2021 race-free eGFR (reference check values, mL/min/1.73 m², 1 decimal)', () => {
  test.each([
    ['female', 60, 1.0, 64.5],
    ['male', 50, 1.2, 73.7],
    ['female', 70, 2.0, 26.4],
  ] as const)('%s %i y, Scr %f mg/dL → %f', (sex, age, scr, expected) => {
    expect(Number(ckdEpi2021({ ageYears: age, scrMgDl: scr, sex }).toFixed(1))).toBe(expected);
  });
  test('continuous at the knot (Scr = κ)', () => {
    const at = ckdEpi2021({ ageYears: 50, scrMgDl: 0.9, sex: 'male' });
    expect(ckdEpi2021({ ageYears: 50, scrMgDl: 0.9 + 1e-9, sex: 'male' })).toBeCloseTo(at, 6);
    expect(at).toBeCloseTo(142 * 0.9938 ** 50, 9);
  });
});

describe('Cockcroft-Gault creatinine clearance', () => {
  test('reference check value: 70 kg, 40 y man, Scr 0.9 → 108.0 mL/min', () => {
    expect(Number(cockcroftGault({ ageYears: 40, weightKg: 70, scrMgDl: 0.9, sex: 'male' }).toFixed(1))).toBe(108.0);
  });
  test('× 0.85 for a woman', () => {
    expect(cockcroftGault({ ageYears: 40, weightKg: 70, scrMgDl: 0.9, sex: 'female' })).toBeCloseTo(108.0247 * 0.85, 3);
  });
});

describe('body weights (Devine IBW; AdjBW = IBW + 0.4 × (TBW − IBW))', () => {
  test.each([
    // 5 ft = 152.4 cm → 50 / 45.5 kg; 6 ft = 182.88 cm → +12 in × 2.3 = 27.6 kg
    [152.4, 'male', 50],
    [152.4, 'female', 45.5],
    [182.88, 'male', 77.6],
    [182.88, 'female', 73.1],
    [170, 'male', 50 + 2.3 * (170 / 2.54 - 60)],
  ] as const)('IBW %f cm %s → %f kg', (cm, sex, kg) => {
    expect(idealBodyWeight(cm, sex)).toBeCloseTo(kg, 6);
  });
  test('AdjBW: 120 kg, IBW 77.6 → 94.56 kg', () => {
    expect(adjustedBodyWeight(120, 77.6)).toBeCloseTo(94.56, 6);
  });
  test('dosingWeight: the label basis, and actual weight when the patient weighs less than IBW', () => {
    expect(dosingWeight('actual', 120, undefined, 'male')).toMatchObject({ kg: 120, basis: 'actual' });
    expect(dosingWeight('ideal', 120, 182.88, 'male')).toMatchObject({ basis: 'ideal' });
    expect((dosingWeight('ideal', 120, 182.88, 'male') as { kg: number }).kg).toBeCloseTo(77.6, 6);
    expect((dosingWeight('adjusted', 120, 182.88, 'male') as { kg: number }).kg).toBeCloseTo(94.56, 6);
    expect(dosingWeight('ideal', 60, 182.88, 'male')).toMatchObject({ kg: 60, basis: 'actual' });
    expect(dosingWeight('adjusted', 120, undefined, 'male')).toHaveProperty('missing');
  });
  test('Mosteller BSA: 180 cm, 80 kg → 2.00 m²', () => {
    expect(bodySurfaceArea(180, 80)).toBeCloseTo(2, 6);
  });
});

describe('creatinine freshness (hook time passed in)', () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const facts = (date?: string): PatientFacts => ({
    patientId: 'p',
    genes: [],
    medications: [],
    conditions: [],
    unavailable: [],
    notes: [],
    serumCreatinine: { value: { value: 1.1, unit: 'mg/dL' }, source: { reference: 'Observation/cr', ...(date ? { date } : {}) } },
  });
  test.each([
    ['2026-11-25T08:00:00Z', 30, 'ok'],
    ['2026-10-26T12:00:00Z', 30, 'ok'], // exactly 30 days
    ['2026-10-26T11:00:00Z', 30, 'stale'], // 30 days and 1 hour
    ['2026-11-17T12:00:00Z', 7, 'stale'],
    ['2026-11-18T12:00:00Z', 7, 'ok'],
    [undefined, 30, 'stale'], // undated: its age cannot be known
  ] as const)('%s with a limit of %i days → %s', (date, limit, status) => {
    expect(creatinineForDosing(facts(date), now, limit).status).toBe(status);
  });
  test('none on file → missing, naming the LOINC code', () => {
    const f = facts();
    delete f.serumCreatinine;
    expect(creatinineForDosing(f, now, 30)).toEqual({ status: 'missing', reason: 'serum creatinine (LOINC 2160-0)' });
  });
  test('the stale reason names the limit and the date', () => {
    const r = creatinineForDosing(facts('2026-09-01'), now, 30);
    expect(r.status === 'stale' && r.reason).toMatch(/last 30 days.*2026-09-01/);
  });
});

describe('creatinine units are converted upstream (extractFacts)', () => {
  test('µmol/L ÷ 88.4 = mg/dL, by UCUM code', () => {
    const g: GatherResult = {
      byKey: {
        patient: { status: 'prefetch', resources: [patient('u1', '1960-01-01', 'male')] },
        renal: { status: 'prefetch', resources: [vital('cr1', 'u1', '2160-0', 'Creatinine', 176.8, 'umol/L', 'µmol/L', '2026-11-20')] },
      },
      fhirCalls: 0,
      fhirMs: 0,
    } as unknown as GatherResult;
    const f = extractFacts(g, { patientId: 'u1', now: new Date('2026-11-25T00:00:00Z') });
    expect(f.serumCreatinine?.value.unit).toBe('mg/dL');
    expect(f.serumCreatinine?.value.value).toBeCloseTo(2.0, 6);
  });
});
