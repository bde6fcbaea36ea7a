// Registers the CPIC evaluator for every drug with CPIC recommendation rows (warfarin has its own evaluator).
import { GENOMIC_PREFETCH_KEYS } from '../../fhir/genomics/codes.js';
import { defaultPgxKnowledge, type PgxKnowledge } from '../../knowledge/pgx.js';
import type { EvaluatorDependencies, EvaluatorRegistry } from '../registry.js';
import { DEFAULT_PGX_SETTINGS, evaluatePgx, medicationUses } from './evaluator.js';

export function registerPgxEvaluators(registry: EvaluatorRegistry, deps: EvaluatorDependencies = {}): EvaluatorRegistry {
  const k = (deps['pgx'] as PgxKnowledge | undefined) ?? defaultPgxKnowledge();
  for (const name of Object.keys(k.drugs).sort()) {
    if (name === 'warfarin') continue;
    registry.register(
      name,
      (c) => evaluatePgx(k, c.facts, c.order, c.drug, medicationUses(c.facts, c.drugs), { settings: c.config.pgx ?? DEFAULT_PGX_SETTINGS, newId: c.newId, now: new Date() }),
      // the gene results (age, conditions and medications come from the shared keys); height and weight where a CPIC
      // row gives a starting dose per m² body surface area (mercaptopurine)
      [...GENOMIC_PREFETCH_KEYS, ...((k.byDrug.get(name) ?? []).some((r) => r.startingDosePerM2) ? ['weight', 'height'] : [])],
    );
  }
  return registry;
}
