// Registers the basal insulin titration evaluator (glargine, detemir, degludec, NPH). See docs/insulin.md.
import type { EvaluatorDependencies, EvaluatorRegistry } from '../registry.js';
import { evaluateBasalInsulin } from './evaluator.js';
import { BASAL_INSULINS, loadInsulinKnowledge, type InsulinKnowledge } from './knowledge.js';

export function registerInsulinEvaluators(registry: EvaluatorRegistry, deps: EvaluatorDependencies = {}): EvaluatorRegistry {
  let k = deps['insulin'] as InsulinKnowledge | undefined;
  for (const ingredient of BASAL_INSULINS)
    registry.register(ingredient, (c) => {
      k ??= loadInsulinKnowledge();
      const rxnorm = c.drugs.ingredient(ingredient)?.rxcui;
      // the clock is read here, at the edge; the evaluator itself is pure
      const defaultTimeZone = c.config.patientTimeZoneDefault;
      return [evaluateBasalInsulin(c.facts, c.order, ingredient, k, { now: new Date(), newId: c.newId, mode: c.mode ?? 'order', ...(rxnorm ? { rxnorm } : {}), ...(defaultTimeZone ? { defaultTimeZone } : {}) })];
      // glucose readings (CGM, meter) with their devices, and the patient's devices (insulin pump). The Patient (its
      // time zone for readings sent in UTC) comes with the shared `patient` key, read for every drug: declaring it
      // here would make it this evaluator's own and drop it for the others (src/dosing/registry.ts usesPrefetchKey).
    }, ['glucose', 'devices']);
  return registry;
}
