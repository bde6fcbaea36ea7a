// Genes read by allele function (method 'function': CACNA1S, MT-RNR1, RYR1, G6PD): the allele → function table from scripts/pgx-named-alleles.json and the reviewed rules from
// scripts/pgx-curation.json (namedAlleles.<gene>.functionRules). The build refuses rules that disagree with any
// diplotype/allele → phenotype example CPIC's phenotype file gives, that leave an allele combination without a
// result, or that give a value no CPIC recommendation uses. Pure: objects in, gene entries out.
import { functionLookup } from '../../src/dosing/pgx/functionRules.js';
import type { FunctionRule, GeneKnowledge } from '../../src/knowledge/pgx.js';
import type { ExtractedGene } from './variants.js';

export interface FunctionGeneSources {
  extract: Record<string, ExtractedGene>;
  rules: Record<string, FunctionRule[] | undefined>;
  kinds: Record<string, 'nuclear' | 'mitochondrial' | 'x-linked' | undefined>;
}

/** Every combination of alleles a result can have: one allele (mitochondrial; X-linked in males), two (nuclear; X-linked in females). */
function combinations(names: string[], kind: FunctionGeneSources['kinds'][string]): { alleles: string[]; sex?: 'male' | 'female' }[] {
  const singles = names.map((n) => ({ alleles: [n] }));
  if (kind === 'mitochondrial') return singles;
  const pairs: { alleles: string[] }[] = [];
  for (let i = 0; i < names.length; i++) for (let j = i; j < names.length; j++) pairs.push({ alleles: [names[i]!, names[j]!] });
  if (kind === 'x-linked') return [...singles.map((c) => ({ ...c, sex: 'male' as const })), ...pairs.map((c) => ({ ...c, sex: 'female' as const }))];
  return pairs;
}

export function functionGenes(s: FunctionGeneSources, base: Record<string, GeneKnowledge>): { genes: Record<string, GeneKnowledge>; checks: string[] } {
  const genes: Record<string, GeneKnowledge> = {};
  const checks: string[] = [];
  for (const [gene, e] of Object.entries(s.extract).sort(([a], [b]) => a.localeCompare(b))) {
    const rules = s.rules[gene];
    const known = base[gene];
    if (!rules || !known) continue;
    if (s.kinds[gene] === 'x-linked' && (!(e.phenotypeExamples ?? []).some((x) => x.sex === 'male') || !(e.phenotypeExamples ?? []).some((x) => x.sex === 'female'))) throw new Error(`${gene}: X-linked rules need examples of both sexes`);
    const alleles: Record<string, string> = {};
    for (const a of e.alleles) {
      if (!a.function) throw new Error(`${gene}: allele ${a.name} has no CPIC function`);
      alleles[a.name] = a.function;
    }
    const g: GeneKnowledge = { ...known, method: 'function', alleles, functionRules: rules };
    for (const r of rules) if (!known.lookupValues.includes(r.lookup)) throw new Error(`${gene}: rule value "${r.lookup}" is not used by any CPIC recommendation`);
    for (const ex of e.phenotypeExamples ?? []) {
      const got = functionLookup(g, gene, ex.alleles, ex.sex);
      if ('error' in got || got.key !== ex.phenotype) throw new Error(`${gene} ${ex.alleles.join('/')}${ex.sex ? ` (${ex.sex})` : ''}: rules give ${'error' in got ? got.error : got.key}, CPIC ${ex.phenotype}`);
    }
    const combos = combinations(Object.keys(alleles), s.kinds[gene]);
    for (const c of combos) {
      const got = functionLookup(g, gene, c.alleles, c.sex);
      if ('error' in got) throw new Error(`${gene} ${c.alleles.join('/')}${c.sex ? ` (${c.sex})` : ''}: ${got.error}`);
    }
    checks.push(`${gene}: ${Object.keys(alleles).length} alleles, ${(e.phenotypeExamples ?? []).length} CPIC examples reproduced, all ${combos.length} combinations have a result`);
    genes[gene] = g;
  }
  return { genes, checks };
}
