// The named-allele variant catalogue (knowledge/pgx-variants.json, built by scripts/build-knowledge.ts): which variant
// (rsID, position, bases, c./m. name) defines which CPIC allele of the genes whose alleles are named by their
// variants (DPYD, RYR1, CACNA1S, G6PD, MT-RNR1), and which gene every CPIC rsID belongs to. Types and a loader.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Provenance } from './pgx.js';

export interface VariantDefinition {
  rsid?: string;
  /** GRCh38 position on the gene's `refseq` (mitochondrial genes: the rCRS position, NC_012920.1) */
  pos: number;
  /** GRCh37 position on `refseq37`, only where it was verified (scripts/pgx-curation.json) */
  pos37?: number;
  /** plus-strand reference and alternate, as in the CPIC allele definitions (VCF style for deletions) */
  ref: string;
  alt: string;
  /** the coding-DNA or mitochondrial change that names it in CPIC allele names: "c.1905+1G>A", "m.1555A>G" */
  name?: string;
}

export interface NamedAllele {
  /** CPIC allele name, e.g. "c.1905+1G>A (*2A)", "c.7300G>A", "1555A>G", "A- 202A_376G" */
  name: string;
  /** indices into `variants`: the variants that define the allele (all carried on one chromosome) */
  variants: number[];
  /** CPIC clinical function, e.g. "No function", "Malignant Hyperthermia associated" */
  function: string;
  /** activity value, for activity-score genes (DPYD) */
  activity?: string;
}

export interface NamedGeneVariants {
  /** nuclear (two copies), mitochondrial (one genome, homo- or heteroplasmic) or X-linked (one copy in males) */
  kind: 'nuclear' | 'mitochondrial' | 'x-linked';
  chromosome: string;
  /** RefSeq chromosome accession of the GRCh38 positions */
  refseq: string;
  /** RefSeq chromosome accession of the GRCh37 positions */
  refseq37?: string;
  /**
   * transcripts (with version) whose c. numbering the variants' c. names use, where curated (G6PD: NM_001360016.2);
   * a c. HGVS on another transcript or version is not read. Absent: the c. names are CPIC's own and any accession is
   * accepted (DPYD, RYR1, CACNA1S).
   */
  transcripts?: string[];
  /** strand the gene is read from: c. names are complements of the plus-strand bases on a minus-strand gene */
  strand: 'plus' | 'minus';
  /** name of the reference allele, e.g. "Reference" */
  reference: string;
  /** other names of alleles, lower case → allele name: star aliases ("*2a"), names without the alias ("c.1905+1g>a"), legacy names */
  aliases: Record<string, string>;
  variants: VariantDefinition[];
  alleles: NamedAllele[];
  /** a variant that, found alone, stands for an allele defined by several (its tag variant), with the reason */
  proxies?: { variant: number; allele: string; note: string }[];
}

export interface VariantsFile {
  provenance: Provenance;
  /** rsID → HGNC symbol, for every rsID of the CPIC allele definitions and of the genes below */
  rsidGenes: Record<string, string>;
  genes: Record<string, NamedGeneVariants>;
}

export const VARIANTS_FILE = 'pgx-variants.json';

export function loadVariantCatalogue(dir = path.resolve(process.cwd(), 'knowledge')): VariantsFile {
  const v = JSON.parse(readFileSync(path.join(dir, VARIANTS_FILE), 'utf8')) as VariantsFile;
  if (!v?.genes || !v.rsidGenes) throw new Error(`malformed variant catalogue in ${dir}`);
  return v;
}

let cached: VariantsFile | undefined;
/** The catalogue in ./knowledge, loaded once per process. */
export function defaultVariantCatalogue(): VariantsFile {
  return (cached ??= loadVariantCatalogue());
}
