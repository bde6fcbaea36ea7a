// Training procedure of the warfarin dose model (deterministic):
//  1. linear part: ridge regression of sqrt(dose) on the IWPC-style columns (NaN → training mean), with mild
//     sample weights for the dose tails;
//  2. boosted trees (Huber loss) on the residual (sqrt scale), number of rounds chosen by inner K-fold CV
//     (minimum MAE in mg/week);
//  3. 80% interval, per genotype stratum: from the inner-CV out-of-fold residuals on the sqrt scale of the
//     validation patients shown in that stratum (genotypes masked), asymmetric quantile offsets in bins of the
//     predicted sqrt dose (piecewise linear between bin medians), then rescaled (one factor per side) so that the
//     inner-CV coverage of the stratum is as close to 80% as possible (v1 also matched each actual dose band and
//     tuned each knot: bandCoverageWeight, perKnotCalibration).
// Genotype-masking augmentation (maskAugment): every training row is also trained on with VKORC1, CYP2C9 or both
// masked (src/model/features.ts maskVector); folds are drawn over patients, so a patient's copies stay together.
// `crossValidate` runs that whole procedure on each outer fold (nested CV), so its figures are honest.
import { iwpcPharmacogenetic } from '../../dosing/warfarin/iwpc.js';
import { GENOTYPE_STRATA, type GenotypeStratum } from '../../domain/genotypeStratum.js';
import { encodeFeatures, FEATURE_COLUMNS, maskVector, N_FEATURES, reachableStrata, stratumOfVector } from '../features.js';
import { DOSE_BANDS, doseBand, type IwpcRecord } from '../iwpcData.js';
import {
  f32,
  predictRaw,
  specBaseSqrt,
  treeValue,
  linearValue,
  type IntervalCurve,
  type RawPrediction,
  type WarfarinModelSpec,
} from '../spec.js';
import { DEFAULT_GBM, fitGbm, mulberry32, type GbmParams } from './gbm.js';
import { fitRidge } from './linear.js';
import { blendedSqrt, blendSpec, chooseBlend, equationSqrt, NO_BLEND, type BlendObjective, type BlendRow, type BlendWeights } from './blend.js';

export interface TrainOptions {
  gbm: GbmParams;
  innerFolds: number;
  ridgeLambda: number;
  /** extra weight of rows in the low (≤21) and high (≥49 mg/week) dose bands (0 = unweighted) */
  tailWeight: number;
  /** extra weight of rows in the high band only, on top of tailWeight */
  highWeight: number;
  /** rows weighted by (dose / 30)^weightPower (0 = unweighted) */
  weightPower: number;
  intervalBins: number;
  level: number;
  version: string;
  /** column names excluded from the model (for ablations) */
  exclude: string[];
  /** minimum number of boosting rounds */
  minRounds: number;
  /** number of boosted ensembles (different seeds) averaged */
  bags: number;
  /** IRLS iterations of the Huber linear fit (0 = plain ridge least squares) */
  linearHuberIterations: number;
  /**
   * genotype-masking augmentation: each training row is also seen with VKORC1, CYP2C9 and both set to unknown, so
   * that "unknown" is learned from every patient and not only from the sites that did not genotype
   */
  maskAugment: boolean;
  /**
   * weight of the per-actual-dose-band coverage deviations in the interval calibration (v1: 1). Coverage given the
   * actual dose is not what a prediction interval controls; forcing it made the offsets swing from knot to knot
   * (lower bounds of 3 mg/week for 20–25 mg/week estimates), so v2 calibrates on overall coverage per stratum.
   */
  bandCoverageWeight: number;
  /** coordinate descent on each knot's offsets after the per-side scaling (v1: true) */
  perKnotCalibration: boolean;
  /**
   * calibrate each side of the interval for (1 − level)/2 misses (v2.1). Without it any pair of side factors with
   * 80% coverage scores the same, and the first v2.1 fit's intervals came out lopsided (88% of doses ≤ 21 mg/week inside, 45% of
   * ≥ 49) with lower bounds near a third of the estimate when VKORC1 is unknown.
   */
  equalTails: boolean;
  /** blend with the IWPC equation on the sqrt scale (blend.ts), weights chosen by the inner CV; 'off' = none */
  blend: 'off' | BlendObjective;
  /** candidate values of each blend weight */
  blendGrid: number[];
  /** training weight of the rows shown in each genotype stratum (masked copies included) */
  stratumWeight: Record<GenotypeStratum, number>;
  /** after the blend, sqrt-scale shifts per genotype availability for the lowest inner-CV MAE (blend.ts chooseShift) */
  blendShift: boolean;
}

