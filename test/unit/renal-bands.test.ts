// Renal dose bands: every drug of knowledge/renal-bands.json, its band boundaries and the evaluator's decisions.
// Source of each expectation: the US label section named on the drug in knowledge/renal-bands.json.
import type { DraftOrder } from '../../src/cds/orders.js';
import type { ConditionFact, DialysisKind, DialysisProcedureFact, PatientFacts } from '../../src/domain/facts.js';
import { bandFor, dialysisStatus, evaluateRenal, findCondition } from '../../src/dosing/renal/evaluator.js';
import { loadRenalKnowledge, type RenalDrug } from '../../src/knowledge/renal.js';

const k = loadRenalKnowledge();
const NOW = new Date('2026-11-25T12:00:00Z');
let n = 0;
const newId = () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`;
const drug = (name: string): RenalDrug => {
  const d = k.drugs.find((x) => x.name === name);
  if (!d) throw new Error(name);
  return d;
};

const AF: ConditionFact = { codes: [{ system: 'http://snomed.info/sct', code: '49436004', display: 'Atrial fibrillation' }], text: 'Atrial fibrillation', source: { reference: 'Condition/af' } };
const AF_ICD: ConditionFact = { codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'I48.91' }], text: '', source: { reference: 'Condition/af2' } };
const DIALYSIS: ConditionFact = { codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'Z99.2', display: 'Dependence on renal dialysis' }], text: 'Dependence on renal dialysis', source: { reference: 'Condition/hd' } };
const ESRD: ConditionFact = { codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'N18.6' }], text: '', source: { reference: 'Condition/esrd' } };
const HD_TEXT: ConditionFact = { codes: [], text: 'On haemodialysis three times a week (hemodialysis)', source: { reference: 'Condition/hd-text' } };

/** A 40-year-old man of 72 kg: Cockcroft-Gault CrCl = 100 / Scr mL/min, so Scr = 100 / target CrCl. */
function facts(o: { crcl?: number; scr?: number; age?: number; kg?: number; sex?: 'male' | 'female'; cm?: number; conditions?: ConditionFact[]; scrDate?: string; omit?: ('age' | 'weight' | 'sex' | 'creatinine')[] } = {}): PatientFacts {
  const scr = o.scr ?? 100 / (o.crcl ?? 100);
  const f: PatientFacts = {
    patientId: 'p1',
    ageYears: { value: o.age ?? 40, source: { reference: 'Patient/p1' } },
    sex: { value: o.sex ?? 'male', source: { reference: 'Patient/p1' } },
    weight: { value: { value: o.kg ?? 72, unit: 'kg' }, source: { reference: 'Observation/wt', date: '2026-11-20' } },
    ...(o.cm ? { height: { value: { value: o.cm, unit: 'cm' }, source: { reference: 'Observation/ht', date: '2026-11-20' } } } : {}),
    serumCreatinine: { value: { value: scr, unit: 'mg/dL' }, source: { reference: 'Observation/cr', date: o.scrDate ?? '2026-11-24' } },
    genes: [],
    medications: [],
    conditions: o.conditions ?? [],
    unavailable: [],
    notes: [],
  };
  for (const x of o.omit ?? []) {
    if (x === 'age') delete f.ageYears;
    if (x === 'weight') delete f.weight;
    if (x === 'sex') delete f.sex;
    if (x === 'creatinine') delete f.serumCreatinine;
  }
  return f;
}
function order(mg?: number, perDay?: number): DraftOrder {
  return {
    ref: 'MedicationRequest/d1',
    resource: { resourceType: 'MedicationRequest', id: 'd1', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' } },
    drugs: [],
    ...(mg !== undefined ? { currentDose: { value: mg, unit: 'mg', ...(perDay !== undefined ? { frequencyPerDay: perDay } : {}) } } : {}),
  };
}
const evaluate = (name: string, f: PatientFacts, o: DraftOrder, maxAge?: number) =>
  evaluateRenal(k, drug(name), f, o, { now: NOW, newId, ...(maxAge !== undefined ? { creatinineMaxAgeDays: maxAge } : {}) });

describe('knowledge/renal-bands.json', () => {
  test('has provenance with the "verify against the current label" note, and at least 10 drugs', () => {
    expect(k.provenance.note).toMatch(/VERIFY EACH ROW AGAINST THE CURRENT LABEL/);
    expect(k.drugs.length).toBeGreaterThanOrEqual(10);
    for (const d of k.drugs) {
      expect(d.label.title).toMatch(/prescribing information/);
      expect(d.label.section).toBeTruthy();
      expect(d.rxcui).toMatch(/^\d+$/);
    }
  });
  test('threshold bands of each drug cover every value once (no gap, no overlap)', () => {
    for (const d of k.drugs.filter((x) => x.measure.kind !== 'criteria')) {
      for (let v = 0; v <= 200; v += 0.1) {
        const x = Math.round(v * 10) / 10;
        const hits = d.bands.filter((b) => (b.gte === undefined || x >= b.gte) && (b.gt === undefined || x > b.gt) && (b.lt === undefined || x < b.lt) && (b.lte === undefined || x <= b.lte));
        expect([d.name, x, hits.length]).toEqual([d.name, x, 1]);
      }
    }
  });
});

describe('band boundaries (label tables)', () => {
  test.each([
    // gabapentin, NEURONTIN 2.4 Table 1
    ['gabapentin', 60.0, 'gabapentin-crcl-60-plus'],
    ['gabapentin', 59.9, 'gabapentin-crcl-30-59'],
    ['gabapentin', 30.0, 'gabapentin-crcl-30-59'],
    ['gabapentin', 29.9, 'gabapentin-crcl-15-29'],
    ['gabapentin', 15.0, 'gabapentin-crcl-15-29'],
    ['gabapentin', 14.9, 'gabapentin-crcl-below-15'],
    // pregabalin, LYRICA 2.5 Table 1
    ['pregabalin', 60.0, 'pregabalin-crcl-60-plus'],
    ['pregabalin', 59.9, 'pregabalin-crcl-30-59'],
    ['pregabalin', 29.9, 'pregabalin-crcl-15-29'],
    ['pregabalin', 14.9, 'pregabalin-crcl-below-15'],
    // levetiracetam, KEPPRA 2.6 Table 1 (mL/min/1.73 m²)
    ['levetiracetam', 80.1, 'levetiracetam-crcl-above-80'],
    ['levetiracetam', 80.0, 'levetiracetam-crcl-50-80'],
    ['levetiracetam', 50.0, 'levetiracetam-crcl-50-80'],
    ['levetiracetam', 49.9, 'levetiracetam-crcl-30-49'],
    ['levetiracetam', 29.9, 'levetiracetam-crcl-below-30'],
    // enoxaparin, LOVENOX 2.3
    ['enoxaparin', 30.0, 'enoxaparin-crcl-30-plus'],
    ['enoxaparin', 29.9, 'enoxaparin-crcl-below-30'],
    // rivaroxaban (AF), XARELTO 2.2
    ['rivaroxaban', 50.1, 'rivaroxaban-af-crcl-above-50'],
    ['rivaroxaban', 50.0, 'rivaroxaban-af-crcl-15-50'],
    ['rivaroxaban', 15.0, 'rivaroxaban-af-crcl-15-50'],
    ['rivaroxaban', 14.9, 'rivaroxaban-af-crcl-below-15'],
    // dabigatran (AF, US), PRADAXA 2.3
    ['dabigatran', 30.1, 'dabigatran-af-crcl-above-30'],
    ['dabigatran', 30.0, 'dabigatran-af-crcl-15-30'],
    ['dabigatran', 15.0, 'dabigatran-af-crcl-15-30'],
    ['dabigatran', 14.9, 'dabigatran-af-crcl-below-15'],
    // metformin, GLUCOPHAGE 2.3 / 4 (eGFR)
    ['metformin', 29, 'metformin-egfr-below-30'],
    ['metformin', 29.9, 'metformin-egfr-below-30'],
    ['metformin', 30, 'metformin-egfr-30-44'],
    ['metformin', 44.9, 'metformin-egfr-30-44'],
    ['metformin', 45, 'metformin-egfr-45-plus'],
    // nitrofurantoin, MACROBID Contraindications
    ['nitrofurantoin', 59, 'nitrofurantoin-crcl-below-60'],
    ['nitrofurantoin', 59.9, 'nitrofurantoin-crcl-below-60'],
    ['nitrofurantoin', 60, 'nitrofurantoin-crcl-60-plus'],
    // sitagliptin, JANUVIA 2.2 (eGFR)
    ['sitagliptin', 45, 'sitagliptin-egfr-45-plus'],
    ['sitagliptin', 44.9, 'sitagliptin-egfr-30-44'],
    ['sitagliptin', 30, 'sitagliptin-egfr-30-44'],
    ['sitagliptin', 29.9, 'sitagliptin-egfr-below-30'],
  ] as const)('%s at %f → %s', (name, v, id) => {
    expect(bandFor(drug(name), v)?.id).toBe(id);
  });
  test('the value is compared as displayed (rounded to 0.1): 59.96 counts as 60.0', () => {
    expect(bandFor(drug('gabapentin'), 59.96)?.id).toBe('gabapentin-crcl-60-plus');
    expect(bandFor(drug('gabapentin'), 59.94)?.id).toBe('gabapentin-crcl-30-59');
  });
});

describe('conditions: AF and dialysis codes', () => {
  test.each([
    [AF, 'atrialFibrillation', true],
    [AF_ICD, 'atrialFibrillation', true],
    [DIALYSIS, 'atrialFibrillation', false],
    [DIALYSIS, 'dialysis', true],
    [ESRD, 'dialysis', true],
    [HD_TEXT, 'dialysis', true],
    [{ codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'Z992' }], text: '', source: { reference: 'Condition/x' } }, 'dialysis', true],
    [{ codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'N18.5' }], text: 'CKD stage 5', source: { reference: 'Condition/x' } }, 'dialysis', false],
  ] as const)('%#: %j is %s → %s', (c, set, expected) => {
    expect(findCondition([c as ConditionFact], k.conditionCodes[set]) !== undefined).toBe(expected);
  });
});

describe('range drugs (gabapentin, pregabalin, levetiracetam): a card only above the band maximum, never an automatic dose', () => {
  test.each([
    // [drug, CrCl, dose mg, per day, kind, card]
    ['gabapentin', 25, 600, 3, 'dose-adjustment', true], // 1800 mg/day > 700
    ['gabapentin', 25, 300, 2, 'info', false], // 600 within 200–700
    ['gabapentin', 25, 700, 1, 'info', false], // at the maximum
    ['gabapentin', 59.9, 600, 3, 'dose-adjustment', true], // 1800 > 1400
    ['gabapentin', 60, 600, 3, 'info', false], // normal band
    ['gabapentin', 10, 300, 1, 'info', false], // 300 within 100–300
    ['gabapentin', 10, 400, 1, 'dose-adjustment', true],
    ['pregabalin', 20, 75, 2, 'info', false], // 150 within 25–150
    ['pregabalin', 20, 100, 2, 'dose-adjustment', true], // 200 > 150
    ['pregabalin', 40, 150, 2, 'info', false], // 300 within 75–300
  ] as const)('%s CrCl %f, %f mg × %f/day → %s', (name, crcl, mg, perDay, kind, card) => {
    const r = evaluate(name, facts({ crcl }), order(mg, perDay));
    expect(r.kind).toBe(kind);
    expect(r.renal?.showCard).toBe(card);
    expect(r.proposedDose).toBeUndefined();
    if (card) {
      expect(r.severity).toBe('warning');
      expect(r.headline.length).toBeLessThan(140);
      expect(r.renal?.band?.dailyMg).toBeDefined();
    }
  });
  test('no draft dose yet, impaired band → an info note with the range; normal band → nothing', () => {
    const r = evaluate('gabapentin', facts({ crcl: 25 }), order());
    expect([r.kind, r.severity, r.renal?.showCard]).toEqual(['info', 'info', true]);
    expect(r.headline).toMatch(/200–700 mg\/day/);
    expect(evaluate('gabapentin', facts({ crcl: 90 }), order()).renal?.showCard).toBe(false);
  });
  test('levetiracetam uses CrCl per 1.73 m² (label) and needs the height', () => {
    // 40 y man, 72 kg, 180 cm: CG 100/Scr; BSA = sqrt(180×72/3600) = 1.897 m²
    const r = evaluate('levetiracetam', facts({ crcl: 40, cm: 180 }), order(1000, 2));
    expect(r.renal?.measure?.unit).toBe('mL/min/1.73 m²');
    expect(r.renal?.measure?.value).toBeCloseTo((40 / Math.sqrt((180 * 72) / 3600)) * 1.73, 1);
    expect(r.renal?.band?.id).toBe('levetiracetam-crcl-30-49');
    expect(r.kind).toBe('dose-adjustment'); // 2000 mg/day > 1500
    const noHeight = evaluate('levetiracetam', facts({ crcl: 40 }), order(1000, 2));
    expect(noHeight.kind).toBe('missing-data');
    expect(noHeight.missing.join()).toMatch(/height/);
  });
});

describe('fixed-dose bands: an update to the label dose', () => {
  test.each([
    // [drug, facts, draft mg, per day, proposed mg, per day]
    ['rivaroxaban', { crcl: 40, conditions: [AF] }, 20, 1, 15, 1],
    ['rivaroxaban', { crcl: 50, conditions: [AF_ICD] }, 20, 1, 15, 1],
    ['dabigatran', { crcl: 25, conditions: [AF] }, 150, 2, 75, 2],
    ['dabigatran', { crcl: 30, conditions: [AF] }, 150, 2, 75, 2],
    ['enoxaparin', { crcl: 20 }, 40, 1, 30, 1], // prophylaxis
    ['enoxaparin', { crcl: 20 }, 30, 2, 30, 1], // prophylaxis, twice daily → once daily
    ['sitagliptin', { scr: 2.0, age: 70, sex: 'female' }, 100, 1, 25, 1], // eGFR 26.4
  ] as const)('%s %j: %f mg × %f → %f mg × %f', (name, f, mg, perDay, toMg, toPerDay) => {
    const r = evaluate(name, facts(f as Parameters<typeof facts>[0]), order(mg, perDay));
    expect(r.kind).toBe('dose-adjustment');
    expect(r.severity).toBe('warning');
    expect(r.proposedDose?.perDose).toEqual({ value: toMg, unit: 'mg' });
    expect(r.proposedDose?.timing).toEqual({ frequency: toPerDay, period: 1, periodUnit: 'd' });
    expect(r.renal?.showCard).toBe(true);
  });
  test.each([
    ['rivaroxaban', { crcl: 40, conditions: [AF] }, 15, 1],
    ['rivaroxaban', { crcl: 51, conditions: [AF] }, 20, 1],
    ['dabigatran', { crcl: 25, conditions: [AF] }, 75, 2],
    ['enoxaparin', { crcl: 20 }, 30, 1],
    ['enoxaparin', { crcl: 45 }, 40, 1],
  ] as const)('%s %j, draft already %f mg × %f → no card', (name, f, mg, perDay) => {
    const r = evaluate(name, facts(f as Parameters<typeof facts>[0]), order(mg, perDay));
    expect(r.kind).toBe('info');
    expect(r.renal?.showCard).toBe(false);
  });
  test('avoid bands: rivaroxaban and dabigatran below CrCl 15 (AF) → critical, no dose', () => {
    for (const name of ['rivaroxaban', 'dabigatran']) {
      const r = evaluate(name, facts({ crcl: 12, conditions: [AF] }), order(15, 1));
      expect([r.kind, r.severity, r.renal?.action, r.proposedDose]).toEqual(['alternative', 'critical', 'avoid', undefined]);
    }
  });
  test('enoxaparin treatment dose (draft > 40 mg) at CrCl < 30: states 1 mg/kg once daily, no automatic update', () => {
    const r = evaluate('enoxaparin', facts({ crcl: 20, kg: 80 }), order(80, 2));
    expect(r.kind).toBe('dose-adjustment');
    expect(r.proposedDose).toBeUndefined();
    expect(r.notes.join(' ')).toMatch(/1 mg\/kg once daily \(SC\) = 80 mg for 80 kg/);
    expect(evaluate('enoxaparin', facts({ crcl: 20, kg: 80 }), order(80, 1)).renal?.showCard).toBe(false);
  });
});

describe('DOACs: the AF bands only when AF is on the problem list', () => {
  test.each(['rivaroxaban', 'dabigatran'])('%s without AF, CrCl in a reduced band → informational note, no dose', (name) => {
    const r = evaluate(name, facts({ crcl: 25 }), order(name === 'rivaroxaban' ? 20 : 150, name === 'rivaroxaban' ? 1 : 2));
    expect([r.kind, r.severity, r.proposedDose]).toEqual(['info', 'info', undefined]);
    expect(r.renal?.action).toBe('note');
    expect(r.renal?.showCard).toBe(true);
    expect(r.notes.join(' ')).toMatch(/not on the problem list/);
  });
  test('without AF and normal kidney function → nothing', () => {
    expect(evaluate('rivaroxaban', facts({ crcl: 90 }), order(20, 1)).renal?.showCard).toBe(false);
  });
  test('without AF and no creatinine → no missing-data card (the band would not apply anyway)', () => {
    const r = evaluate('dabigatran', facts({ omit: ['creatinine'] }), order(150, 2));
    expect(r.kind).toBe('info');
    expect(r.renal?.showCard).toBe(false);
  });
});

describe('apixaban (AF): 2.5 mg twice daily with any 2 of age ≥80, weight ≤60 kg, Scr ≥1.5 mg/dL', () => {
  // every combination of the three criteria
  test.each([
    [false, false, false, false],
    [true, false, false, false],
    [false, true, false, false],
    [false, false, true, false],
    [true, true, false, true],
    [true, false, true, true],
    [false, true, true, true],
    [true, true, true, true],
  ])('age≥80 %s, weight≤60 %s, Scr≥1.5 %s → reduced %s', (old, light, scrHigh, reduced) => {
    const f = facts({ age: old ? 80 : 79, kg: light ? 60 : 60.1, scr: scrHigh ? 1.5 : 1.49, conditions: [AF] });
    const r = evaluate('apixaban', f, order(5, 2));
    if (reduced) {
      expect(r.kind).toBe('dose-adjustment');
      expect(r.proposedDose?.perDose.value).toBe(2.5);
      expect(r.proposedDose?.timing.frequency).toBe(2);
    } else {
      expect(r.kind).toBe('info');
      expect(r.renal?.showCard).toBe(false);
    }
  });
  test('already 2.5 mg twice daily and criteria met → no card', () => {
    expect(evaluate('apixaban', facts({ age: 85, kg: 55, conditions: [AF] }), order(2.5, 2)).renal?.showCard).toBe(false);
  });
  test('a missing criterion only matters when it could change the result', () => {
    // age 85 and weight 55: reduced whatever the creatinine
    const decided = evaluate('apixaban', facts({ age: 85, kg: 55, conditions: [AF], omit: ['creatinine'] }), order(5, 2));
    expect(decided.proposedDose?.perDose.value).toBe(2.5);
    // age 85 only: the creatinine decides → missing data, no dose
    const open = evaluate('apixaban', facts({ age: 85, kg: 70, conditions: [AF], omit: ['creatinine'] }), order(5, 2));
    expect(open.kind).toBe('missing-data');
    expect(open.proposedDose).toBeUndefined();
    expect(open.missing.join()).toMatch(/creatinine/);
  });
});

describe('contraindicated / do-not-start bands', () => {
  test.each([
    // metformin by CKD-EPI 2021 eGFR: woman 70 y Scr 2.0 → 26.4; man 50 y Scr 1.2 → 73.7
    ['metformin', { scr: 2.0, age: 70, sex: 'female' }, 'alternative', 'critical', 'contraindicated'],
    ['metformin', { scr: 1.2, age: 50, sex: 'male' }, 'info', 'info', 'within'],
    ['metformin', { scr: 1.6, age: 70, sex: 'female' }, 'alternative', 'warning', 'do-not-start'], // eGFR ≈ 34
    ['nitrofurantoin', { crcl: 59 }, 'alternative', 'critical', 'contraindicated'],
    ['nitrofurantoin', { crcl: 60 }, 'info', 'info', 'within'],
  ] as const)('%s %j → %s %s (%s)', (name, f, kind, severity, action) => {
    const r = evaluate(name, facts(f as Parameters<typeof facts>[0]), order(500, 2));
    expect([r.kind, r.severity, r.renal?.action]).toEqual([kind, severity, action]);
    expect(r.proposedDose).toBeUndefined();
  });
  test('metformin falls back to the laboratory eGFR when the creatinine cannot be used', () => {
    const f = facts({ omit: ['creatinine'] });
    f.egfr = { value: { value: 25, unit: 'mL/min/{1.73_m2}' }, source: { reference: 'Observation/egfr', date: '2026-11-24' } };
    const r = evaluate('metformin', f, order(500, 2));
    expect(r.renal?.action).toBe('contraindicated');
    expect(r.renal?.measure?.formula).toMatch(/laboratory-reported/);
  });
  test('nitrofurantoin card mentions the Beers criteria threshold', () => {
    expect(evaluate('nitrofurantoin', facts({ crcl: 45 }), order(100, 2)).renal?.band?.text).toMatch(/Beers.*30/);
  });
});

describe('dialysis: no CrCl-based dose; the label dialysis instruction', () => {
  test.each([
    ['gabapentin', 'dose-adjustment', 'warning', /supplemental post-hemodialysis/],
    ['metformin', 'alternative', 'critical', /Contraindicated/],
    ['dabigatran', 'alternative', 'critical', /cannot be provided/],
    ['enoxaparin', 'dose-adjustment', 'warning', /dialysis dosing applies/],
  ] as const)('%s → %s %s', (name, kind, severity, text) => {
    const r = evaluate(name, facts({ crcl: 8, conditions: [DIALYSIS] }), order(300, 1));
    expect([r.kind, r.severity, r.renal?.action]).toEqual([kind, severity, 'dialysis']);
    expect(`${r.headline} ${r.renal?.band?.text ?? ''}`).toMatch(text);
    expect(r.renal?.measure).toBeUndefined();
    expect(r.proposedDose).toBeUndefined();
  });
  test('sitagliptin on dialysis: the label single dose 25 mg once daily', () => {
    const r = evaluate('sitagliptin', facts({ conditions: [ESRD] }), order(100, 1));
    expect(r.proposedDose?.perDose.value).toBe(25);
  });
});

describe('missing or unusable data → no dose, naming what is missing', () => {
  test.each([
    ['creatinine', /serum creatinine/],
    ['weight', /body weight/],
    ['age', /age/],
    ['sex', /sex/],
  ] as const)('gabapentin without %s', (omit, re) => {
    const r = evaluate('gabapentin', facts({ crcl: 25, omit: [omit] }), order(600, 3));
    expect(r.kind).toBe('missing-data');
    expect(r.proposedDose).toBeUndefined();
    expect(r.missing.join(' ')).toMatch(re);
    expect(r.headline.length).toBeLessThan(140);
  });
  test('sex "unknown" cannot be used by Cockcroft-Gault', () => {
    const f = facts({ crcl: 25 });
    f.sex = { value: 'unknown', source: { reference: 'Patient/p1' } };
    expect(evaluate('gabapentin', f, order(600, 3)).missing.join()).toMatch(/male or female/);
  });
  test('a creatinine older than the limit is not used (default 30 days, configurable)', () => {
    const old = facts({ crcl: 25, scrDate: '2026-10-01' });
    const r = evaluate('gabapentin', old, order(600, 3));
    expect(r.kind).toBe('missing-data');
    expect(r.missing.join()).toMatch(/last 30 days/);
    expect(r.notes.join(' ')).toMatch(/order a new value/);
    expect(evaluate('gabapentin', old, order(600, 3), 90).kind).toBe('dose-adjustment');
    expect(evaluate('rivaroxaban', facts({ crcl: 40, scrDate: '2026-11-20', conditions: [AF] }), order(20, 1), 3).kind).toBe('missing-data');
  });
  test('children: adult label bands are not applied', () => {
    const r = evaluate('gabapentin', facts({ crcl: 25, age: 12 }), order(600, 3));
    expect(r.kind).toBe('info');
    expect(r.renal?.showCard).toBe(false);
  });
});

describe('every recommendation explains itself', () => {
  test('inputs with sources, the formula, method + version, label citation', () => {
    const r = evaluate('gabapentin', facts({ crcl: 25, sex: 'female' }), order(600, 3));
    const keys = r.inputs.map((i) => i.key);
    expect(keys).toEqual(expect.arrayContaining(['creatinine', 'age', 'sex', 'weight', 'crcl']));
    expect(r.inputs.find((i) => i.key === 'creatinine')?.source).toEqual({ reference: 'Observation/cr', date: '2026-11-24' });
    expect(r.renal?.measure?.formula).toMatch(/Cockcroft-Gault: \(140 − 40\) × 72 kg \/ \(72 × 4 mg\/dL\) × 0\.85 = 21\.3 mL\/min \(actual body weight 72 kg\)/);
    expect(r.method.id).toBe('renal-bands');
    expect(r.method.version).toMatch(/^1\.2\.0, knowledge 1\.2\.0/);
    expect(r.evidence[0]?.citation).toMatch(/NEURONTIN.*2\.4/);
    expect(r.evidence.map((e) => e.citation).join()).toMatch(/Cockcroft/);
  });
});

describe('configuration and registration', () => {
  test('RENAL_CREATININE_MAX_AGE_DAYS sets renal.creatinineMaxAgeDays, and the registered evaluator uses it', async () => {
    const { loadConfig } = await import('../../src/config.js');
    const { EvaluatorRegistry } = await import('../../src/dosing/registry.js');
    const { registerRenalEvaluators } = await import('../../src/dosing/renal/register.js');
    const { DrugDictionary } = await import('../../src/domain/drugs.js');
    expect(loadConfig({}).renal?.creatinineMaxAgeDays).toBe(30);
    const config = loadConfig({ RENAL_CREATININE_MAX_AGE_DAYS: '2' });
    expect(config.renal?.creatinineMaxAgeDays).toBe(2);
    const registry = registerRenalEvaluators(new EvaluatorRegistry(), { renal: k });
    for (const d of k.drugs) expect(registry.has(d.name)).toBe(true);
    const drugs = DrugDictionary.load();
    const gaba = drugs.identify(['25480'], undefined)[0]!;
    expect(gaba.ingredient).toBe('gabapentin');
    const threeDaysOld = new Date(Date.now() - 3 * 86400000).toISOString();
    const ctx = { facts: facts({ crcl: 25, scrDate: threeDaysOld }), order: order(600, 3), drug: gaba, drugs, newId };
    expect((await registry.evaluate({ ...ctx, config }))[0]?.kind).toBe('missing-data');
    expect((await registry.evaluate({ ...ctx, config: loadConfig({}) }))[0]?.kind).toBe('dose-adjustment');
  });
  test('every drug of the table is recognised by its ingredient code and by name', async () => {
    const { DrugDictionary } = await import('../../src/domain/drugs.js');
    const drugs = DrugDictionary.load();
    for (const d of k.drugs) {
      expect(drugs.identify([d.rxcui], undefined).map((x) => x.ingredient)).toEqual([d.name]);
      expect(drugs.identify([], `${d.name} 10 MG Oral Tablet`).map((x) => x.ingredient)).toContain(d.name);
    }
  });
});

describe('dialysis from Procedures: recent vs old, CRRT, Condition and Procedure', () => {
  // Windows: knowledge policy.dialysisProcedureWindowDays (hemodialysis/peritoneal/unspecified 30 days, CRRT 7 days),
  // rationale in docs/renal.md. Days are counted back from NOW (2026-11-25T12:00Z).
  const CODE: Record<DialysisKind, DialysisProcedureFact['code']> = {
    hemodialysis: { system: 'http://snomed.info/sct', code: '302497006', display: 'Hemodialysis' },
    peritoneal: { system: 'http://snomed.info/sct', code: '71192002', display: 'Peritoneal dialysis' },
    crrt: { system: 'http://snomed.info/sct', code: '714749008', display: 'Continuous renal replacement therapy' },
    dialysis: { system: 'http://www.ama-assn.org/go/cpt', code: '90945', display: 'Dialysis procedure other than hemodialysis, single evaluation' },
  };
  const proc = (id: string, kind: DialysisKind, daysAgo: number | 'ongoing'): DialysisProcedureFact => {
    const date = new Date(NOW.getTime() - (daysAgo === 'ongoing' ? 20 : daysAgo) * 86400000).toISOString();
    return { kind, code: CODE[kind], status: daysAgo === 'ongoing' ? 'in-progress' : 'completed', date, ongoing: daysAgo === 'ongoing', source: { reference: `Procedure/${id}`, date } };
  };
  const withProcs = (procs: DialysisProcedureFact[], o: Parameters<typeof facts>[0] = {}) => ({ ...facts({ crcl: 25, ...o }), dialysisProcedures: procs });

  test.each<[string, DialysisProcedureFact[], ConditionFact[], boolean, DialysisKind | undefined, string | undefined]>([
    ['hemodialysis 2 days ago', [proc('p', 'hemodialysis', 2)], [], true, 'hemodialysis', 'Procedure/p'],
    ['hemodialysis 30 days ago (edge of the window)', [proc('p', 'hemodialysis', 30)], [], true, 'hemodialysis', 'Procedure/p'],
    ['hemodialysis 31 days ago (one session for AKI) → not on dialysis', [proc('p', 'hemodialysis', 31)], [], false, undefined, undefined],
    ['hemodialysis 200 days ago → not on dialysis', [proc('p', 'hemodialysis', 200)], [], false, undefined, undefined],
    ['peritoneal dialysis 20 days ago', [proc('p', 'peritoneal', 20)], [], true, 'peritoneal', 'Procedure/p'],
    ['modality not stated (CPT 90945) 10 days ago', [proc('p', 'dialysis', 10)], [], true, 'dialysis', 'Procedure/p'],
    ['CRRT 3 days ago', [proc('p', 'crrt', 3)], [], true, 'crrt', 'Procedure/p'],
    ['CRRT 7 days ago (edge)', [proc('p', 'crrt', 7)], [], true, 'crrt', 'Procedure/p'],
    ['CRRT stopped 8 days ago → not on dialysis', [proc('p', 'crrt', 8)], [], false, undefined, undefined],
    ['CRRT in progress (started 20 days ago)', [proc('p', 'crrt', 'ongoing')], [], true, 'crrt', 'Procedure/p'],
    // an in-progress record that started more than 30 days ago was never closed: dated by its start (ONGOING_MAX_DAYS)
    ['hemodialysis "in progress" since 45 days ago (never closed) → not on dialysis', [{ ...proc('p', 'hemodialysis', 45), status: 'in-progress', ongoing: true }], [], false, undefined, undefined],
    ['CRRT in progress since 30 days ago → still counts', [{ ...proc('p', 'crrt', 30), status: 'in-progress', ongoing: true }], [], true, 'crrt', 'Procedure/p'],
    ['CRRT 5 days ago, then hemodialysis 1 day ago → the newest decides: hemodialysis', [proc('c', 'crrt', 5), proc('h', 'hemodialysis', 1)], [], true, 'hemodialysis', 'Procedure/h'],
    ['hemodialysis 3 days ago, CRRT since → CRRT', [proc('h', 'hemodialysis', 3), proc('c', 'crrt', 'ongoing')], [], true, 'crrt', 'Procedure/c'],
    ['Condition only', [], [DIALYSIS], true, 'dialysis', undefined],
    ['Condition and hemodialysis 2 days ago', [proc('p', 'hemodialysis', 2)], [DIALYSIS], true, 'hemodialysis', 'Procedure/p'],
    ['Condition and an old procedure → the Condition decides', [proc('p', 'hemodialysis', 90)], [ESRD], true, 'dialysis', undefined],
    ['Condition (ESKD) and CRRT 1 day ago → CRRT', [proc('p', 'crrt', 1)], [ESRD], true, 'crrt', 'Procedure/p'],
    ['neither', [], [], false, undefined, undefined],
  ])('%s', (_n, procs, conditions, on, modality, ref) => {
    const st = dialysisStatus(k, withProcs(procs, { conditions }), NOW);
    expect(st.onDialysis).toBe(on);
    expect(st.modality).toBe(modality);
    expect(st.procedure?.source.reference).toBe(ref);
  });

  test('hemodialysis 2 days ago, gabapentin: the dialysis card with the procedure (source, date) and the rule as inputs', () => {
    const p = proc('hd1', 'hemodialysis', 2);
    const r = evaluate('gabapentin', withProcs([p]), order(600, 3));
    expect([r.kind, r.severity, r.renal?.action]).toEqual(['dose-adjustment', 'warning', 'dialysis']);
    expect(r.renal?.band?.text).toMatch(/supplemental post-hemodialysis/);
    expect(r.renal?.measure).toBeUndefined();
    const input = r.inputs.find((i) => i.key === 'dialysisProcedure');
    expect(input).toMatchObject({ label: 'Dialysis procedure (hemodialysis)', value: 'Hemodialysis (completed)', source: { reference: 'Procedure/hd1', date: p.date }, note: '2 days ago; counts within 30 days' });
    expect(r.inputs.find((i) => i.key === 'dialysisRule')?.value).toBe('a hemodialysis procedure within the last 30 days');
    expect(r.inputs.some((i) => i.key === 'dialysis')).toBe(false);
  });

  test('Condition and Procedure: both shown, the rule names both', () => {
    const r = evaluate('gabapentin', withProcs([proc('hd1', 'hemodialysis', 2)], { conditions: [DIALYSIS] }), order(600, 3));
    expect(r.inputs.find((i) => i.key === 'dialysis')?.source?.reference).toBe('Condition/hd');
    expect(r.inputs.find((i) => i.key === 'dialysisProcedure')?.source?.reference).toBe('Procedure/hd1');
    expect(r.inputs.find((i) => i.key === 'dialysisRule')?.value).toBe('dialysis on the problem list and a hemodialysis procedure within the last 30 days');
  });

  test('Condition only: the rule says the problem list', () => {
    const r = evaluate('gabapentin', withProcs([], { conditions: [DIALYSIS] }), order(600, 3));
    expect(r.inputs.find((i) => i.key === 'dialysisRule')?.value).toBe('dialysis / end-stage kidney disease on the problem list');
  });

  test('an old hemodialysis session (AKI) → creatinine-based band, the procedure shown as not counted', () => {
    const r = evaluate('gabapentin', withProcs([proc('old', 'hemodialysis', 60)]), order(600, 3));
    expect(r.renal?.action).toBe('range');
    expect(r.renal?.measure?.kind).toBe('crcl');
    expect(r.inputs.find((i) => i.key === 'dialysisProcedure')).toMatchObject({ source: { reference: 'Procedure/old' }, note: '60 days ago: outside the 30-day window, not counted' });
    expect(r.notes.join(' ')).toMatch(/not counted as on dialysis/);
  });

  test.each(['gabapentin', 'metformin', 'dabigatran', 'sitagliptin', 'enoxaparin'])('%s on CRRT → warning: not covered by the label table, the hemodialysis row not applied', (name) => {
    const r = evaluate(name, withProcs([proc('crrt1', 'crrt', 'ongoing')], { conditions: [AF] }), order(100, 1));
    expect([r.kind, r.severity, r.renal?.action]).toEqual(['dose-adjustment', 'warning', 'dialysis']);
    expect(r.headline).toMatch(/on CRRT — dosing on CRRT is not covered by the label table/);
    expect(r.proposedDose).toBeUndefined();
    expect(r.renal?.band).toBeUndefined();
    expect(r.notes.join(' ')).toMatch(/not covered by the label table: the label's dialysis \(hemodialysis\) instruction was not applied/);
    expect(r.inputs.find((i) => i.key === 'dialysisProcedure')?.note).toMatch(/^in progress since /);
  });

  test('sitagliptin: hemodialysis → the 25 mg label dose; CRRT → no dose', () => {
    expect(evaluate('sitagliptin', withProcs([proc('h', 'hemodialysis', 1)]), order(100, 1)).proposedDose?.perDose.value).toBe(25);
    expect(evaluate('sitagliptin', withProcs([proc('c', 'crrt', 1)]), order(100, 1)).proposedDose).toBeUndefined();
  });

  test('peritoneal dialysis: the label dialysis row, with a note that it is written for hemodialysis', () => {
    const r = evaluate('gabapentin', withProcs([proc('pd', 'peritoneal', 1)]), order(600, 3));
    expect(r.renal?.action).toBe('dialysis');
    expect(r.notes.join(' ')).toMatch(/Peritoneal dialysis: the label dialysis instructions are written for hemodialysis/);
  });

  test('a date-only procedure counts from its day: 30 whole days + 23 h ago still counts, 31 days does not', () => {
    const at = (h: number) => ({ ...proc('e', 'hemodialysis', 0), date: new Date(NOW.getTime() - h * 3600000).toISOString() });
    expect(dialysisStatus(k, withProcs([at(30 * 24 + 23)]), NOW).onDialysis).toBe(true);
    expect(dialysisStatus(k, withProcs([at(31 * 24)]), NOW).onDialysis).toBe(false);
  });

  test('modality not stated (CPT 90945): the label dialysis row, with a note that it does not apply on CRRT', () => {
    const r = evaluate('gabapentin', withProcs([proc('x', 'dialysis', 3)]), order(600, 3));
    expect(r.renal?.action).toBe('dialysis');
    expect(r.notes.join(' ')).toMatch(/does not state the modality/);
  });

  test('the procedure input does not change from day to day (the monitoring fingerprint uses values, not notes)', () => {
    const a = evaluate('gabapentin', withProcs([proc('hd1', 'hemodialysis', 2)]), order(600, 3));
    const later = evaluateRenal(k, drug('gabapentin'), withProcs([proc('hd1', 'hemodialysis', 2)]), order(600, 3), { now: new Date(NOW.getTime() + 5 * 86400000), newId });
    const vals = (r: typeof a) => r.inputs.filter((i) => i.key.startsWith('dialysis')).map((i) => [i.key, i.value, i.source?.reference]);
    expect(vals(later)).toEqual(vals(a));
  });
});

describe('the dialysis prefetch key is used only for the renal drugs and vancomycin', () => {
  test('the registry uses "dialysis" exactly for the drugs of knowledge/renal-bands.json and vancomycin', async () => {
    const { defaultRegistry } = await import('../../src/dosing/registry.js');
    const registry = defaultRegistry();
    for (const d of [...k.drugs.map((x) => x.name), 'vancomycin']) expect([d, registry.usesPrefetchKey('dialysis', new Set([d]))]).toEqual([d, true]);
    for (const d of ['warfarin', 'clopidogrel', 'amoxicillin']) expect([d, registry.usesPrefetchKey('dialysis', new Set([d]))]).toEqual([d, false]);
  });
  test('the windows are in the knowledge policy, per modality', () => {
    expect(k.policy.dialysisProcedureWindowDays).toEqual({ hemodialysis: 30, peritoneal: 30, dialysis: 30, crrt: 7 });
  });
});
