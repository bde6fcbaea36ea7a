// Registers the pharmacogenomic evaluator for every drug with CPIC or DPWG recommendation rows (warfarin has its own
// evaluator). The sources and which one leads come from config pgx.sources (src/dosing/pgx/sources.ts).
import { GENOMIC_PREFETCH_KEYS } from '../../fhir/genomics/codes.js';
import { defaultDpwgKnowledge, type DpwgKnowledge } from '../../knowledge/dpwg.js';
import { defaultPhenoconversion } from '../../knowledge/phenoconversion.js';
import type { PhenoconversionTable } from '../../domain/phenoconversion.js';
import { defaultPgxKnowledge, type PgxKnowledge } from '../../knowledge/pgx.js';
import type { EvaluatorDependencies, EvaluatorRegistry } from '../registry.js';
import { evaluateDpwg } from './dpwg.js';
import { DEFAULT_PGX_SETTINGS, evaluatePgx, medicationUses } from './evaluator.js';
import { combineSources, DEFAULT_PGX_SOURCES, type PgxSource } from './sources.js';

export function registerPgxEvaluators(registry: EvaluatorRegistry, deps: EvaluatorDependencies = {}): EvaluatorRegistry {
  const k = (deps['pgx'] as PgxKnowledge | undefined) ?? defaultPgxKnowledge();
  const dk = (deps['dpwg'] as DpwgKnowledge | undefined) ?? defaultDpwgKnowledge();
  // interacting drugs that change the CYP2D6 / CYP2C19 / CYP2C9 phenotype, for both sources (read from the shared
  // medicationRequests and medicationStatements keys, which every evaluator receives)
  const pheno = (deps['phenoconversion'] as PhenoconversionTable | undefined) ?? defaultPhenoconversion();
  const names = new Set([...Object.keys(k.drugs), ...dk.byDrug.keys()]);
  for (const name of [...names].sort()) {
    if (name === 'warfarin') continue;
    registry.register(
      name,
      (c) => {
        const settings = c.config.pgx ?? DEFAULT_PGX_SETTINGS;
        const order: readonly PgxSource[] = settings.sources ?? DEFAULT_PGX_SOURCES;
        const meds = medicationUses(c.facts, c.drugs);
        const o = { settings, newId: c.newId, now: new Date(), phenoconversion: pheno };
        const bySource: Partial<Record<PgxSource, ReturnType<typeof evaluatePgx>>> = {};
        if (order.includes('cpic') && k.drugs[name]) bySource.cpic = evaluatePgx(k, c.facts, c.order, c.drug, meds, o);
        if (order.includes('dpwg') && dk.byDrug.has(name)) bySource.dpwg = evaluateDpwg(dk, c.facts, c.order, c.drug, meds, o);
        return combineSources(bySource, order);
      },
      // the gene results (age, conditions and medications come from the shared keys); height and weight where a CPIC
      // row gives a starting dose per m² body surface area (mercaptopurine)
      [...GENOMIC_PREFETCH_KEYS, ...((k.byDrug.get(name) ?? []).some((r) => r.startingDosePerM2) ? ['weight', 'height'] : [])],
    );
  }
  return registry;
}
