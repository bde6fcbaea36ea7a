// Registers the AUC-guided vancomycin evaluator (ingredient "vancomycin", RxNorm 11124). See docs/tdm.md.
import { defaultRenalKnowledge, type RenalKnowledge } from '../../knowledge/renal.js';
import { dialysisStatus } from '../renal/evaluator.js';
import type { EvaluatorDependencies, EvaluatorRegistry } from '../registry.js';
import { loadPkModels } from './load.js';
import type { PkModelFile } from './pkModel.js';
import { recommendVancomycin } from './recommend.js';

export function registerTdmEvaluators(registry: EvaluatorRegistry, deps: EvaluatorDependencies = {}): EvaluatorRegistry {
  let models = deps['pkModels'] as PkModelFile | undefined;
  let renal = deps['renal'] as RenalKnowledge | undefined;
  return registry.register('vancomycin', (c) => {
    models ??= loadPkModels();
    renal ??= defaultRenalKnowledge();
    const maxAge = c.config.renal?.creatinineMaxAgeDays ?? renal.policy.creatinineMaxAgeDays;
    // the clock is read here, at the edge; the evaluator itself is pure
    const now = new Date();
    return [recommendVancomycin(c.facts, c.order, models, { now, newId: c.newId, creatinineMaxAgeDays: maxAge, dialysis: dialysisStatus(renal, c.facts, now) })];
    // weight and creatinine (Cockcroft-Gault), levels, the infusions given, and dialysis Procedures
  }, ['weight', 'renal', 'vancomycinLevels', 'medicationAdministrations', 'dialysis']);
}
