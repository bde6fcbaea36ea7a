// Blend of the fitted model with the IWPC equation on the square-root scale (issue 16):
//   sqrtDose = wLinear · linear(x) + (1 − wLinear) · equation(x) + wTrees · trees(x)
// The IWPC equations are linear in sqrt(dose), so the blend folds into the model itself: the linear weights become
// wLinear · β_model + (1 − wLinear) · β_equation (the equation written on the model's columns, EQUATION_WEIGHTS), the
// leaf values are multiplied by wTrees. The ONNX graph, the exact Shapley explanation and the tests stay as they are.
// The weights are chosen by the inner CV of the training procedure (pipeline.ts), never on the outer test folds.
import { GENOTYPE_STRATA, type GenotypeStratum } from '../../domain/genotypeStratum.js';
import { CYP2C9_UNKNOWN_COLUMN, FEATURE_COLUMNS, N_FEATURES, VKORC1_UNKNOWN_COLUMN } from '../features.js';
import { f32, specBaseSqrt, type WarfarinModelSpec } from '../spec.js';

/**
 * The stratum's IWPC equation (iwpcForStratum) on the model's input columns: the pharmacogenetic equation, and with
 * VKORC1 unknown the clinical equation's coefficients through the "× VKORC1 unknown" columns. Exact with both
 * genotypes, VKORC1 only and no genotype. With CYP2C9 only it is the clinical equation plus the pharmacogenetic
 * equation's CYP2C9 term relative to its "CYP2C9 unknown" term (the columns have no CYP2C9 × VKORC1-unknown term;
 * for *1/*1 that is the clinical equation + 0.2188 on the sqrt scale). Columns not named here: 0.
 */
const PG_INTERCEPT = 5.6044;
const CLINICAL_INTERCEPT = 4.0376;
const PG_CYP2C9_UNKNOWN = -0.2188;
export const EQUATION_INTERCEPT = PG_INTERCEPT;
export const EQUATION_COLUMN_WEIGHTS: Record<string, number> = {
  age_decade: -0.2614,
  height_cm: 0.0087,
  weight_kg: 0.0128,
  race_asian: -0.1092,
  race_black: -0.276,
  race_missing_or_mixed: -0.1032,
  enzyme_inducer: 1.1816,
  amiodarone: -0.5503,
  vkorc1_ag: -0.8677,
  vkorc1_aa: -1.6974,
  // no VKORC1: clinical intercept (the pharmacogenetic "CYP2C9 unknown" term is added back in the "none" stratum)
  vkorc1_unknown: CLINICAL_INTERCEPT - PG_INTERCEPT - PG_CYP2C9_UNKNOWN,
  cyp2c9_12: -0.5211,
  cyp2c9_13: -0.9357,
  cyp2c9_22: -1.0616,
  cyp2c9_23: -1.9206,
  cyp2c9_33: -2.3312,
  cyp2c9_unknown: PG_CYP2C9_UNKNOWN,
  // clinical − pharmacogenetic coefficients, active when VKORC1 is unknown
  age_x_vkorc1_unknown: -0.2546 + 0.2614,
  height_x_vkorc1_unknown: 0.0118 - 0.0087,
  weight_x_vkorc1_unknown: 0.0134 - 0.0128,
  asian_x_vkorc1_unknown: -0.6752 + 0.1092,
  black_x_vkorc1_unknown: 0.406 + 0.276,
  missing_race_x_vkorc1_unknown: 0.0443 + 0.1032,
  inducer_x_vkorc1_unknown: 1.2799 - 1.1816,
  amiodarone_x_vkorc1_unknown: -0.5695 + 0.5503,
};

export const EQUATION_WEIGHTS: number[] = FEATURE_COLUMNS.map((c) => EQUATION_COLUMN_WEIGHTS[c.name] ?? 0);
for (const name of Object.keys(EQUATION_COLUMN_WEIGHTS))
  if (!FEATURE_COLUMNS.some((c) => c.name === name)) throw new Error(`equation column ${name} is not a model column`);

/** The equation's sqrt dose for an encoded input (NaN inputs replaced by `fill`, as the model's linear part does). */
export function equationSqrt(fill: readonly number[], x: ArrayLike<number>): number {
  let s = EQUATION_INTERCEPT;
  for (let j = 0; j < N_FEATURES; j++) {
    const w = EQUATION_WEIGHTS[j]!;
    if (w === 0) continue;
    const v = x[j]!;
    s += w * (Number.isNaN(v) ? fill[j]! : v);
  }
  return s;
}

export interface BlendWeights {
  /** weight of the fitted linear part (1 − wLinear goes to the IWPC equation) */
  wLinear: number;
  /** factor on the boosted trees' leaf values */
  wTrees: number;
  /**
   * sqrt-scale shifts after the blend (median calibration on the dose scale): `all` for every input, plus
   * `vkorc1Unknown` / `cyp2c9Unknown` when that genotype is unknown (folded into the intercept and the two
   * "unknown" columns' weights)
   */
  shift: { all: number; vkorc1Unknown: number; cyp2c9Unknown: number };
}

export const NO_SHIFT = { all: 0, vkorc1Unknown: 0, cyp2c9Unknown: 0 };
export const NO_BLEND: BlendWeights = { wLinear: 1, wTrees: 1, shift: NO_SHIFT };

