// Feature schema of the warfarin dose model: how a WarfarinModelInput (what the service can read from FHIR at
// prescribing time) becomes the numeric vector the ONNX graph takes. Missing values are NaN; the model handles them.
import type { Cyp2c9IwpcGenotype, IwpcInputs, Vkorc1Genotype } from '../dosing/warfarin/iwpc.js';
import { iwpcAgeDecade } from '../dosing/warfarin/iwpc.js';
import type { IwpcRace } from '../domain/facts.js';
import type { GenotypeStratum } from '../domain/genotypeStratum.js';

export interface WarfarinModelInput {
  ageYears?: number;
  sex?: 'male' | 'female';
  heightCm?: number;
  weightKg?: number;
  race?: IwpcRace;
  vkorc1?: Vkorc1Genotype;
  cyp2c9?: Cyp2c9IwpcGenotype;
  amiodarone: boolean;
  enzymeInducer: boolean;
  /** detailed race (US Core race extension, CDC Race & Ethnicity detailed codes), when reported */
  raceDetail?: RaceDetail;
  /** indications for warfarin (Condition / the order's reasonCode); undefined = not recorded */
  indications?: WarfarinIndication[];
  /**
   * goal of the target INR range the chart's indications call for (e.g. 3.0 for a mechanical mitral valve);
   * undefined = no indication on file (2.5, the middle of the usual 2–3 range, assumed — as for IWPC rows without one)
   */
  targetInr?: number;
}

export type WarfarinIndication = 'VTE' | 'AtrialFibrillation' | 'HeartValve' | 'Stroke' | 'PostOrthopedic';

export const INDICATION_LABELS: Record<WarfarinIndication, string> = {
  VTE: 'DVT/PE',
  AtrialFibrillation: 'atrial fibrillation/flutter',
  HeartValve: 'heart valve',
  Stroke: 'stroke/TIA',
  PostOrthopedic: 'after orthopaedic surgery',
};

export type RaceDetail = 'Japanese' | 'Korean' | 'Chinese' | 'Malay' | 'AsianIndian';

/** CDC Race & Ethnicity detailed codes (US Core race extension, "detailed") → the model's Asian subgroups. */
export const CDC_RACE_DETAIL: Record<string, RaceDetail> = {
  '2039-6': 'Japanese',
  '2040-4': 'Korean',
  '2034-7': 'Chinese',
  '2035-4': 'Chinese', // Taiwanese (Han Chinese in IWPC)
  '2042-0': 'Malay', // Malaysian
  '2029-7': 'AsianIndian',
};

/** The model's subgroup from detailed race codes; none or several different subgroups → undefined. */
export function raceDetailFromCdcCodes(codes: readonly string[]): RaceDetail | undefined {
  const found = new Set(codes.map((c) => CDC_RACE_DETAIL[c]).filter((v): v is RaceDetail => v !== undefined));
  return found.size === 1 ? [...found][0] : undefined;
}

/** The patient the explanation's contributions are measured against (as in IWPC-style dosing tables). */
export const REFERENCE_PATIENT: WarfarinModelInput = {
  ageYears: 65,
  sex: 'male',
  heightCm: 170,
  weightKg: 80,
  race: 'White',
  vkorc1: 'G/G',
  cyp2c9: '*1/*1',
  amiodarone: false,
  enzymeInducer: false,
};
export const REFERENCE_PATIENT_TEXT =
  '60–69 years, 170 cm, 80 kg, White man, CYP2C9 *1/*1, VKORC1 G/G, no interacting drugs, no indication recorded';

/** One column of the model's input vector. */
export interface FeatureColumn {
  name: string;
  /** factor the column's contribution is reported under (several columns can share one factor) */
  factor: string;
  /** used by the linear (sqrt-scale) part */
  linear: boolean;
  /** used by the boosted trees */
  tree: boolean;
}

/** An interaction column: base column × "gene unknown" (NaN when the base is missing). */
interface Interaction {
  name: string;
  base: string;
  gene: 'vkorc1' | 'cyp2c9';
  factor: string;
}

const INTERACTION_BASES: { base: string; short: string; factor?: string }[] = [
  { base: 'race_asian', short: 'asian' },
  { base: 'race_black', short: 'black' },
  { base: 'race_missing_or_mixed', short: 'missing_race' },
  { base: 'age_decade', short: 'age', factor: 'age' },
  { base: 'height_cm', short: 'height', factor: 'height' },
  { base: 'weight_kg', short: 'weight', factor: 'weight' },
  { base: 'male', short: 'male', factor: 'sex' },
  { base: 'amiodarone', short: 'amiodarone', factor: 'amiodarone' },
  { base: 'enzyme_inducer', short: 'inducer', factor: 'enzymeInducer' },
  // detailed Asian subgroups (VKORC1 A/A is most common in Japanese, Korean and Chinese patients) and a heart valve
  { base: 'race_japanese', short: 'japanese' },
  { base: 'race_korean', short: 'korean' },
  { base: 'race_chinese', short: 'chinese' },
  { base: 'race_malay', short: 'malay' },
  { base: 'race_asian_indian', short: 'asian_indian' },
  { base: 'ind_valve', short: 'valve', factor: 'indication' },
];