export const DEFAULT_TRAIN: TrainOptions = {
  gbm: DEFAULT_GBM,
  innerFolds: 5,
  ridgeLambda: 1,
  tailWeight: 0.05,
  highWeight: 0.2,
  weightPower: 0,
  intervalBins: 6,
  level: 0.8,
  exclude: [],
  minRounds: 10,
  bags: 1,
  linearHuberIterations: 3,
  maskAugment: true,
  bandCoverageWeight: 0,
  perKnotCalibration: false,
  equalTails: true,
  blend: 'worstStratum',
  blendGrid: Array.from({ length: 21 }, (_, i) => i / 20),
  blendShift: true,
  stratumWeight: { both: 1, vkorc1Only: 1, cyp2c9Only: 1, none: 1 },
  version: '2.1.0',
};

export interface TrainData {
  X: number[][];
  dose: number[];
  /** false = evaluate on this row but do not train on it (dose not confirmed stable) */
  trainable?: boolean[];
  /** genotype stratum each row is shown in (masked copies), for per-stratum training weights */
  stratum?: GenotypeStratum[];
}

export function toTrainData(records: IwpcRecord[]): TrainData {
  return {
    X: records.map((r) => encodeFeatures(r.input)),
    dose: records.map((r) => r.doseMgWeek),
    trainable: records.map((r) => r.stable),
  };
}

/** Only the rows the model may be trained on. */
export function trainableRows(d: TrainData): TrainData {
  if (!d.trainable) return d;
  const idx = d.X.map((_, i) => i).filter((i) => d.trainable![i] !== false);
  return { X: subset(d.X, idx), dose: subset(d.dose, idx) };
}

function subset<T>(a: T[], idx: number[]): T[] {
  return idx.map((i) => a[i]!);
}

/** Rows `idx` of d shown in every stratum they can be masked to (or only as they are). */
interface Variants {
  X: number[][];
  dose: number[];
  stratum: GenotypeStratum[];
}

export function variants(d: TrainData, idx: number[], all: boolean): Variants {
  const out: Variants = { X: [], dose: [], stratum: [] };
  for (const i of idx) {
    const x = d.X[i]!;
    const own = stratumOfVector(x);
    for (const s of all ? reachableStrata(own) : [own]) {
      out.X.push(s === own ? x : maskVector(x, s));
      out.dose.push(d.dose[i]!);
      out.stratum.push(s);
    }
  }
  return out;
}

/** Deterministic fold labels 0..k-1 (seeded shuffle, equal sizes). */
export function foldLabels(n: number, k: number, seed: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  const rand = mulberry32(seed);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const labels = new Array<number>(n).fill(0);
  order.forEach((row, pos) => (labels[row] = pos % k));
  return labels;
}

function weights(dose: number[], o: TrainOptions): number[] {
  return dose.map((d) => {
    const band = doseBand(d);
    const bw = band === '21-49' ? 1 : band === '>=49' ? 1 + o.tailWeight + o.highWeight : 1 + o.tailWeight;
    return bw * Math.pow(d / 30, o.weightPower);
  });
}

function columnsUsed(o: TrainOptions, kind: 'linear' | 'tree'): number[] {
  const out: number[] = [];
  FEATURE_COLUMNS.forEach((c, j) => {
    if (c[kind] && !o.exclude.includes(c.name)) out.push(j);
  });
  return out;
}

