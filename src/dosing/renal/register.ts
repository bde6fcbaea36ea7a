// Registers the renal dose-band evaluator for every drug in knowledge/renal-bands.json.
import { defaultRenalKnowledge, type RenalKnowledge } from '../../knowledge/renal.js';
import type { EvaluatorDependencies, EvaluatorRegistry } from '../registry.js';
import { evaluateRenal } from './evaluator.js';

export function registerRenalEvaluators(registry: EvaluatorRegistry, deps: EvaluatorDependencies = {}): EvaluatorRegistry {
  const k = (deps['renal'] as RenalKnowledge | undefined) ?? defaultRenalKnowledge();
  for (const drug of k.drugs) {
    registry.register(drug.name, (c) => {
      const maxAge = c.config.renal?.creatinineMaxAgeDays;
      // the clock is read here, at the edge; the evaluator itself is pure
      return [evaluateRenal(k, drug, c.facts, c.order, { now: new Date(), newId: c.newId, products: c.drugs.products, ...(maxAge !== undefined ? { creatinineMaxAgeDays: maxAge } : {}) })];
      // kidney function (creatinine, eGFR; weight and height for Cockcroft-Gault and BSA) and dialysis Procedures
    }, ['weight', 'height', 'renal', 'dialysis']);
  }
  return registry;
}
