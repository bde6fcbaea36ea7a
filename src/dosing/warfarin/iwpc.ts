// IWPC 2009 warfarin equations (Klein et al., N Engl J Med 2009;360:753-64, Supplementary Appendix S1e/S1f).
import type { IwpcRace } from '../../domain/facts.js';
import { genotypeStratum, STRATUM_EQUATION } from '../../domain/genotypeStratum.js';

export type Vkorc1Genotype = 'G/G' | 'A/G' | 'A/A';
export type Cyp2c9IwpcGenotype = '*1/*1' | '*1/*2' | '*1/*3' | '*2/*2' | '*2/*3' | '*3/*3';

export interface IwpcInputs {
  /** age in decades: 1 for 10–19 years … 9 for 90+ */
  ageDecade: number;
  heightCm: number;
  weightKg: number;
  race: IwpcRace;
  enzymeInducer: boolean;
  amiodarone: boolean;
  /** rs9923231 (-1639 G>A) on the gene strand; undefined = unknown */
  vkorc1?: Vkorc1Genotype;
  /** undefined = unknown (including rare alleles *5, *6, *8, *11 …) */
  cyp2c9?: Cyp2c9IwpcGenotype;
}

/** One additive term of the equation on the square-root scale. */
export interface IwpcTerm {
  key: string;
  label: string;
  /** contribution to sqrt(weekly dose) */
  sqrtContribution: number;
}

export interface IwpcResult {
  /** weekly dose in mg/week */
  weeklyDoseMg: number;
  sqrtDose: number;
  terms: IwpcTerm[];
  equation: 'pharmacogenetic' | 'clinical';
}

export const IWPC_CITATION =
  'International Warfarin Pharmacogenetics Consortium. Estimation of the warfarin dose with clinical and pharmacogenetic data. N Engl J Med 2009;360:753-64';
export const IWPC_URL = 'https://doi.org/10.1056/NEJMoa0809329';

/** Age decade as the IWPC equations use it (1 for 10–19 … 9 for 90 and over). */
export function iwpcAgeDecade(ageYears: number): number {
  return Math.min(9, Math.max(0, Math.floor(ageYears / 10)));
}

const CYP2C9_PGX: Record<Cyp2c9IwpcGenotype, number> = {
  '*1/*1': 0,
  '*1/*2': -0.5211,
  '*1/*3': -0.9357,
  '*2/*2': -1.0616,
  '*2/*3': -1.9206,
  '*3/*3': -2.3312,
};
const VKORC1_PGX: Record<Vkorc1Genotype, number> = { 'G/G': 0, 'A/G': -0.8677, 'A/A': -1.6974 };
const RACE_PGX: Record<IwpcRace, number> = { White: 0, Asian: -0.1092, Black: -0.276, MissingOrMixed: -0.1032 };
const RACE_CLINICAL: Record<IwpcRace, number> = { White: 0, Asian: -0.6752, Black: 0.406, MissingOrMixed: 0.0443 };

function finish(terms: IwpcTerm[], equation: IwpcResult['equation']): IwpcResult {
  const sqrtDose = terms.reduce((s, t) => s + t.sqrtContribution, 0);
  // A negative square root cannot be squared into a dose; clamp at zero (no real patient reaches it).
  const clamped = Math.max(0, sqrtDose);
  return { weeklyDoseMg: clamped * clamped, sqrtDose, terms, equation };
}

export function iwpcPharmacogenetic(i: IwpcInputs): IwpcResult {
  const terms: IwpcTerm[] = [
    { key: 'intercept', label: 'Intercept', sqrtContribution: 5.6044 },
    { key: 'age', label: `Age ${i.ageDecade * 10}–${i.ageDecade * 10 + 9} years`, sqrtContribution: -0.2614 * i.ageDecade },
    { key: 'height', label: `Height ${Math.round(i.heightCm)} cm`, sqrtContribution: 0.0087 * i.heightCm },
    { key: 'weight', label: `Weight ${Math.round(i.weightKg)} kg`, sqrtContribution: 0.0128 * i.weightKg },
    {
      key: 'vkorc1',
      label: i.vkorc1 ? `VKORC1 rs9923231 ${i.vkorc1}` : 'VKORC1 unknown',
      sqrtContribution: i.vkorc1 ? VKORC1_PGX[i.vkorc1] : -0.4854,
    },
    {
      key: 'cyp2c9',
      label: i.cyp2c9 ? `CYP2C9 ${i.cyp2c9}` : 'CYP2C9 unknown',
      sqrtContribution: i.cyp2c9 ? CYP2C9_PGX[i.cyp2c9] : -0.2188,
    },
    { key: 'race', label: `Race: ${i.race}`, sqrtContribution: RACE_PGX[i.race] },
    { key: 'enzymeInducer', label: 'Enzyme inducer', sqrtContribution: i.enzymeInducer ? 1.1816 : 0 },
    { key: 'amiodarone', label: 'Amiodarone', sqrtContribution: i.amiodarone ? -0.5503 : 0 },
  ];
  return finish(terms, 'pharmacogenetic');
}

export function iwpcClinical(i: IwpcInputs): IwpcResult {
  const terms: IwpcTerm[] = [
    { key: 'intercept', label: 'Intercept', sqrtContribution: 4.0376 },
    { key: 'age', label: `Age ${i.ageDecade * 10}–${i.ageDecade * 10 + 9} years`, sqrtContribution: -0.2546 * i.ageDecade },
    { key: 'height', label: `Height ${Math.round(i.heightCm)} cm`, sqrtContribution: 0.0118 * i.heightCm },
    { key: 'weight', label: `Weight ${Math.round(i.weightKg)} kg`, sqrtContribution: 0.0134 * i.weightKg },
    { key: 'race', label: `Race: ${i.race}`, sqrtContribution: RACE_CLINICAL[i.race] },
    { key: 'enzymeInducer', label: 'Enzyme inducer', sqrtContribution: i.enzymeInducer ? 1.2799 : 0 },
    { key: 'amiodarone', label: 'Amiodarone', sqrtContribution: i.amiodarone ? -0.5695 : 0 },
  ];
  return finish(terms, 'clinical');
}

/** Which equation the IWPC paper uses: pharmacogenetic when any genotype is known, clinical otherwise. */
export function iwpcDose(i: IwpcInputs): IwpcResult {
  return i.vkorc1 || i.cyp2c9 ? iwpcPharmacogenetic(i) : iwpcClinical(i);
}

/**
 * The IWPC equation a patient gets by genotype on file (the dose model's comparator, and its fallback): the
 * pharmacogenetic equation when VKORC1 is known (CYP2C9 unknown coded with the equation's "unknown" term), the
 * clinical equation when VKORC1 is not known (CYP2C9 only, or no genotype), as issue 16 specifies. The equation's
 * "VKORC1 unknown" term was estimated from the few IWPC sites that did not type VKORC1, so it does not carry what
 * race says about VKORC1 (its race terms are small); the clinical equation's race terms do.
 */
export function iwpcForStratum(i: IwpcInputs): IwpcResult {
  return STRATUM_EQUATION[genotypeStratum(i)] === 'pharmacogenetic' ? iwpcPharmacogenetic(i) : iwpcClinical(i);
}