/** Linear part + boosted trees with a given number of rounds (no interval yet). */
function fitPoint(d: TrainData, rounds: number, o: TrainOptions): WarfarinModelSpec {
  const n = d.X.length;
  const fill = new Array<number>(N_FEATURES).fill(0);
  for (let j = 0; j < N_FEATURES; j++) {
    let s = 0;
    let c = 0;
    for (const x of d.X) if (!Number.isNaN(x[j]!)) (s += x[j]!), c++;
    // indicator / count columns are never missing in the linear part's inputs; numeric ones get the mean
    fill[j] = f32(c ? s / c : 0);
  }
  const Xi = d.X.map((x) => x.map((v, j) => (Number.isNaN(v) ? fill[j]! : v)));
  const y = d.dose.map(Math.sqrt);
  const w = weights(d.dose, o).map((v, i) => (d.stratum ? v * o.stratumWeight[d.stratum[i]!] : v));
  const linCols = columnsUsed(o, 'linear');
  let ridge = fitRidge(Xi, y, w, linCols, o.ridgeLambda);
  // Huber loss for the linear part too (iteratively reweighted least squares, same δ as the trees)
  const delta = o.gbm.huberDelta;
  for (let it = 0; it < (delta > 0 ? o.linearHuberIterations : 0); it++) {
    const wr = Xi.map((x, i) => {
      let p = ridge.intercept;
      linCols.forEach((j, c) => (p += ridge.coef[c]! * x[j]!));
      const r = Math.abs(y[i]! - p);
      return w[i]! * (r <= delta ? 1 : delta / r);
    });
    ridge = fitRidge(Xi, y, wr, linCols, o.ridgeLambda);
  }
  const wts = new Array<number>(N_FEATURES).fill(0);
  linCols.forEach((j, c) => (wts[j] = f32(ridge.coef[c]!)));
  const means = new Array<number>(N_FEATURES).fill(0);
  for (let j = 0; j < N_FEATURES; j++) means[j] = Xi.reduce((s, x) => s + x[j]!, 0) / n;
  const spec: WarfarinModelSpec = {
    version: o.version,
    featureNames: FEATURE_COLUMNS.map((c) => c.name),
    linear: { intercept: f32(ridge.intercept), weights: wts, fill, means },
    trees: [],
    baseSqrt: 0,
    interval: { level: o.level, strata: Object.fromEntries(GENOTYPE_STRATA.map((s) => [s, { knots: [0, 1], low: [0, 0], high: [0, 0] }])) as Record<GenotypeStratum, IntervalCurve> },
  };
  const offset = d.X.map((x) => linearValue(spec, x));
  // `bags` boosted ensembles with different seeds, averaged (leaf values / bags), stored round-major so that the
  // first r·bags trees are the averaged model after r rounds.
  const fits = Array.from({ length: rounds > 0 ? o.bags : 0 }, (_, b) =>
    fitGbm(d.X, y, offset, w, columnsUsed(o, 'tree'), rounds, { ...o.gbm, seed: o.gbm.seed + 7919 * b }).trees,
  );
  spec.trees = [];
  for (let r = 0; r < rounds; r++)
    for (const f of fits) {
      const t = f[r]!;
      spec.trees.push({ ...t, value: t.value.map((v) => f32(v / o.bags)) });
    }
  spec.baseSqrt = specBaseSqrt(spec);
  return spec;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

/** Interval offsets from out-of-fold sqrt predictions and actual doses (see header). */
export function calibrateInterval(
  mu: number[],
  dose: number[],
  o: Pick<TrainOptions, 'level' | 'intervalBins' | 'bandCoverageWeight' | 'perKnotCalibration' | 'equalTails'>,
): IntervalCurve {
  const n = mu.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => mu[a]! - mu[b]! || a - b);
  const alpha = (1 - o.level) / 2;
  const knots: number[] = [];
  const low: number[] = [];
  const high: number[] = [];
  for (let b = 0; b < o.intervalBins; b++) {
    const idx = order.slice(Math.floor((b * n) / o.intervalBins), Math.floor(((b + 1) * n) / o.intervalBins));
    const ms = idx.map((i) => mu[i]!).sort((a, c) => a - c);
    const rs = idx.map((i) => Math.sqrt(dose[i]!) - mu[i]!).sort((a, c) => a - c);
    const k = quantile(ms, 0.5);
    if (knots.length && k <= knots[knots.length - 1]!) continue;
    knots.push(k);
    low.push(Math.max(0, -quantile(rs, alpha)));
    high.push(Math.max(0, quantile(rs, 1 - alpha)));
  }
  if (knots.length < 2) {
    knots.push((knots[0] ?? 0) + 1);
    low.push(low[0] ?? 0);
    high.push(high[0] ?? 0);
  }
  // Each row's offsets are linear in the knot values: off = a·v[k] + (1 − a)·v[k + 1].
  const K = knots.length;
  const kIdx = new Int32Array(n);
  const kA = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const m = mu[i]!;
    if (m <= knots[0]!) (kIdx[i] = 0), (kA[i] = 1);
    else if (m >= knots[K - 1]!) (kIdx[i] = K - 2), (kA[i] = 0);
    else {
      let k = 0;
      while (m > knots[k + 1]!) k++;
      kIdx[i] = k;
      kA[i] = (knots[k + 1]! - m) / (knots[k + 1]! - knots[k]!);
    }
  }
  const sq = dose.map(Math.sqrt);
  const bandIdx = dose.map((d) => DOSE_BANDS.indexOf(doseBand(d)));
  const target = o.level * 100;
  const objective = (lo: number[], hi: number[]): number => {
    const inside = [0, 0, 0, 0];
    const count = [0, 0, 0, 0];
    let below = 0;
    let above = 0;
    let width = 0;
    for (let i = 0; i < n; i++) {
      const k = kIdx[i]!;
      const a = kA[i]!;
      const m = mu[i]!;
      const l = Math.max(m - (a * lo[k]! + (1 - a) * lo[k + 1]!), 0);
      const h = Math.max(m + (a * hi[k]! + (1 - a) * hi[k + 1]!), 0);
      const ok = l <= sq[i]! && sq[i]! <= h ? 1 : 0;
      if (sq[i]! < l) below++;
      else if (sq[i]! > h) above++;
      const g = bandIdx[i]! + 1;
      inside[0]! += ok;
      count[0]!++;
      inside[g]! += ok;
      count[g]!++;
      width += h * h - l * l;
    }
    // squared deviation from the target coverage overall, plus (weight o.bandCoverageWeight) per actual dose band;
    // ties → narrower
    let dev = count[0] ? ((100 * inside[0]!) / count[0]! - target) ** 2 : 0;
    // equal tails: as many doses above the interval as below it ((1 − level)/2 each)
    if (o.equalTails && count[0]) dev += ((100 * below) / count[0]! - (100 - target) / 2) ** 2 + ((100 * above) / count[0]! - (100 - target) / 2) ** 2;
    for (let g = 1; g < 4; g++) if (count[g]) dev += o.bandCoverageWeight * ((100 * inside[g]!) / count[g]! - target) ** 2;
    return dev + (1e-3 * width) / n;
  };
  // 1) one scale factor per side; 2) coordinate descent on each knot's offsets (same objective)
  let bestLo = low.slice();
  let bestHi = high.slice();
  let best = objective(bestLo, bestHi);
  for (let a = 50; a <= 300; a += 5) {
    for (let c = 50; c <= 300; c += 5) {
      const lo = low.map((v) => (v * a) / 100);
      const hi = high.map((v) => (v * c) / 100);
      const sc = objective(lo, hi);
      if (sc < best) (best = sc), (bestLo = lo), (bestHi = hi);
    }
  }
  const factors = [0.5, 0.7, 0.85, 0.93, 0.97, 1.03, 1.07, 1.15, 1.3, 1.6, 2];
  for (let pass = 0; pass < (o.perKnotCalibration ? 10 : 0); pass++) {
    let improved = false;
    for (const side of [bestLo, bestHi]) {
      for (let k = 0; k < K; k++) {
        const orig = side[k]!;
        let bestV = orig;
        for (const f of factors) {
          side[k] = orig * f;
          const sc = objective(bestLo, bestHi);
          if (sc < best - 1e-9) (best = sc), (bestV = side[k]!), (improved = true);
        }
        side[k] = bestV;
      }
    }
    if (!improved) break;
  }
  return { knots: knots.map(f32), low: bestLo.map(f32), high: bestHi.map(f32) };
}

