// Questions asked of the results read: a gene's results, its most informative current one, a stated phenotype,
// VKORC1 -1639 for the IWPC equation, HLA carriage.
import type { GeneResult } from '../../domain/facts.js';
import { hlaTwoField } from './alleles.js';
import { canonicalGene } from './genes.js';

/** All results for a gene (HGNC symbol, case-insensitive), in output order. */
export function resultsForGene(results: readonly GeneResult[], gene: string): GeneResult[] {
  const g = canonicalGene(gene) ?? gene;
  return results.filter((r) => r.gene === g);
}

const rank = (r: GeneResult): number =>
  r.diplotype || r.allele ? 0 : r.hla ? 1 : r.variant ? 2 : r.activityScore ? 3 : r.phenotype && !r.drugRxNorm ? 4 : r.phenotype ? 5 : 6;
const whenOf = (r: GeneResult): number => (r.source.date ? Date.parse(r.source.date.length === 4 ? `${r.source.date}-01-01` : r.source.date) : Number.NEGATIVE_INFINITY);

/**
 * The most informative current result for a gene: among the newest (a newer result of any kind supersedes an older
 * one), a diplotype, else an HLA result, else a SNP genotype, else an activity score, else a phenotype that applies to
 * any drug, else a drug-specific phenotype, else a single haplotype.
 */
export function resultForGene(results: readonly GeneResult[], gene: string): GeneResult | undefined {
  const list = resultsForGene(results, gene).filter((r) => !r.drugRxNorm || rank(r) < 5);
  const pool = list.length ? list : resultsForGene(results, gene);
  return [...pool].sort((a, b) => whenOf(b) - whenOf(a) || rank(a) - rank(b))[0];
}

/** The phenotype stated by the lab for a gene: the one for `drugRxNorm` if given and present, else a drug-independent one. */
export function phenotypeForGene(results: readonly GeneResult[], gene: string, drugRxNorm?: string): GeneResult | undefined {
  const list = resultsForGene(results, gene).filter((r) => r.phenotype !== undefined);
  return (drugRxNorm !== undefined ? list.find((r) => r.drugRxNorm === drugRxNorm) : undefined) ?? list.find((r) => r.drugRxNorm === undefined);
}

/** VKORC1 -1639G>A (rs9923231) genotype in the notation of the IWPC equation. */
export type Vkorc1IwpcGenotype = 'G/G' | 'A/G' | 'A/A';

/** The VKORC1 rs9923231 genotype for the IWPC equation, with the result it came from. */
export function vkorc1IwpcGenotype(results: readonly GeneResult[]): { genotype: Vkorc1IwpcGenotype; result: GeneResult } | undefined {
  for (const r of resultsForGene(results, 'VKORC1')) {
    const v = r.variant;
    if (v?.rsid === 'rs9923231' && v.strand === 'gene' && (v.genotype === 'G/G' || v.genotype === 'A/G' || v.genotype === 'A/A')) {
      return { genotype: v.genotype, result: r };
    }
  }
  return undefined;
}

/**
 * Does the patient carry an HLA allele (e.g. gene "HLA-B", allele "*57:01")? Uses presence results and typings.
 * undefined when nothing was reported for that allele or when the results contradict each other.
 */
export function hlaCarrier(results: readonly GeneResult[], gene: string, allele: string): boolean | undefined {
  const want = hlaTwoField(allele.startsWith('*') ? allele : `*${allele}`);
  const answers = new Set<boolean>();
  for (const r of resultsForGene(results, gene)) {
    if (r.hla && r.hla.allele === want) answers.add(r.hla.positive);
    if (r.diplotype && r.diplotype.includes(':')) answers.add(r.diplotype.split('/').includes(want));
  }
  return answers.size === 1 ? [...answers][0] : undefined;
}
