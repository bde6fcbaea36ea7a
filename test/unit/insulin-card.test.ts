// The basal insulin card (cards/insulin-titration.md, src/cards/insulin.ts): the step, the readings table, and the new
// dose as an update of the order in whole insulin units — the drafted product kept (a pen dials whole units; unit
// strengths are not in knowledge/drug-products.json, so the mg dispense rules do not apply), the order's own unit
// coding kept, the dispense quantity left to the pharmacy (days of supply kept). Source for the steps:
// ADA Standards of Care 2025 section 9 (see test/unit/insulin-titration.test.ts).
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import { asMonitoringCard } from '../../src/cds/monitoring.js';
import { toOrder } from '../../src/cds/orders.js';
import { CardTemplates, renderCard } from '../../src/cards/render.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import { evaluateBasalInsulin } from '../../src/dosing/insulin/evaluator.js';
import { loadInsulinKnowledge } from '../../src/dosing/insulin/knowledge.js';
import { extractFacts } from '../../src/fhir/facts.js';
import { basalOrder, cgmTrace } from '../fixtures/cgm.js';

const dict = DrugDictionary.load();
const k = loadInsulinKnowledge();
const templates = CardTemplates.load();
const NOW = new Date('2026-03-10T12:00:00-05:00');
let n = 0;
const ctx = { templates, newId: () => `u-${n++}` };

function card(fasting: number, mr: MedicationRequest, extra: FhirResource[] = []) {
  const readings = cgmTrace('g', 'pt', { fasting: Array(7).fill(fasting), lastDate: '2026-03-10', offset: '-05:00', until: NOW });
  const facts = extractFacts({ byKey: { glucose: { resources: [...readings, ...extra], status: 'query' } }, fhirCalls: 1, fhirMs: 1 }, { patientId: 'pt', now: NOW });
  const order = toOrder(mr, dict);
  const r = evaluateBasalInsulin(facts, order, order.drugs[0]!.ingredient, k, { now: NOW, newId: () => 'r', mode: 'order' });
  return { r, order, rendered: renderCard(r, order, ctx) };
}

test('raise: summary, step line, readings table, and the update in the order\'s own unit coding ("units", no system)', () => {
  const mr = basalOrder('o1', 'pt', 20, { status: 'draft', unit: 'units', code: 'units' });
  delete mr.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity!.system;
  const { rendered } = card(170, mr);
  const c = rendered!.card;
  expect(c.summary).toBe('insulin glargine: raise to 22 units once daily (fasting mean 170 mg/dL)');
  expect(c.detail).toMatch(/The draft order currently says 20 units once daily\./);
  expect(c.detail).toMatch(/\*\*Raise\*\*: mean fasting glucose 170 mg\/dL is above the 80–130 mg\/dL goal without hypoglycaemia: raise by 2 units — 20 → 22 units\. New dose 22 units once daily \(whole units, 1-unit steps/);
  expect(c.detail).toMatch(/\| Fasting glucose 2026-03-10 04:00 \| 170 mg\/dL \| Observation\/g-6-240, 2026-03-10 \(measured by CGM — point-of-care, not a laboratory method\) \|/);
  const res = c.suggestions![0]!.actions![0]!.resource as MedicationRequest;
  expect(res.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity).toEqual({ value: 22, unit: 'units', code: 'units' });
  expect(res.dosageInstruction![0]!.text).toBe('22 units subcutaneously once daily — Basal insulin titration (ADA Standards of Care, section 9)');
  expect(res.medicationCodeableConcept).toEqual(mr.medicationCodeableConcept);
  expect(res.dispenseRequest).toEqual({ expectedSupplyDuration: mr.dispenseRequest!.expectedSupplyDuration });
  expect(res.dosageInstruction![0]!.route).toEqual({ text: 'subcutaneous' });
});

test('a draft without a dispense request gets none; the monitoring card carries no suggestion', () => {
  const mr = basalOrder('o1', 'pt', 20, { status: 'draft' });
  delete mr.dispenseRequest;
  const { rendered, order } = card(170, mr);
  expect((rendered!.card.suggestions![0]!.actions![0]!.resource as MedicationRequest).dispenseRequest).toBeUndefined();
  const m = asMonitoringCard(rendered!.card, order);
  expect(m.suggestions).toBeUndefined();
});

test('at goal: no card (kept in the app); a refusal: the missing-data card names the reason', () => {
  expect(card(110, basalOrder('o1', 'pt', 20, { status: 'draft' })).rendered).toBeUndefined();
  const refused = card(170, basalOrder('o1', 'pt', 20, { status: 'draft', frequency: 2 })).rendered!.card;
  expect(refused.summary).toMatch(/no titration step proposed — the order is 2× per day/);
  expect(refused.suggestions).toBeUndefined();
});
