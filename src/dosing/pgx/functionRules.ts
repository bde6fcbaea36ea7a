// Named-allele genes whose CPIC result follows from the functions of their alleles (RYR1, CACNA1S, MT-RNR1, G6PD):
// the alleles of a result → the CPIC lookup value, by the gene's rules (knowledge/pgx-genes.json functionRules,
// reviewed in scripts/pgx-curation.json and checked by the build against CPIC's own diplotype rows).
import type { GeneKnowledge } from '../../knowledge/pgx.js';
import { alleleAlias } from './alleles.js';

export function functionLookup(g: GeneKnowledge, gene: string, alleles: readonly string[], sex: string | undefined): { key: string; notes: string[] } | { error: string } {
  const table = g.alleles ?? {};
  const functions: string[] = [];
  for (const a of alleles) {
    const name = a in table ? a : g.aliases?.[a] ?? g.aliases?.[alleleAlias(a)];
    const f = name ? table[name] : undefined;
    if (!f) return { error: `${gene} allele ${a} is not in the CPIC allele table` };
    functions.push(f);
  }
  const rules = g.functionRules ?? [];
  const needsSex = rules.some((r) => r.sex);
  for (const r of rules) {
    if (r.alleles !== undefined && r.alleles !== alleles.length) continue;
    if (r.sex && r.sex !== sex) continue;
    if (r.any && !functions.some((f) => r.any!.includes(f))) continue;
    if (r.all && !functions.every((f) => r.all!.includes(f))) continue;
    return { key: r.lookup, notes: [] };
  }
  if (needsSex && sex !== 'male' && sex !== 'female') return { error: `${gene} result cannot be interpreted without the patient's sex (X-linked gene)` };
  return { error: `${gene} alleles ${alleles.join(' / ')} have no CPIC result in the rules` };
}