const INTERACTIONS: Interaction[] = (['vkorc1', 'cyp2c9'] as const).flatMap((gene) =>
  INTERACTION_BASES.map((b) => ({ name: `${b.short}_x_${gene}_unknown`, base: b.base, gene, factor: b.factor ?? gene })),
);

/** Input vector of the ONNX graph (float32, NaN = missing). Order matters: it is the model's contract. */
export const FEATURE_COLUMNS: readonly FeatureColumn[] = [
  { name: 'age_decade', factor: 'age', linear: true, tree: true },
  { name: 'height_cm', factor: 'height', linear: true, tree: true },
  { name: 'weight_kg', factor: 'weight', linear: true, tree: true },
  { name: 'male', factor: 'sex', linear: true, tree: true },
  { name: 'race_asian', factor: 'race', linear: true, tree: true },
  { name: 'race_black', factor: 'race', linear: true, tree: true },
  { name: 'race_missing_or_mixed', factor: 'race', linear: true, tree: true },
  { name: 'vkorc1_a_alleles', factor: 'vkorc1', linear: false, tree: true },
  { name: 'vkorc1_ag', factor: 'vkorc1', linear: true, tree: false },
  { name: 'vkorc1_aa', factor: 'vkorc1', linear: true, tree: false },
  { name: 'vkorc1_unknown', factor: 'vkorc1', linear: true, tree: false },
  { name: 'cyp2c9_star2_alleles', factor: 'cyp2c9', linear: false, tree: true },
  { name: 'cyp2c9_star3_alleles', factor: 'cyp2c9', linear: false, tree: true },
  { name: 'cyp2c9_12', factor: 'cyp2c9', linear: true, tree: false },
  { name: 'cyp2c9_13', factor: 'cyp2c9', linear: true, tree: false },
  { name: 'cyp2c9_22', factor: 'cyp2c9', linear: true, tree: false },
  { name: 'cyp2c9_23', factor: 'cyp2c9', linear: true, tree: false },
  { name: 'cyp2c9_33', factor: 'cyp2c9', linear: true, tree: false },
  { name: 'cyp2c9_unknown', factor: 'cyp2c9', linear: true, tree: false },
  { name: 'amiodarone', factor: 'amiodarone', linear: true, tree: true },
  { name: 'enzyme_inducer', factor: 'enzymeInducer', linear: true, tree: true },
  { name: 'race_japanese', factor: 'raceDetail', linear: true, tree: true },
  { name: 'race_korean', factor: 'raceDetail', linear: true, tree: true },
  { name: 'race_chinese', factor: 'raceDetail', linear: true, tree: true },
  { name: 'race_malay', factor: 'raceDetail', linear: true, tree: true },
  { name: 'race_asian_indian', factor: 'raceDetail', linear: true, tree: true },
  { name: 'ind_vte', factor: 'indication', linear: true, tree: true },
  { name: 'ind_af', factor: 'indication', linear: true, tree: true },
  { name: 'ind_valve', factor: 'indication', linear: true, tree: true },
  { name: 'ind_stroke', factor: 'indication', linear: true, tree: true },
  { name: 'ind_ortho', factor: 'indication', linear: true, tree: true },
  // genotype unknown × covariates (linear part only): without a genotype, race and the other covariates carry what the
  // genotype would have said (VKORC1 A/A is the common genotype in East Asian patients; the clinical equation's
  // coefficients differ from the pharmacogenetic one's). Race terms are reported under the genotype's factor, the
  // others under their covariate's factor.
  ...INTERACTIONS.map((c) => ({ name: c.name, factor: c.factor, linear: true, tree: false })),
  // target INR − 2.5 (0 when not on file: IWPC recorded it for a quarter of the patients, and "not recorded" must not
  // become a proxy for the recording sites)
  { name: 'target_inr_minus_2_5', factor: 'targetInr', linear: true, tree: true },
];

export const N_FEATURES = FEATURE_COLUMNS.length;

/** Columns that say a genotype is unknown (0/1, never NaN): they define the genotype stratum of an input vector. */
export const VKORC1_UNKNOWN_COLUMN = FEATURE_COLUMNS.findIndex((c) => c.name === 'vkorc1_unknown');
export const CYP2C9_UNKNOWN_COLUMN = FEATURE_COLUMNS.findIndex((c) => c.name === 'cyp2c9_unknown');

