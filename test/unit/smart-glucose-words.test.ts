// The SMART app says the titration step in words beside the glucose plot (smart-app/src/glucose.ts stepWords), for
// every step the algorithm can give, from the detail the real evaluator computes. Steps: ADA Standards of Care 2025
// section 9 (raise 2 units every 3 days above the 80–130 mg/dL goal without hypoglycaemia; lower 10–20% for
// hypoglycaemia), time below range and levels per Battelino 2019 (< 4% below 70, < 1% below 54 mg/dL).
import type { FhirResource } from 'fhir/r4';
import { toOrder } from '../../src/cds/orders.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { evaluateBasalInsulin } from '../../src/dosing/insulin/evaluator.js';
import { loadInsulinKnowledge } from '../../src/dosing/insulin/knowledge.js';
import { extractFacts } from '../../src/fhir/facts.js';
import { stepWords } from '../../smart-app/src/glucose.js';
import { basalOrder, cgmTrace, type CgmPlan } from '../fixtures/cgm.js';

const dict = DrugDictionary.load();
const k = loadInsulinKnowledge();
const NOW = new Date('2026-03-10T12:00:00-05:00');
const P = 'pt';
const week = (fasting: number[], extra: Partial<CgmPlan> = {}) => cgmTrace('g', P, { fasting, lastDate: '2026-03-10', offset: '-05:00', until: NOW, ...extra });

function detail(resources: FhirResource[], order = basalOrder('o1', P, 20), mode: 'order' | 'monitor' = 'order') {
  const facts = extractFacts({ byKey: { glucose: { resources, status: 'query' } }, fhirCalls: 1, fhirMs: 1 }, { patientId: P, now: NOW });
  return evaluateBasalInsulin(facts, toOrder(order, dict), 'insulin glargine', k, { now: NOW, newId: () => 'x', mode }).insulin!;
}
const lowNight = Array(40).fill(65);

test.each<[string, () => ReturnType<typeof detail>, string]>([
  // the last 3 days' fasting values 165, 170, 175 → mean 170
  ['raise (ADA: +2 units above the goal without a low)', () => detail(week([150, 155, 160, 160, 165, 170, 175])), 'Raise 20 → 22 units: mean fasting 170 mg/dL above 80–130 mg/dL with no low.'],
  ['lower, level 2 (−20%)', () => detail(week([150, 150, 150, 150, 160, 160, 160], { lows: [{ day: 6, at: '02:00', values: [60, 50, 52] }] })), 'Lower 20 → 16 units: hypoglycaemia in the last 3 days — 1 episode below 70 mg/dL, 1 below 54 mg/dL; lowest 50 mg/dL.'],
  ['lower, level 1 only (−10%)', () => detail(week([150, 150, 150, 150, 160, 160, 160], { lows: [{ day: 5, at: '02:00', values: [65, 62, 60] }] })), 'Lower 20 → 18 units: hypoglycaemia in the last 3 days — 1 episode below 70 mg/dL, 0 below 54 mg/dL; lowest 60 mg/dL.'],
  ['keep (within the goal)', () => detail(week([140, 130, 120, 115, 110, 100, 120])), 'Keep 20 units: mean fasting 110 mg/dL within 80–130 mg/dL with no low.'],
  ['hold: fasting below the goal', () => detail(week([90, 85, 80, 80, 75, 75, 75])), 'Do not increase 20 units: mean fasting glucose 75 mg/dL is below the 80–130 mg/dL goal (no reading below 70): no increase; consider a lower dose.'],
  // 40 readings at 65 mg/dL among the 15-minute readings from 03-04 00:00 to 03-10 12:00 (6.5 days: 6 × 96 + 48 = 624):
  // 40 / 624 = 6.4% below 70
  ['hold: time below range above target', () => detail(week([150, 150, 150, 150, 160, 160, 160], { lows: [{ day: 1, at: '00:00', values: lowNight }] })), 'Do not increase 20 units: time below range over 6.5 days is 6.4% below 70 mg/dL and 0% below 54 (consensus targets < 4% and < 1%): no increase; review the lows.'],
  ['wait: the dose was set less than 3 days ago (monitor mode)', () => detail(week([160, 160, 160, 160, 170, 170, 170]), basalOrder('o1', P, 22, { authoredOn: '2026-03-09T09:00:00-05:00' }), 'monitor'), 'Keep 22 units for now: fasting glucose above 130 mg/dL, but the dose was set less than 3 days ago: the next step is due on 2026-03-12.'],
])('%s', (_name, d, words) => {
  expect(stepWords(d())).toBe(words);
});
