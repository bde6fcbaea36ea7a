// Warfarin's gene chain for the card audit and the SMART app: each genotype used → its CPIC phenotype (from the
// knowledge tables, when CPIC defines one) → what it did to this dose (the factor's signed contribution).
import type { PatientFacts } from '../../domain/facts.js';
import type { GeneFinding, Recommendation } from '../../domain/recommendation.js';
import type { PgxKnowledge } from '../../knowledge/pgx.js';
import { lookupGene } from '../pgx/lookup.js';

const GENES = [
  { gene: 'CYP2C9', input: 'cyp2c9', factor: 'cyp2c9' },
  { gene: 'VKORC1', input: 'vkorc1', factor: 'vkorc1' },
] as const;

function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${Number(Math.abs(v).toFixed(1))}`;
}

/** The findings for the genotypes the recommendation used (results on file only); pure. */
export function warfarinGeneFindings(r: Recommendation, facts: PatientFacts, k: PgxKnowledge): GeneFinding[] {
  const out: GeneFinding[] = [];
  for (const g of GENES) {
    const input = r.inputs.find((i) => i.key === g.input);
    if (!input?.source || typeof input.value !== 'string') continue;
    const known = k.genes[g.gene];
    // every CPIC value of the gene is acceptable here: the finding describes the result, it picks no row
    const phenotype = known ? lookupGene(k, g.gene, { results: facts.genes, unread: [] }, new Set(known.lookupValues)).phenotype : undefined;
    const f = r.factors?.find((x) => x.key === g.factor);
    out.push({
      gene: g.gene,
      result: input.value,
      ...(phenotype && phenotype !== 'Indeterminate' ? { phenotype } : {}),
      implication: f
        ? `${signed(f.contribution)} ${f.unit} in this dose`
        : r.proposedDose
          ? 'the reference genotype of the method: no change to this dose'
          : 'not used: no dose was calculated',
      source: input.source,
    });
  }
  return out;
}