/** Genotype stratum of an encoded input (same answer as genotypeStratum on the input it was encoded from). */
export function stratumOfVector(x: ArrayLike<number>): GenotypeStratum {
  const vk = x[VKORC1_UNKNOWN_COLUMN] !== 1;
  const cyp = x[CYP2C9_UNKNOWN_COLUMN] !== 1;
  return vk && cyp ? 'both' : vk ? 'vkorc1Only' : cyp ? 'cyp2c9Only' : 'none';
}

/** Target INR assumed when none is on file (the middle of the 2.0–3.0 range of most indications). */
export const DEFAULT_TARGET_INR = 2.5;

/** Allowed ranges of the numeric inputs (the IWPC training data's range, rounded outwards). */
export const INPUT_RANGES = {
  ageYears: { min: 18, max: 105, unit: 'a' },
  heightCm: { min: 125, max: 215, unit: 'cm' },
  weightKg: { min: 30, max: 240, unit: 'kg' },
} as const;

/** Safety bounds of the served weekly dose (and interval ends), mg/week. */
export const DOSE_BOUNDS = { min: 3, max: 140 } as const;

const VK_A: Record<Vkorc1Genotype, number> = { 'G/G': 0, 'A/G': 1, 'A/A': 2 };
const CYP_COUNTS: Record<Cyp2c9IwpcGenotype, [number, number]> = {
  '*1/*1': [0, 0],
  '*1/*2': [1, 0],
  '*1/*3': [0, 1],
  '*2/*2': [2, 0],
  '*2/*3': [1, 1],
  '*3/*3': [0, 2],
};

const b = (v: boolean | undefined): number => (v ? 1 : 0);
const n = (v: number | undefined): number => (v === undefined || !Number.isFinite(v) ? NaN : v);

/** Encode one patient. Does not check ranges (the serving code checks them against the model card). */
export function encodeFeatures(i: WarfarinModelInput): number[] {
  const race = i.race ?? 'MissingOrMixed';
  const vk = i.vkorc1;
  const cyp = i.cyp2c9;
  const counts = cyp ? CYP_COUNTS[cyp] : undefined;
  const ageDecade = i.ageYears === undefined || !Number.isFinite(i.ageYears) ? NaN : iwpcAgeDecade(i.ageYears);
  const v = [
    ageDecade,
    n(i.heightCm),
    n(i.weightKg),
    i.sex === 'male' ? 1 : i.sex === 'female' ? 0 : NaN,
    b(race === 'Asian'),
    b(race === 'Black'),
    b(race === 'MissingOrMixed'),
    vk ? VK_A[vk] : NaN,
    b(vk === 'A/G'),
    b(vk === 'A/A'),
    b(vk === undefined),
    counts ? counts[0] : NaN,
    counts ? counts[1] : NaN,
    b(cyp === '*1/*2'),
    b(cyp === '*1/*3'),
    b(cyp === '*2/*2'),
    b(cyp === '*2/*3'),
    b(cyp === '*3/*3'),
    b(cyp === undefined),
    b(i.amiodarone),
    b(i.enzymeInducer),
    b(i.raceDetail === 'Japanese'),
    b(i.raceDetail === 'Korean'),
    b(i.raceDetail === 'Chinese'),
    b(i.raceDetail === 'Malay'),
    b(i.raceDetail === 'AsianIndian'),
    b(i.indications?.includes('VTE')),
    b(i.indications?.includes('AtrialFibrillation')),
    b(i.indications?.includes('HeartValve')),
    b(i.indications?.includes('Stroke')),
    b(i.indications?.includes('PostOrthopedic')),
    ...INTERACTIONS.map(() => 0),
    (i.targetInr !== undefined && Number.isFinite(i.targetInr) ? i.targetInr : DEFAULT_TARGET_INR) - DEFAULT_TARGET_INR,
  ];
  setInteractions(v);
  if (v.length !== N_FEATURES) throw new Error('feature encoding out of sync with FEATURE_COLUMNS');
  return v;
}

