// Basal insulin titration from CGM / meter glucose (issue 18 scope 5): CGM tables → the step the algorithm gives.
// Sources: ADA Standards of Care in Diabetes—2025, section 9, figure "Intensifying to injectable therapies" (basal
// insulin: increase 2 units every 3 days to reach the FPG goal without hypoglycemia; for hypoglycemia determine the
// cause; if no clear reason, lower the dose by 10–20%); FPG goal 80–130 mg/dL (section 6); international CGM consensus
// (Battelino T et al., Diabetes Care 2019;42:1593): hypoglycaemia level 1 < 70, level 2 < 54 mg/dL, an event lasts ≥ 15
// consecutive minutes, time below range targets < 4% below 70 and < 1% below 54. Readings are read from FHIR
// Observations (HL7 CGM IG codes) through extractFacts, so the read path is tested with the rule.
import type { FhirResource } from 'fhir/r4';
import { toOrder } from '../../src/cds/orders.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { evaluateBasalInsulin } from '../../src/dosing/insulin/evaluator.js';
import { loadInsulinKnowledge } from '../../src/dosing/insulin/knowledge.js';
import { extractFacts } from '../../src/fhir/facts.js';
import type { GatherResult } from '../../src/fhir/gather.js';
import { basalOrder, cgmReading, cgmTrace, device, type CgmPlan } from '../fixtures/cgm.js';

const dict = DrugDictionary.load();
const k = loadInsulinKnowledge();
/** 12:00 local (UTC−5) on 2026-03-10: the last three fasting windows are 03-08, 03-09, 03-10 */
const NOW = new Date('2026-03-10T12:00:00-05:00');
const P = 'pt';

function gathered(resources: FhirResource[]): GatherResult {
  return { byKey: { glucose: { resources, status: 'query' } }, fhirCalls: 1, fhirMs: 1 };
}

function run(resources: FhirResource[], order = basalOrder('o1', P, 20), mode: 'order' | 'monitor' = 'order'): Recommendation {
  const facts = extractFacts(gathered(resources), { patientId: P, now: NOW });
  const o = toOrder(order, dict);
  const ing = o.drugs[0]!.ingredient;
  let n = 0;
  return evaluateBasalInsulin(facts, o, ing, k, { now: NOW, newId: () => `id-${n++}`, mode });
}

const week = (fasting: number[], extra: Partial<CgmPlan> = {}) => cgmTrace('g', P, { fasting, lastDate: '2026-03-10', offset: '-05:00', until: NOW, ...extra });

