// Lenzini 2010 INR-based warfarin refinement: the reference's worked example and the equation's directions.
import { bodySurfaceArea } from '../../src/dosing/renal/kidney.js';
import { lenziniWeeklyDose, type LenziniInputs } from '../../src/dosing/warfarin/lenzini.js';

const example: LenziniInputs = {
  // ../shared/reference/dosing-formulas.md: 65 y, INR 1.5, VKORC1 G/A, CYP2C9 *1/*1, BSA 1.9, target 2.5, three prior
  // doses of 5 mg (days 1–3, INR on day 5 → doses 2, 3 and 4 days before) → about 34.6 mg/week
  day: 5,
  ageYears: 65,
  inr: 1.5,
  targetInr: 2.5,
  vkorc1ACount: 1,
  cyp2c9Star2Count: 0,
  cyp2c9Star3Count: 0,
  bsaM2: 1.9,
  black: false,
  stroke: false,
  diabetes: false,
  amiodarone: false,
  fluvastatin: false,
  doseMinus2Mg: 5,
  doseMinus3Mg: 5,
  doseMinus4Mg: 5,
};

const weekly = (i: LenziniInputs): number => {
  const r = lenziniWeeklyDose(i);
  if ('invalid' in r) throw new Error(r.invalid.join('; '));
  return r.weeklyDoseMg;
};

test('worked example: about 34.6 mg/week', () => {
  expect(weekly(example)).toBeCloseTo(34.6, 1);
});

test('terms add up to ln(dose)', () => {
  const r = lenziniWeeklyDose(example);
  if ('invalid' in r) throw new Error('invalid');
  expect(Math.exp(r.terms.reduce((s, t) => s + t.lnContribution, 0))).toBeCloseTo(r.weeklyDoseMg, 10);
});

test.each<[string, Partial<LenziniInputs>, 'lower' | 'higher']>([
  ['a higher INR on day 5 (more response) lowers the dose', { inr: 2.5 }, 'lower'],
  ['VKORC1 A/A lowers the dose', { vkorc1ACount: 2 }, 'lower'],
  ['CYP2C9 *3 lowers the dose', { cyp2c9Star3Count: 1 }, 'lower'],
  ['a higher target INR raises the dose', { targetInr: 3 }, 'higher'],
  ['a larger BSA raises the dose', { bsaM2: 2.2 }, 'higher'],
  ['amiodarone lowers the dose', { amiodarone: true }, 'lower'],
  ['larger prior doses raise the dose (the INR was reached with more drug)', { doseMinus2Mg: 7.5, doseMinus3Mg: 7.5, doseMinus4Mg: 7.5 }, 'higher'],
])('%s', (_n, change, direction) => {
  const d = weekly({ ...example, ...change });
  if (direction === 'lower') expect(d).toBeLessThan(weekly(example));
  else expect(d).toBeGreaterThan(weekly(example));
});

test('on day 4 the dose 4 days before does not exist (counted as 0 whatever is passed)', () => {
  expect(weekly({ ...example, day: 4, doseMinus4Mg: 5 })).toBeCloseTo(weekly({ ...example, day: 4, doseMinus4Mg: 0 }), 12);
  expect(weekly({ ...example, day: 4 })).toBeLessThan(weekly(example));
});

test.each<[string, Partial<LenziniInputs>]>([
  ['day 3', { day: 3 as 4 }],
  ['INR 0', { inr: 0 }],
  ['a child', { ageYears: 12 }],
  ['implausible BSA', { bsaM2: 9 }],
  ['negative prior dose', { doseMinus2Mg: -5 }],
])('no dose for invalid input: %s', (_n, change) => {
  expect('invalid' in lenziniWeeklyDose({ ...example, ...change })).toBe(true);
});

test('BSA from height and weight (the kidney module’s formula) feeds the equation', () => {
  const bsa = bodySurfaceArea(175, 80);
  expect(bsa).toBeGreaterThan(1.8);
  expect(bsa).toBeLessThan(2.1);
  expect(weekly({ ...example, bsaM2: bsa })).toBeGreaterThan(0);
});