/** Human-readable label of a factor's value for this patient, e.g. "VKORC1 A/A". */
export function factorLabel(factor: string, i: WarfarinModelInput): string {
  switch (factor) {
    case 'age':
      return i.ageYears === undefined ? 'Age unknown' : `Age ${Math.floor(i.ageYears)} y`;
    case 'height':
      return i.heightCm === undefined ? 'Height unknown' : `Height ${Math.round(i.heightCm)} cm`;
    case 'weight':
      return i.weightKg === undefined ? 'Weight unknown' : `Weight ${Math.round(i.weightKg)} kg`;
    case 'sex':
      return i.sex === undefined ? 'Sex unknown' : i.sex === 'male' ? 'Male' : 'Female';
    case 'race':
      return i.race === undefined || i.race === 'MissingOrMixed' ? 'Race missing or mixed' : `Race: ${i.race}`;
    case 'vkorc1':
      return i.vkorc1 ? `VKORC1 ${i.vkorc1}` : 'VKORC1 unknown';
    case 'cyp2c9':
      return i.cyp2c9 ? `CYP2C9 ${i.cyp2c9}` : 'CYP2C9 unknown';
    case 'amiodarone':
      return i.amiodarone ? 'Amiodarone' : 'No amiodarone';
    case 'enzymeInducer':
      return i.enzymeInducer ? 'Enzyme inducer' : 'No enzyme inducer';
    case 'raceDetail':
      return i.raceDetail ? `Race detail: ${i.raceDetail === 'AsianIndian' ? 'Asian Indian' : i.raceDetail}` : 'No Asian subgroup recorded';
    case 'targetInr':
      return i.targetInr === undefined ? `Target INR not on file (${DEFAULT_TARGET_INR} assumed)` : `Target INR ${i.targetInr}`;
    case 'indication': {
      const ind = i.indications ?? [];
      return ind.length ? `Indication: ${ind.map((x) => INDICATION_LABELS[x]).join(', ')}` : 'Indication not recorded';
    }
    default:
      return factor;
  }
}

const col = (name: string): number => FEATURE_COLUMNS.findIndex((c) => c.name === name);
const VK_COLUMNS = { count: col('vkorc1_a_alleles'), indicators: [col('vkorc1_ag'), col('vkorc1_aa')] };
const CYP_COLUMNS = {
  counts: [col('cyp2c9_star2_alleles'), col('cyp2c9_star3_alleles')],
  indicators: ['cyp2c9_12', 'cyp2c9_13', 'cyp2c9_22', 'cyp2c9_23', 'cyp2c9_33'].map(col),
};
const INTERACTION_COLUMNS = INTERACTIONS.map((c) => ({
  at: col(c.name),
  base: col(c.base),
  unknown: c.gene === 'vkorc1' ? VKORC1_UNKNOWN_COLUMN : CYP2C9_UNKNOWN_COLUMN,
}));

/** Interaction columns from their base and "unknown" columns (NaN base → NaN). */
function setInteractions(v: number[]): void {
  for (const c of INTERACTION_COLUMNS) v[c.at] = v[c.unknown] === 1 ? v[c.base]! : 0;
}

/**
 * An encoded input with the genotypes the stratum lacks set to unknown: the vector encodeFeatures gives for the same
 * patient without those results (used for genotype-masking augmentation and for the strata evaluation).
 */
export function maskVector(x: readonly number[], s: GenotypeStratum): number[] {
  const v = x.slice();
  if (s === 'cyp2c9Only' || s === 'none') {
    v[VK_COLUMNS.count] = NaN;
    for (const j of VK_COLUMNS.indicators) v[j] = 0;
    v[VKORC1_UNKNOWN_COLUMN] = 1;
  }
  if (s === 'vkorc1Only' || s === 'none') {
    for (const j of CYP_COLUMNS.counts) v[j] = NaN;
    for (const j of CYP_COLUMNS.indicators) v[j] = 0;
    v[CYP2C9_UNKNOWN_COLUMN] = 1;
  }
  setInteractions(v);
  return v;
}

/** The strata an input can be shown in by removing genotypes (its own stratum and the ones with fewer genotypes). */
export function reachableStrata(s: GenotypeStratum): GenotypeStratum[] {
  return s === 'both' ? ['both', 'vkorc1Only', 'cyp2c9Only', 'none'] : s === 'none' ? ['none'] : [s, 'none'];
}

/** The IWPC equation's inputs for a model input; undefined when age, height or weight is missing (the equation needs them). */
export function iwpcInputsOf(i: WarfarinModelInput): IwpcInputs | undefined {
  if (i.ageYears === undefined || i.heightCm === undefined || i.weightKg === undefined) return undefined;
  return {
    ageDecade: iwpcAgeDecade(i.ageYears),
    heightCm: i.heightCm,
    weightKg: i.weightKg,
    race: i.race ?? 'MissingOrMixed',
    amiodarone: i.amiodarone,
    enzymeInducer: i.enzymeInducer,
    ...(i.vkorc1 ? { vkorc1: i.vkorc1 } : {}),
    ...(i.cyp2c9 ? { cyp2c9: i.cyp2c9 } : {}),
  };
}