describe('the titration step from a week of CGM (ADA basal titration; Battelino 2019 lows)', () => {
  type Case = [name: string, source: string, resources: () => FhirResource[], expected: { step?: string; kind: string; severity: string; proposed?: number; lows?: number }];
  test.each<Case>([
    ['rising: fasting 160–175 for 3 days, no lows → +2 units (20 → 22)', 'ADA fig. 9: increase 2 units every 3 days to reach the FPG goal without hypoglycemia', () => week([150, 155, 160, 160, 165, 170, 175]), { step: 'raise', kind: 'dose-adjustment', severity: 'warning', proposed: 22 }],
    ['at target: fasting 100–120 → keep (info, no card)', 'ADA section 6: FPG goal 80–130 mg/dL', () => week([140, 130, 120, 115, 110, 100, 120]), { step: 'keep', kind: 'info', severity: 'info' }],
    ['level 1 low: CGM 60–65 mg/dL for 30 min at 02:00 → lower 10% (20 → 18)', 'ADA: if no clear reason for hypoglycemia, lower by 10–20% (service: 10% for level 1)', () => week([150, 150, 150, 150, 160, 160, 160], { lows: [{ day: 5, at: '02:00', values: [65, 62, 60] }] }), { step: 'lower', kind: 'dose-adjustment', severity: 'warning', proposed: 18, lows: 1 }],
    ['level 2 low: CGM 50 mg/dL for 30 min → lower 20% (20 → 16), critical', 'ADA: lower by 10–20% (service: 20% for level 2, < 54 mg/dL, Battelino 2019)', () => week([150, 150, 150, 150, 160, 160, 160], { lows: [{ day: 6, at: '02:00', values: [60, 50, 52] }] }), { step: 'lower', kind: 'dose-adjustment', severity: 'critical', proposed: 16 }],
    ['one CGM reading of 65 at 15-min sampling (it lasts until the next reading: 15 min) → a level 1 episode', 'Battelino 2019: an event is ≥ 15 consecutive minutes below the threshold', () => week([150, 150, 150, 150, 160, 160, 160], { lows: [{ day: 6, at: '02:00', values: [65] }] }), { step: 'lower', kind: 'dose-adjustment', severity: 'warning', proposed: 18, lows: 1 }],
    ['a 5-minute CGM dip below 70 (5-min sampling) is not an episode → raise', 'Battelino 2019: < 15 consecutive minutes is not a hypoglycaemic event', () => week([150, 150, 150, 150, 160, 160, 160], { intervalMin: 5, lows: [{ day: 6, at: '02:00', values: [68] }] }), { step: 'raise', kind: 'dose-adjustment', severity: 'warning', proposed: 22 }],
    ['lows 4–6 days ago only (outside the 3-day step) but 7-day TBR 6% → do not increase', 'Battelino 2019: time below 70 target < 4%; ADA: raise only without hypoglycemia', () => week([150, 150, 150, 150, 160, 160, 160], { lows: [{ day: 1, at: '00:00', values: [65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65, 65] }] }), { step: 'hold', kind: 'dose-adjustment', severity: 'warning' }],
    ['fasting below goal (75) without a low → do not increase', 'ADA section 6: FPG goal 80–130 (the algorithm lowers only for hypoglycaemia)', () => week([90, 85, 80, 80, 75, 75, 75]), { step: 'hold', kind: 'dose-adjustment', severity: 'warning' }],
    ['mmol/L (LOINC 105272-9): fasting 9.4 mmol/L ≈ 169 mg/dL → raise', 'CGM IG: 105272-9 Glucose [Moles/volume] in Interstitial fluid; 1 mmol/L = 18.016 mg/dL', () => week([150, 155, 160, 160, 169, 169, 169], { unit: 'mmol/L' }), { step: 'raise', kind: 'dose-adjustment', severity: 'warning', proposed: 22 }],
    ['fingerstick meter (41653-7) fasting 170 ×3 → raise', 'ADA: SMBG fasting values titrate basal insulin alike', () => ['2026-03-08', '2026-03-09', '2026-03-10'].map((d, i) => cgmReading(`m${i}`, P, `${d}T06:30:00-05:00`, 170, { loinc: '41653-7' })), { step: 'raise', kind: 'dose-adjustment', severity: 'warning', proposed: 22 }],
    ['fingerstick 65 mg/dL once → a level 1 episode → lower', 'Battelino 2019 / ADA glycemic goals: < 70 mg/dL is level 1 hypoglycaemia', () => [...['2026-03-08', '2026-03-09', '2026-03-10'].map((d, i) => cgmReading(`m${i}`, P, `${d}T06:30:00-05:00`, 170, { loinc: '41653-7' })), cgmReading('m-low', P, '2026-03-09T15:00:00-05:00', 65, { loinc: '41653-7' })], { step: 'lower', kind: 'dose-adjustment', severity: 'warning', proposed: 18 }],
  ])('%s', (_name, _source, resources, e) => {
    const r = run(resources());
    expect(r).toMatchObject({ kind: e.kind, severity: e.severity });
    if (e.step) expect(r.insulin?.step).toBe(e.step);
    expect(r.proposedDose?.perDose.value).toBe(e.proposed);
    if (e.proposed !== undefined) expect(r.proposedDose).toMatchObject({ perDose: { unit: 'U' }, timing: { frequency: 1, period: 1, periodUnit: 'd' } });
    if (e.lows !== undefined) expect(r.insulin?.lows.filter((l) => l.level === 1)).toHaveLength(e.lows);
  });

  test('the fasting value is the lowest reading 04:00–08:00 local time, one per day, last 3 days; the readings are inputs with their source', () => {
    const r = run(week([150, 155, 160, 160, 165, 170, 175]));
    expect(r.insulin!.fasting.map((f) => [f.localDate, f.mgDl])).toEqual([['2026-03-08', 165], ['2026-03-09', 170], ['2026-03-10', 175]]);
    expect(r.insulin!.meanFastingMgDl).toBe(170);
    const f = r.inputs.find((i) => i.key === 'fasting:2026-03-10')!;
    expect(f).toMatchObject({ value: '175', unit: 'mg/dL', source: { reference: expect.stringMatching(/^Observation\/g-6-/), device: { kind: 'cgm' } } });
    expect(f.note).toMatch(/CGM.*point-of-care/);
  });

  test('mmol/L readings are converted (×18.016) and the card says what was sent', () => {
    const r = run(week([150, 155, 160, 160, 169, 169, 169], { unit: 'mmol/L' }));
    expect(r.insulin!.fasting[0]).toMatchObject({ sent: { value: 9.4, unit: 'mmol/L' }, mgDl: 169.35 });
    expect(r.inputs.find((i) => i.key.startsWith('fasting:'))!.note).toMatch(/sent as 9.4 mmol\/L/);
  });
});

