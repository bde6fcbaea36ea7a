// Drug-induced phenoconversion: types shared by the knowledge loader (src/knowledge/phenoconversion.ts), the pure
// conversion step (src/dosing/pgx/phenoconversion.ts), the recommendation payload and the cards.
import type { SourceRef } from './facts.js';

export const PHENO_ENZYMES = ['CYP2D6', 'CYP2C19', 'CYP2C9'] as const;
export type PhenoEnzyme = (typeof PHENO_ENZYMES)[number];

export const PERPETRATOR_STRENGTHS = ['strong', 'moderate', 'inducer'] as const;
export type PerpetratorStrength = (typeof PERPETRATOR_STRENGTHS)[number];

/**
 * What an active interacting drug does to the genotype-derived phenotype:
 * - activity-factor: the CPIC activity score is multiplied (0 for a strong inhibitor: Poor Metabolizer; 0.5 moderate);
 * - poor-metabolizer: a gene without an activity score (CYP2C19) is read as Poor Metabolizer;
 * - caution: no documented adjustment; the phenotype is kept and the card says the drug may change it.
 */
export type PhenoEffect = { kind: 'activity-factor'; factor: number } | { kind: 'poor-metabolizer' } | { kind: 'caution' };

export interface PhenoconversionSource {
  id: string;
  citation: string;
  url: string;
}

export interface PhenoconversionRow {
  enzyme: PhenoEnzyme;
  /** ingredient, lower case */
  drug: string;
  /**
   * RxNorm ingredient CUI; absent when no local RxNorm table holds the ingredient (the row then matches by ingredient
   * name and synonyms only: an unverified code would risk matching another drug)
   */
  rxcui?: string;
  /** lower-case names matched in a medication's text when no code is recognised */
  synonyms: string[];
  strength: PerpetratorStrength;
  effect: PhenoEffect;
  /** why this effect (which rule, from which source) */
  effectReason: string;
  /** ids into the table's sources */
  sources: string[];
  /** where sources disagree, and the choice made */
  note?: string;
}

export interface PhenoconversionTable {
  version: string;
  sources: PhenoconversionSource[];
  rows: PhenoconversionRow[];
}

/** One interacting drug's effect on one gene for one ordered drug: what the card, the SMART app and the API show. */
export interface PhenoconversionStep {
  gene: PhenoEnzyme;
  /** the interacting drug (ingredient) */
  drug: string;
  strength: PerpetratorStrength;
  effect: PhenoEffect['kind'];
  /** the MedicationRequest / MedicationStatement it was read from */
  medication: SourceRef;
  /** the result on file the genotype phenotype comes from, e.g. "*1/*1" */
  genotype?: string;
  /** the phenotype from the genotype; absent when no result is on file */
  genotypePhenotype?: string;
  genotypeActivityScore?: string;
  /** the phenotype used for the lookup; absent for a caution (the genotype phenotype is kept) */
  resultingPhenotype?: string;
  resultingActivityScore?: string;
  /** one sentence for the card */
  text: string;
  sources: { citation: string; url: string }[];
  note?: string;
}
