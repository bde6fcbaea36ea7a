// The pharmacogenomic knowledge base (knowledge/pgx-*.json, built by scripts/build-knowledge.ts): types and a loader.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export interface Provenance {
  sources: { what: string; repo: string; path: string; commit: string; version: string }[];
  licence: string[];
  attribution: string;
  builtBy: string;
  notes?: string[];
}

/** How a gene's lookup value is derived from a result. */
export type GeneMethod = 'activity' | 'diplotype' | 'hla' | 'phenotype' | 'function';

/**
 * How a named-allele gene's alleles give its CPIC lookup value (method 'function'): the first rule that holds wins.
 * `any`: some allele has one of these functions; `all`: every allele has one of them; `sex`: only for that sex
 * (X-linked genes); `alleles`: the number of alleles of the result (1: hemizygous or mitochondrial).
 */
export interface FunctionRule {
  any?: string[];
  all?: string[];
  sex?: 'male' | 'female';
  alleles?: number;
  lookup: string;
}

export interface GeneKnowledge {
  hgnc?: string;
  method: GeneMethod;
  /** source data version of the allele/diplotype tables */
  version?: string;
  /** activity genes: allele → activity value ("1.0", "≥3.0", "n/a"); diplotype genes: allele → clinical function */
  alleles?: Record<string, string>;
  /** bracket-less alias → allele name ("c.1905+1G>A" → "c.1905+1G>A (*2A)") */
  aliases?: Record<string, string>;
  /** activity genes: lookup key → phenotype, in score order */
  scorePhenotypes?: [string, string][];
  /** activity genes: canonical diplotype → lookup key, where the table differs from the sum of allele values */
  overrides?: Record<string, string>;
  /** diplotype genes: phenotype → canonical diplotypes (Indeterminate rows are not stored: known alleles default to it) */
  phenotypes?: Record<string, string[]>;
  /** every lookup value CPIC recommendations use for this gene (incl. "No Result") */
  lookupValues: string[];
  /** method 'function': allele functions → lookup value (alleles holds allele → function) */
  functionRules?: FunctionRule[];
}

export interface GenesFile {
  provenance: Provenance;
  genes: Record<string, GeneKnowledge>;
}

export type PgxAction = 'avoid' | 'alternative' | 'dose' | 'caution' | 'standard' | 'none';

export interface RecommendationRow {
  id: string;
  guideline: string;
  drugs: string[];
  population: string;
  classification: string;
  lookup: Record<string, string>;
  /** gene → index into `texts` */
  implications: Record<string, number>;
  /** index into `texts` */
  text: number;
  flags: { dosing: boolean; alternative: boolean; other: boolean };
  /** derived by the build from the text and flags (see scripts/build-knowledge.ts classifyAction) */
  action: PgxAction;
  /** the draft's dose multiplied by this, when the text states one clear percentage of the starting dose */
  doseFactor?: number;
  /** the phrase the dose factor was read from */
  doseFactorText?: string;
  /** a starting dose per m² body surface area the text says to initiate (mercaptopurine, NUDT15 Poor Metabolizer) */
  startingDosePerM2?: { mgPerM2PerDay: number; phrase: string };
  /** alternatives named in the text (keys of `alternatives`) */
  alternatives?: string[];
}

export interface GuidelineKnowledge {
  id: string;
  name: string;
  cpicName?: string;
  url: string;
  pharmgkbUrl: string;
  drugs: string[];
  genes: string[];
  pmids: string[];
  version: string;
  /** staleness or scope warnings shown on every card for this guideline */
  notes: string[];
}

export interface DrugKnowledge {
  name: string;
  rxcui?: string;
  synonyms: string[];
  guideline: string;
  genes: string[];
  populations: string[];
  /** per gene: the strongest classification among rows that change therapy because of that gene's result */
  testStrength: Record<string, string>;
}

export interface AlternativeDrug {
  name: string;
  display: string;
  rxcui?: string;
  source?: string;
}

export interface PopulationRule {
  population: string;
  label: string;
  conditions?: { icd10Prefixes: string[]; snomed: string[]; words: string[] };
  ageBelow?: number;
  ageAtLeast?: number;
  priorUseOf?: string[];
  priorUseDays?: number;
}

export interface PopulationPolicy {
  rules: PopulationRule[];
  default: string;
  defaultReason: string;
  unreachable?: Record<string, string>;
}

export interface RecommendationsFile {
  provenance: Provenance;
  guidelines: Record<string, GuidelineKnowledge>;
  drugs: Record<string, DrugKnowledge>;
  populations: Record<string, PopulationPolicy>;
  alternatives: Record<string, AlternativeDrug>;
  contraindicatedAlternatives: { drug: string; population: string; note: string }[];
  genotypeTestText: string;
  texts: string[];
  recommendations: RecommendationRow[];
}

export interface PgxKnowledge {
  genes: GenesFile['genes'];
  guidelines: RecommendationsFile['guidelines'];
  drugs: RecommendationsFile['drugs'];
  populations: RecommendationsFile['populations'];
  alternatives: RecommendationsFile['alternatives'];
  contraindicatedAlternatives: RecommendationsFile['contraindicatedAlternatives'];
  genotypeTestText: string;
  texts: string[];
  recommendations: RecommendationRow[];
  /** drug name → its rows */
  byDrug: Map<string, RecommendationRow[]>;
  provenance: { genes: Provenance; recommendations: Provenance };
  /** the guideline source of these rows (absent: CPIC); DPWG knowledge is src/knowledge/dpwg.ts */
  source?: 'CPIC' | 'DPWG';
}

export const PGX_FILES = { genes: 'pgx-genes.json', recommendations: 'pgx-recommendations.json', variants: 'pgx-variants.json' } as const;

export function pgxKnowledgeFrom(genes: GenesFile, recs: RecommendationsFile): PgxKnowledge {
  const byDrug = new Map<string, RecommendationRow[]>();
  for (const r of recs.recommendations) {
    for (const d of r.drugs) {
      const list = byDrug.get(d) ?? [];
      list.push(r);
      byDrug.set(d, list);
    }
  }
  return {
    genes: genes.genes,
    guidelines: recs.guidelines,
    drugs: recs.drugs,
    populations: recs.populations,
    alternatives: recs.alternatives,
    contraindicatedAlternatives: recs.contraindicatedAlternatives,
    genotypeTestText: recs.genotypeTestText,
    texts: recs.texts,
    recommendations: recs.recommendations,
    byDrug,
    provenance: { genes: genes.provenance, recommendations: recs.provenance },
  };
}

/** Load the PGx knowledge from a directory (default: ./knowledge). Throws when a file is missing or malformed. */
export function loadPgxKnowledge(dir = path.resolve(process.cwd(), 'knowledge')): PgxKnowledge {
  const genes = JSON.parse(readFileSync(path.join(dir, PGX_FILES.genes), 'utf8')) as GenesFile;
  const recs = JSON.parse(readFileSync(path.join(dir, PGX_FILES.recommendations), 'utf8')) as RecommendationsFile;
  if (!genes?.genes || !Array.isArray(recs?.recommendations)) throw new Error(`malformed PGx knowledge in ${dir}`);
  return pgxKnowledgeFrom(genes, recs);
}

let cached: PgxKnowledge | undefined;
/** The knowledge in ./knowledge, loaded once per process. */
export function defaultPgxKnowledge(): PgxKnowledge {
  return (cached ??= loadPgxKnowledge());
}