describe('refusals: a clear reason, never a step on data that cannot carry it', () => {
  test.each<[string, () => FhirResource[], ReturnType<typeof basalOrder> | undefined, RegExp]>([
    ['sparse: only 2 fasting values in the last 3 days', () => week([160, 160, 160, 160, 160, 170, 170]).filter((o) => !o.effectiveDateTime!.startsWith('2026-03-08')), undefined, /only 2 fasting glucose value\(s\).*at least 3/],
    ['no glucose readings at all', () => [], undefined, /only 0 fasting/],
    ['unknown unit (mg% on 99504-3) in the last 3 days', () => [...week([160, 160, 160, 160, 170, 170, 170]), cgmReading('bad', P, '2026-03-09T03:00:00-05:00', 60, { unit: 'mg%', code: 'mg%' })], undefined, /could not be read.*neither mg\/dL nor mmol\/L/],
    ['insulin pump on file (Device type "Insulin pump")', () => [...week([160, 160, 160, 160, 170, 170, 170]), device('pump1', P, 'Insulin pump', 'Omnipod 5')], undefined, /insulin pump/],
    ['twice-daily NPH (split regimen)', () => week([160, 160, 160, 160, 170, 170, 170]), basalOrder('o1', P, 20, { rxcui: '1654862', display: '3 ML insulin isophane, human 100 UNT/ML Pen Injector', frequency: 2 }), /2× per day: only a once-daily basal dose/],
    ['premixed 70/30 (text names regular insulin)', () => week([160, 160, 160, 160, 170, 170, 170]), basalOrder('o1', P, 20, { rxcui: '847187', display: '3 ML insulin isophane, human 70 UNT/ML / insulin, regular, human 30 UNT/ML Pen Injector' }), /premixed/],
    ['dose in mL, not units', () => week([160, 160, 160, 160, 170, 170, 170]), basalOrder('o1', P, 0.2, { unit: 'mL', code: 'mL' }), /unknown in units.*"mL" is not insulin units/],
  ])('%s', (_name, resources, order, reason) => {
    const r = run(resources(), order);
    expect(r.kind).toBe('missing-data');
    expect(r.proposedDose).toBeUndefined();
    expect(r.missing.join(' ')).toMatch(reason);
  });
});

describe('a glucose search that failed or was cut short', () => {
  const withKey = (resources: FhirResource[], key: Partial<GatherResult['byKey'][string]>): Recommendation => {
    const facts = extractFacts({ byKey: { glucose: { resources, status: 'query', ...key } }, fhirCalls: 1, fhirMs: 1 }, { patientId: P, now: NOW });
    return evaluateBasalInsulin(facts, toOrder(basalOrder('o1', P, 20), dict), 'insulin glargine', k, { now: NOW, newId: () => 'x', mode: 'order' });
  };
  test('the search failed → refused, saying so (not "no readings")', () => {
    const r = withKey([], { status: 'failed', error: 'the FHIR server did not answer in time' as never });
    expect(r.kind).toBe('missing-data');
    expect(r.missing[0]).toMatch(/glucose readings could not be read/);
  });
  test('cut short (newest first) before the last 3 days began → refused: a low may be among those not read', () => {
    const r = withKey(within2days(), { incomplete: true });
    expect(r.missing[0]).toMatch(/not all glucose readings of the last 3 days could be read/);
  });
  test('cut short after covering the last 3 days → a step, and the card says what the time below range covers', () => {
    const r = withKey(week([150, 150, 150, 150, 160, 160, 160]).filter((o) => o.effectiveDateTime! >= '2026-03-06'), { incomplete: true });
    expect(r.insulin?.step).toBe('raise');
    expect(r.insulin?.tbr?.days).toBe(4.5); // 03-06 00:00−05:00 to 03-10 12:00−05:00
    expect(r.notes.join(' ')).toMatch(/Not every glucose reading on file was read .* covers 4.5 days/);
  });
  const within2days = () => week([150, 150, 150, 150, 160, 160, 160]).filter((o) => o.effectiveDateTime! >= '2026-03-08T12');
});

describe('dose steps: whole units in the pen\'s steps (knowledge/insulin.json)', () => {
  test.each<[string, string, string, number, string, number]>([
    ['glargine 100 U/mL pen, 25 units, level 1 low: 10% = 22.5 → 22 (rounded down)', '847230', '3 ML insulin glargine 100 UNT/ML Pen Injector', 25, 'lower', 22],
    ['degludec 200 U/mL pen (2-unit steps), 20 units, raise → 22', '1670021', '3 ML insulin degludec 200 UNT/ML Pen Injector', 20, 'raise', 22],
    ['degludec 200 U/mL pen, 21 units, level 1 low: 18.9 → 18 (2-unit steps)', '1670021', '3 ML insulin degludec 200 UNT/ML Pen Injector', 21, 'lower', 18],
    ['detemir pen, 4 units, level 2 low: 3.2 → 3 (at least one step lower, never 0)', '847239', '3 ML insulin detemir 100 UNT/ML Pen Injector', 4, 'lower2', 3],
  ])('%s', (_name, rxcui, display, units, step, proposed) => {
    const lows = step === 'lower' ? [{ day: 6, at: '02:00', values: [65, 62] }] : step === 'lower2' ? [{ day: 6, at: '02:00', values: [50, 50] }] : [];
    const r = run(week([160, 160, 160, 160, 170, 170, 170], { lows }), basalOrder('o1', P, units, { rxcui, display }));
    expect(r.proposedDose?.perDose.value).toBe(proposed);
  });

  test('monitor mode: a dose set less than 3 days ago is not raised again yet ("every 3 days")', () => {
    const r = run(week([160, 160, 160, 160, 170, 170, 170]), basalOrder('o1', P, 22, { authoredOn: '2026-03-09T09:00:00-05:00' }), 'monitor');
    expect(r).toMatchObject({ kind: 'info', insulin: { step: 'wait' } });
    expect(r.insulin!.because).toMatch(/next step is due on 2026-03-12/);
  });
});