const shiftOf = (sh: BlendWeights['shift'], s: GenotypeStratum): number =>
  sh.all + (s === 'cyp2c9Only' || s === 'none' ? sh.vkorc1Unknown : 0) + (s === 'vkorc1Only' || s === 'none' ? sh.cyp2c9Unknown : 0);

/** The spec with the blend folded in (linear weights, intercept, leaf values); baseSqrt recomputed. */
export function blendSpec(spec: WarfarinModelSpec, b: BlendWeights): WarfarinModelSpec {
  if (b.wLinear === 1 && b.wTrees === 1 && b.shift.all === 0 && b.shift.vkorc1Unknown === 0 && b.shift.cyp2c9Unknown === 0) return spec;
  const { intercept, weights } = spec.linear;
  const shiftCol = (j: number): number => (j === VKORC1_UNKNOWN_COLUMN ? b.shift.vkorc1Unknown : j === CYP2C9_UNKNOWN_COLUMN ? b.shift.cyp2c9Unknown : 0);
  const out: WarfarinModelSpec = {
    ...spec,
    linear: {
      ...spec.linear,
      intercept: f32(b.wLinear * intercept + (1 - b.wLinear) * EQUATION_INTERCEPT + b.shift.all),
      weights: weights.map((w, j) => f32(b.wLinear * w + (1 - b.wLinear) * EQUATION_WEIGHTS[j]! + shiftCol(j))),
    },
    trees: spec.trees.map((t) => ({ ...t, value: t.value.map((v) => f32(v * b.wTrees)) })),
  };
  out.baseSqrt = specBaseSqrt(out);
  return out;
}

/** One validation patient-stratum of the inner CV: its linear, tree and equation sqrt predictions. */
export interface BlendRow {
  linear: number;
  trees: number;
  equation: number;
  dose: number;
  stratum: GenotypeStratum;
}

export const blendedSqrt = (r: BlendRow, b: BlendWeights): number =>
  b.wLinear * r.linear + (1 - b.wLinear) * r.equation + b.wTrees * r.trees + shiftOf(b.shift, r.stratum);

/**
 * How the blend weights are chosen on the inner-CV rows: 'pooled' = lowest MAE (mg/week) over all validation
 * patient-strata; 'worstStratum' = lowest max over strata of MAE(model) / MAE(equation) (the issue's per-stratum
 * target), ties → pooled MAE.
 */
export type BlendObjective = 'pooled' | 'worstStratum';

export function chooseBlend(rows: BlendRow[], grid: readonly number[], objective: BlendObjective, shift = false): BlendWeights & { score: number } {
  const eqMae = {} as Record<GenotypeStratum, number>;
  const count = {} as Record<GenotypeStratum, number>;
  for (const s of GENOTYPE_STRATA) (eqMae[s] = 0), (count[s] = 0);
  for (const r of rows) {
    const p = Math.max(r.equation, 0);
    eqMae[r.stratum] += Math.abs(p * p - r.dose);
    count[r.stratum]++;
  }
  let best = { wLinear: 1, wTrees: 1, score: Infinity, pooled: Infinity };
  for (const wLinear of grid)
    for (const wTrees of grid) {
      const err = {} as Record<GenotypeStratum, number>;
      for (const s of GENOTYPE_STRATA) err[s] = 0;
      let total = 0;
      for (const r of rows) {
        const p = Math.max(blendedSqrt(r, { wLinear, wTrees, shift: NO_SHIFT }), 0);
        const e = Math.abs(p * p - r.dose);
        err[r.stratum] += e;
        total += e;
      }
      const pooled = total / rows.length;
      const score =
        objective === 'pooled' ? pooled : Math.max(...GENOTYPE_STRATA.filter((s) => count[s] > 0).map((s) => err[s] / Math.max(eqMae[s], 1e-9)));
      if (score < best.score - 1e-12 || (Math.abs(score - best.score) <= 1e-12 && pooled < best.pooled))
        best = { wLinear, wTrees, score, pooled };
    }
  const w = { wLinear: best.wLinear, wTrees: best.wTrees };
  return { ...w, shift: shift ? chooseShift(rows, w) : NO_SHIFT, score: best.score };
}

/**
 * Median calibration on the dose scale: the shifts (sqrt scale, steps of 0.005 within ±0.15) with the lowest MAE
 * (mg/week) of the blended predictions, by coordinate descent (all → VKORC1 unknown → CYP2C9 unknown, repeated).
 */
export function chooseShift(rows: BlendRow[], w: Pick<BlendWeights, 'wLinear' | 'wTrees'>): BlendWeights['shift'] {
  const base = rows.map((r) => blendedSqrt(r, { ...w, shift: NO_SHIFT }));
  const err = (sh: BlendWeights['shift']): number => {
    let e = 0;
    rows.forEach((r, i) => {
      const p = Math.max(base[i]! + shiftOf(sh, r.stratum), 0);
      e += Math.abs(p * p - r.dose);
    });
    return e;
  };
  const steps = Array.from({ length: 61 }, (_, i) => Math.round((i - 30) * 5) / 1000);
  let sh = { ...NO_SHIFT };
  let best = err(sh);
  for (let pass = 0; pass < 3; pass++)
    for (const key of ['all', 'vkorc1Unknown', 'cyp2c9Unknown'] as const)
      for (const v of steps) {
        const cand = { ...sh, [key]: v };
        const e = err(cand);
        if (e < best - 1e-9) (best = e), (sh = cand);
      }
  return sh;
}
