// Weekly tablet schedules (one strength, whole/half tablets) and the FHIR → model input mapping for indications.
import type { MedicationRequest } from 'fhir/r4';
import { tabletSchedule, WARFARIN_TABLETS_MG } from '../../src/dosing/warfarin/schedule.js';
import { warfarinIndications, warfarinModelInput } from '../../src/dosing/warfarin/modelInput.js';
import type { ConditionFact, PatientFacts } from '../../src/domain/facts.js';
import { encodeFeatures, FEATURE_COLUMNS } from '../../src/model/features.js';

describe('tabletSchedule', () => {
  // Worked examples: a weekly dose that one daily dose of whole tablets reaches exactly must be chosen as such.
  test.each([
    [35, '5 mg daily (5 mg tablets)', 35],
    [17.5, '2.5 mg daily (2.5 mg tablets)', 17.5],
    [70, '10 mg daily (10 mg tablets)', 70],
    [28, '4 mg daily (4 mg tablets)', 28],
    [60, '10 mg daily except 5 mg on Mon, Thu (10 mg tablets)', 60],
  ])('%p mg/week → %s', (weekly, text, total) => {
    const s = tabletSchedule(weekly)!;
    expect(s.text).toBe(text);
    expect(s.weeklyMg).toBe(total);
  });

  test('every schedule is made of whole or half tablets of one listed strength, at most 2 tablets a day, within 2.5% (or 0.5 mg) of the weekly target', () => {
    for (let w = 3.5; w <= 105; w += 0.25) {
      const s = tabletSchedule(w)!;
      expect(WARFARIN_TABLETS_MG).toContain(s.strengthMg);
      for (const d of [s.usualMg, ...(s.otherDays > 0 ? [s.otherMg] : [])]) {
        expect(Number.isInteger(Math.round((d / (s.strengthMg / 2)) * 1e9) / 1e9)).toBe(true);
        expect(d).toBeLessThanOrEqual(2 * s.strengthMg);
        expect(d).toBeGreaterThan(0);
      }
      expect(s.weeklyMg).toBeCloseTo((7 - s.otherDays) * s.usualMg + s.otherDays * s.otherMg, 9);
      expect(Math.abs(s.weeklyMg - w)).toBeLessThanOrEqual(Math.max(0.5, 0.025 * w) + 1e-9);
    }
  });

  test.each([0, -5, Number.NaN, Number.POSITIVE_INFINITY])('no schedule for %p', (w) => {
    expect(tabletSchedule(w)).toBeUndefined();
  });
});

describe('warfarinIndications (model input; codes from SNOMED CT and ICD-10-CM)', () => {
  const cond = (system: string | undefined, code: string | undefined, text: string): ConditionFact => ({
    codes: [{ ...(system ? { system } : {}), ...(code ? { code } : {}), display: text }],
    text,
    source: { reference: 'Condition/1' },
  });
  const order = (reason?: MedicationRequest['reasonCode']): { resource: MedicationRequest; drugs: [] } => ({
    resource: { resourceType: 'MedicationRequest', status: 'draft', intent: 'order', subject: { reference: 'Patient/p' }, ...(reason ? { reasonCode: reason } : {}) },
    drugs: [],
  });
  test.each([
    ['SNOMED atrial fibrillation 49436004', cond('http://snomed.info/sct', '49436004', 'Atrial fibrillation'), ['AtrialFibrillation']],
    ['SNOMED pulmonary embolism 59282003', cond('http://snomed.info/sct', '59282003', 'Pulmonary embolism'), ['VTE']],
    ['ICD-10-CM I48.91 unspecified AF', cond('http://hl7.org/fhir/sid/icd-10-cm', 'I48.91', 'AF'), ['AtrialFibrillation']],
    ['ICD-10-CM I82.401 DVT', cond('http://hl7.org/fhir/sid/icd-10-cm', 'I82.401', 'Acute DVT'), ['VTE']],
    ['ICD-10-CM Z95.2 prosthetic heart valve', cond('http://hl7.org/fhir/sid/icd-10-cm', 'Z95.2', 'Presence of prosthetic heart valve'), ['HeartValve']],
    ['text only: transient ischemic attack', cond(undefined, undefined, 'Transient ischemic attack'), ['Stroke']],
    ['unrelated: hypertension (SNOMED 38341003)', cond('http://snomed.info/sct', '38341003', 'Hypertension'), []],
  ])('%s', (_n, c, expected) => {
    expect(warfarinIndications([c], order() as never)).toEqual(expected);
  });
  test('the order reasonCode counts too, and several indications are all kept (sorted)', () => {
    const o = order([{ coding: [{ system: 'http://snomed.info/sct', code: '128053003', display: 'Deep venous thrombosis' }] }]);
    expect(warfarinIndications([cond('http://snomed.info/sct', '49436004', 'Atrial fibrillation')], o as never)).toEqual(['AtrialFibrillation', 'VTE']);
  });
});

describe('warfarinModelInput: target INR from the chart (the goal the card states; 2020 ACC/AHA valve guideline, CHEST 2012)', () => {
  const cond = (ref: string, text: string, codes: ConditionFact['codes'] = []): ConditionFact => ({ codes, text, source: { reference: `Condition/${ref}` } });
  const facts = (conditions: ConditionFact[]): PatientFacts => ({ patientId: 'p', genes: [], medications: [], conditions, unavailable: [] }) as unknown as PatientFacts;
  const order = { resource: { resourceType: 'MedicationRequest', status: 'draft', intent: 'order', subject: { reference: 'Patient/p' } }, drugs: [] };
  const basis = { amiodarone: false, enzymeInducer: false };
  test.each([
    ['mechanical mitral valve → 3.0 (2.5–3.5)', [cond('mv', 'Mechanical mitral valve replacement (St. Jude)')], 3.0],
    ['mechanical aortic valve, no risk factor → 2.5', [cond('av', 'Mechanical aortic valve prosthesis')], 2.5],
    ['atrial fibrillation → 2.5 (2.0–3.0)', [cond('af', 'Atrial fibrillation', [{ system: 'http://snomed.info/sct', code: '49436004' }])], 2.5],
    ['no indication on file → not set (the model assumes 2.5)', [cond('htn', 'Hypertension', [{ system: 'http://snomed.info/sct', code: '38341003' }])], undefined],
  ])('%s', (_n, conditions, expected) => {
    const i = warfarinModelInput(facts(conditions), order as never, basis);
    expect(i.targetInr).toBe(expected);
  });
  test('the model column is target INR − 2.5, 0 when not on file', () => {
    const col = FEATURE_COLUMNS.findIndex((c) => c.name === 'target_inr_minus_2_5');
    const base = { amiodarone: false, enzymeInducer: false };
    expect(encodeFeatures({ ...base, targetInr: 3 })[col]).toBeCloseTo(0.5, 12);
    expect(encodeFeatures(base)[col]).toBe(0);
  });
});