export interface TrainResult {
  spec: WarfarinModelSpec;
  rounds: number;
  /** inner-CV MAE (mg/week) at the chosen round */
  innerMae: number;
  /** blend with the IWPC equation chosen by the inner CV (folded into spec) */
  blend: BlendWeights;
}

/** The full training procedure on one data set: inner CV → rounds + calibration residuals → final fit. */
export function trainModel(all: TrainData, o: TrainOptions = DEFAULT_TRAIN, log?: (s: string) => void): TrainResult {
  const d = trainableRows(all);
  const n = d.X.length;
  const folds = foldLabels(n, o.innerFolds, o.gbm.seed + 1);
  const R = o.gbm.maxRounds;
  const curve = new Float64Array(R + 1);
  const cum: { v: Variants; mus: Float64Array[]; eq: number[] }[] = [];
  let nv = 0;
  for (let k = 0; k < o.innerFolds; k++) {
    const tr: number[] = [];
    const va: number[] = [];
    folds.forEach((f, i) => (f === k ? va : tr).push(i));
    const spec = fitPoint(variants(d, tr, o.maskAugment), R, o);
    // validation patients in every stratum they can be masked to: sqrt predictions after each round
    const v = variants(d, va, true);
    const mus: Float64Array[] = [];
    const eq = v.X.map((x) => equationSqrt(spec.linear.fill, x));
    v.X.forEach((x, j) => {
      const m = new Float64Array(R + 1);
      let s = linearValue(spec, x);
      m[0] = s;
      for (let r = 0; r < R; r++) {
        for (let b = 0; b < o.bags; b++) s += treeValue(spec.trees[r * o.bags + b]!, x);
        m[r + 1] = s;
      }
      mus.push(m);
      const y = v.dose[j]!;
      for (let r = 0; r <= R; r++) {
        const p = Math.max(m[r]!, 0);
        curve[r]! += Math.abs(p * p - y);
      }
    });
    nv += v.X.length;
    cum.push({ v, mus, eq });
  }
  let rounds = o.minRounds;
  for (let r = o.minRounds; r <= R; r++) if (curve[r]! < curve[rounds]!) rounds = r;
  const innerMae = curve[rounds]! / nv;
  log?.(`  inner CV: rounds=${rounds} MAE=${innerMae.toFixed(3)} (linear only ${(curve[0]! / nv).toFixed(3)}; ${nv} patient-strata)`);
  const rows: BlendRow[] = cum.flatMap((c) =>
    c.v.stratum.map((s, j) => ({
      linear: c.mus[j]![0]!,
      trees: c.mus[j]![rounds]! - c.mus[j]![0]!,
      equation: c.eq[j]!,
      dose: c.v.dose[j]!,
      stratum: s,
    })),
  );
  let blend = NO_BLEND;
  if (o.blend !== 'off') {
    const b = chooseBlend(rows, o.blendGrid, o.blend, o.blendShift);
    blend = { wLinear: b.wLinear, wTrees: b.wTrees, shift: b.shift };
    log?.(`  inner CV blend with the IWPC equation (${o.blend}): wLinear=${blend.wLinear} wTrees=${blend.wTrees} shift=${JSON.stringify(blend.shift)} score=${b.score.toFixed(4)}`);
  }
  const spec = blendSpec(fitPoint(variants(d, d.X.map((_, i) => i), o.maskAugment), rounds, o), blend);
  const strata = {} as Record<GenotypeStratum, IntervalCurve>;
  for (const st of GENOTYPE_STRATA) {
    const mu: number[] = [];
    const dose: number[] = [];
    for (const r of rows) if (r.stratum === st) mu.push(blendedSqrt(r, blend)), dose.push(r.dose);
    strata[st] = calibrateInterval(mu, dose, o);
  }
  spec.interval = { level: o.level, strata };
  return { spec, rounds, innerMae, blend };
}

