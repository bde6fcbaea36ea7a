// The warfarin dose model as data (WarfarinModelSpec) and its in-process TypeScript evaluation:
//   sqrtDose = linear(imputed x) + Σ trees(x)             (square-root-of-mg/week scale)
//   dose     = max(sqrtDose, 0)²
//   80% PI   = [max(sqrtDose − lo(sqrtDose), 0)², (sqrtDose + hi(sqrtDose))²], lo/hi piecewise linear in sqrtDose,
//              one curve per genotype stratum (which genotypes are known: read from the "unknown" columns)
// The same spec is written into the ONNX graph (src/model/train/onnx.ts) and into the ONNX file's metadata, where the
// serving code reads it back for the explanation (src/model/baselineShap.ts).

import type { GenotypeStratum } from '../domain/genotypeStratum.js';
import { stratumOfVector } from './features.js';

/** Offsets of an interval below / above sqrtDose at each knot; linear between knots, constant outside. */
export interface IntervalCurve {
  /** knots on the sqrtDose scale, increasing */
  knots: number[];
  low: number[];
  high: number[];
}

/** A regression tree in flat arrays; feature = -1 marks a leaf. Thresholds are float32 values. */
export interface FlatTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** 1 = a missing (NaN) value goes left (the "x ≤ threshold" branch) */
  missingLeft: number[];
  /** leaf value (learning rate already applied); 0 for internal nodes */
  value: number[];
  /** number of training rows reaching the node (the expected tree value, specBaseSqrt) */
  cover: number[];
}

export interface WarfarinModelSpec {
  version: string;
  featureNames: string[];
  linear: {
    intercept: number;
    /** one weight per input column (0 for columns only the trees use) */
    weights: number[];
    /** value a NaN is replaced with before the linear part (training mean; 0 for indicator columns) */
    fill: number[];
    /** mean of each imputed column over the training rows (the explanation's reference point) */
    means: number[];
  };
  trees: FlatTree[];
  /** mean training-set sqrtDose (v1's explanation base; v2 explains against a reference patient, baselineShap.ts) */
  baseSqrt: number;
  interval: {
    level: number;
    /** calibrated separately in each genotype stratum */
    strata: Record<GenotypeStratum, IntervalCurve>;
  };
}

export const f32 = Math.fround;

export function treeLeaf(t: FlatTree, x: ArrayLike<number>): number {
  let node = 0;
  for (;;) {
    const f = t.feature[node]!;
    if (f < 0) return node;
    const v = f32(x[f]!);
    const goLeft = Number.isNaN(v) ? t.missingLeft[node] === 1 : v <= t.threshold[node]!;
    node = goLeft ? t.left[node]! : t.right[node]!;
  }
}

export function treeValue(t: FlatTree, x: ArrayLike<number>): number {
  return t.value[treeLeaf(t, x)]!;
}

export function linearValue(spec: WarfarinModelSpec, x: ArrayLike<number>): number {
  const { intercept, weights, fill } = spec.linear;
  let s = intercept;
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j]!;
    if (w === 0) continue;
    const v = x[j]!;
    s += w * (Number.isNaN(v) ? fill[j]! : v);
  }
  return s;
}

export function sqrtDose(spec: WarfarinModelSpec, x: ArrayLike<number>): number {
  let s = linearValue(spec, x);
  for (const t of spec.trees) s += treeValue(t, x);
  return s;
}

function piecewise(knots: number[], values: number[], m: number): number {
  let v = values[0]!;
  for (let k = 0; k + 1 < knots.length; k++) {
    const t0 = knots[k]!;
    const t1 = knots[k + 1]!;
    const slope = (values[k + 1]! - values[k]!) / (t1 - t0);
    v += slope * Math.min(Math.max(m - t0, 0), t1 - t0);
  }
  return v;
}

export function curveOffsets(c: IntervalCurve, m: number): { low: number; high: number } {
  return { low: piecewise(c.knots, c.low, m), high: piecewise(c.knots, c.high, m) };
}

/** Interval ends in mg/week around a predicted sqrt dose (the same formula for the model and an equation). */
export function curveInterval(c: IntervalCurve, m: number): { low: number; high: number } {
  const o = curveOffsets(c, m);
  return { low: Math.max(m - o.low, 0) ** 2, high: Math.max(m + o.high, 0) ** 2 };
}

export interface RawPrediction {
  sqrtDose: number;
  dose: number;
  low: number;
  high: number;
}

/** Unclamped model output, as the ONNX graph computes it. */
export function predictRaw(spec: WarfarinModelSpec, x: ArrayLike<number>): RawPrediction {
  const m = sqrtDose(spec, x);
  const i = curveInterval(spec.interval.strata[stratumOfVector(x)], m);
  const p = Math.max(m, 0);
  return { sqrtDose: m, dose: p * p, low: i.low, high: i.high };
}

/** Expected value of a tree under its covers (training rows reaching each node). */
export function treeExpectedValue(t: FlatTree, node = 0): number {
  const f = t.feature[node]!;
  if (f < 0) return t.value[node]!;
  const l = t.left[node]!;
  const r = t.right[node]!;
  return (t.cover[l]! * treeExpectedValue(t, l) + t.cover[r]! * treeExpectedValue(t, r)) / t.cover[node]!;
}

/** Mean training sqrt dose implied by the spec (linear part at the means + expected tree values) = spec.baseSqrt. */
export function specBaseSqrt(spec: WarfarinModelSpec): number {
  const { intercept, weights, means } = spec.linear;
  let s = intercept;
  for (let j = 0; j < weights.length; j++) s += weights[j]! * means[j]!;
  for (const t of spec.trees) s += treeExpectedValue(t);
  return s;
}