export interface CvResult {
  folds: number[];
  /** out-of-fold prediction of each row as it is */
  oof: RawPrediction[];
  /** out-of-fold prediction of each row in every stratum it can be masked to (the held-out row's genotypes removed) */
  oofStrata: Partial<Record<GenotypeStratum, RawPrediction>>[];
  rounds: number[];
}

/** Nested K-fold CV of the whole procedure; out-of-fold predictions for every row. */
export function crossValidate(d: TrainData, o: TrainOptions, k: number, seed: number, log?: (s: string) => void): CvResult {
  const folds = foldLabels(d.X.length, k, seed);
  const oof = new Array<RawPrediction>(d.X.length);
  const oofStrata = d.X.map((): Partial<Record<GenotypeStratum, RawPrediction>> => ({}));
  const rounds: number[] = [];
  for (let f = 0; f < k; f++) {
    const tr: number[] = [];
    const te: number[] = [];
    folds.forEach((g, i) => (g === f ? te : tr).push(i));
    log?.(`fold ${f + 1}/${k}: train ${tr.length}, test ${te.length}`);
    const res = trainModel(
      { X: subset(d.X, tr), dose: subset(d.dose, tr), trainable: d.trainable ? subset(d.trainable, tr) : undefined },
      o,
      log,
    );
    rounds.push(res.rounds);
    for (const i of te) {
      const x = d.X[i]!;
      oof[i] = predictRaw(res.spec, x);
      const own = stratumOfVector(x);
      for (const s of reachableStrata(own)) oofStrata[i]![s] = s === own ? oof[i]! : predictRaw(res.spec, maskVector(x, s));
    }
  }
  return { folds, oof, oofStrata, rounds };
}

/** IWPC pharmacogenetic prediction for a record (undefined when age, height or weight is missing). */
export function iwpcPrediction(r: IwpcRecord): number | undefined {
  return r.iwpc ? iwpcPharmacogenetic(r.iwpc).weeklyDoseMg : undefined;
}
