// The warfarin dose model as data (WarfarinModelSpec) and its in-process TypeScript evaluation:
//   sqrtDose = linear(imputed x) + Σ trees(x)             (square-root-of-mg/week scale)
//   dose     = max(sqrtDose, 0)²
//   80% PI   = [max(sqrtDose − lo(sqrtDose), 0)², (sqrtDose + hi(sqrtDose))²], lo/hi piecewise linear in sqrtDose,
//              one curve per genotype stratum (which genotypes are known: read from the "unknown" columns)
// The same spec is written into the ONNX graph (src/model/train/onnx.ts) and into the ONNX file's metadata, where the
// serving code reads it back for the explanation (exact TreeSHAP + exact linear terms).

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
  /** number of training rows reaching the node (for TreeSHAP) */
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
  /** mean training-set sqrtDose = the explanation's base value on the sqrt scale */
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

// ---------------------------------------------------------------------------------------------------------------
// Exact TreeSHAP (Lundberg, Erion & Lee 2018, Algorithm 2; path-dependent, node covers as the background).

interface PathEl {
  d: number;
  z: number;
  o: number;
  w: number;
}

function extendPath(p: PathEl[], depth: number, z: number, o: number, d: number): void {
  p[depth] = { d, z, o, w: depth === 0 ? 1 : 0 };
  for (let i = depth - 1; i >= 0; i--) {
    p[i + 1]!.w += (o * p[i]!.w * (i + 1)) / (depth + 1);
    p[i]!.w = (z * p[i]!.w * (depth - i)) / (depth + 1);
  }
}

function unwindPath(p: PathEl[], depth: number, index: number): void {
  const o = p[index]!.o;
  const z = p[index]!.z;
  let next = p[depth]!.w;
  for (let i = depth - 1; i >= 0; i--) {
    if (o !== 0) {
      const tmp = p[i]!.w;
      p[i]!.w = (next * (depth + 1)) / ((i + 1) * o);
      next = tmp - (p[i]!.w * z * (depth - i)) / (depth + 1);
    } else {
      p[i]!.w = (p[i]!.w * (depth + 1)) / (z * (depth - i));
    }
  }
  for (let i = index; i < depth; i++) {
    p[i]!.d = p[i + 1]!.d;
    p[i]!.z = p[i + 1]!.z;
    p[i]!.o = p[i + 1]!.o;
  }
}

function unwoundPathSum(p: PathEl[], depth: number, index: number): number {
  const o = p[index]!.o;
  const z = p[index]!.z;
  let next = p[depth]!.w;
  let total = 0;
  for (let i = depth - 1; i >= 0; i--) {
    if (o !== 0) {
      const tmp = (next * (depth + 1)) / ((i + 1) * o);
      total += tmp;
      next = p[i]!.w - (tmp * z * (depth - i)) / (depth + 1);
    } else if (z !== 0) {
      total += p[i]!.w / z / ((depth - i) / (depth + 1));
    }
  }
  return total;
}

function shapRecurse(
  t: FlatTree,
  goesLeft: (node: number) => boolean,
  phi: number[],
  node: number,
  parent: PathEl[],
  depth: number,
  z: number,
  o: number,
  d: number,
): void {
  const p: PathEl[] = [];
  for (let i = 0; i < depth; i++) {
    const e = parent[i]!;
    p.push({ d: e.d, z: e.z, o: e.o, w: e.w });
  }
  extendPath(p, depth, z, o, d);
  const f = t.feature[node]!;
  if (f < 0) {
    const v = t.value[node]!;
    for (let i = 1; i <= depth; i++) {
      const w = unwoundPathSum(p, depth, i);
      const e = p[i]!;
      phi[e.d]! += w * (e.o - e.z) * v;
    }
    return;
  }
  const goLeft = goesLeft(node);
  const hot = goLeft ? t.left[node]! : t.right[node]!;
  const cold = goLeft ? t.right[node]! : t.left[node]!;
  const w = t.cover[node]!;
  const hotZ = t.cover[hot]! / w;
  const coldZ = t.cover[cold]! / w;
  let inZ = 1;
  let inO = 1;
  let k = 0;
  for (; k <= depth; k++) if (p[k]!.d === f) break;
  let dep = depth;
  if (k !== depth + 1) {
    inZ = p[k]!.z;
    inO = p[k]!.o;
    unwindPath(p, dep, k);
    dep -= 1;
  }
  shapRecurse(t, goesLeft, phi, hot, p, dep + 1, hotZ * inZ, inO, f);
  shapRecurse(t, goesLeft, phi, cold, p, dep + 1, coldZ * inZ, 0, f);
}

function nodeGoesLeft(t: FlatTree, x: ArrayLike<number>, node: number): boolean {
  const v = f32(x[t.feature[node]!]!);
  return Number.isNaN(v) ? t.missingLeft[node] === 1 : v <= t.threshold[node]!;
}

/** Adds the tree's SHAP values for x to phi (one entry per input column). */
export function treeShap(t: FlatTree, x: ArrayLike<number>, phi: number[]): void {
  shapRecurse(t, (node) => nodeGoesLeft(t, x, node), phi, 0, [], 0, 1, 1, -1);
}

/**
 * Fast exact TreeSHAP for serving. Path-dependent TreeSHAP is a sum over leaves: for leaf ℓ with value v and the
 * set U of features split on along its path (m = |U|), let o_j = 1 when x satisfies all of feature j's conditions
 * on the path and z_j = the product of its cover fractions; then
 *   φ_i += v · (o_i − z_i) · Σ_{S ⊆ U∖{i}, o_S = 1} |S|!(m − |S| − 1)!/m! · Π_{j ∈ U∖{i}∖S} z_j.
 * The bracket depends on x only through the m bits o_j, so each leaf gets a table of 2^m × m values at start-up
 * and explaining a patient is a few comparisons and look-ups per leaf (same numbers as `treeShap`).
 */
export class FastTreeShap {
  private readonly internalOf: Int32Array;
  readonly internal: number[] = [];
  /** per leaf: triples (internal index, must go left 1/0, feature slot) */
  readonly leafCond: number[][] = [];
  /** per leaf: the distinct features on its path (slot order) */
  readonly leafFeats: number[][] = [];
  /** per leaf: 2^m × m contributions */
  readonly leafTable: Float64Array[] = [];
  private readonly dir: Uint8Array;

  constructor(readonly t: FlatTree) {
    this.internalOf = new Int32Array(t.feature.length).fill(-1);
    t.feature.forEach((f, node) => {
      if (f >= 0) {
        this.internalOf[node] = this.internal.length;
        this.internal.push(node);
      }
    });
    this.dir = new Uint8Array(this.internal.length);
    const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
    // DFS collecting (internal index, must-go-left, feature) along each root→leaf path
    const walk = (node: number, path: { i: number; left: number; f: number; frac: number }[]): void => {
      const f = t.feature[node]!;
      if (f >= 0) {
        const c = t.cover[node]!;
        const i = this.internalOf[node]!;
        walk(t.left[node]!, [...path, { i, left: 1, f, frac: t.cover[t.left[node]!]! / c }]);
        walk(t.right[node]!, [...path, { i, left: 0, f, frac: t.cover[t.right[node]!]! / c }]);
        return;
      }
      const v = t.value[node]!;
      const feats = [...new Set(path.map((p) => p.f))];
      const m = feats.length;
      const z = feats.map((ff) => path.filter((p) => p.f === ff).reduce((s, p) => s * p.frac, 1));
      const table = new Float64Array((1 << m) * m);
      for (let pat = 0; pat < 1 << m; pat++) {
        for (let i = 0; i < m; i++) {
          const oi = (pat >> i) & 1;
          let sum = 0;
          const others = pat & ~(1 << i);
          // S ranges over the subsets of the features (other than i) whose o bit is 1
          for (let S = others; ; S = (S - 1) & others) {
            let size = 0;
            let prod = 1;
            for (let j = 0; j < m; j++) {
              if (j === i) continue;
              if ((S >> j) & 1) size++;
              else prod *= z[j]!;
            }
            sum += ((fact(size) * fact(m - size - 1)) / fact(m)) * prod;
            if (S === 0) break;
          }
          table[pat * m + i] = v * (oi - z[i]!) * sum;
        }
      }
      const cond: number[] = [];
      for (const p of path) cond.push(p.i, p.left, feats.indexOf(p.f));
      this.leafCond.push(cond);
      this.leafFeats.push(feats);
      this.leafTable.push(table);
    };
    walk(0, []);
  }

  add(x: ArrayLike<number>, phi: number[]): void {
    const t = this.t;
    const dir = this.dir;
    for (let i = 0; i < this.internal.length; i++) dir[i] = nodeGoesLeft(t, x, this.internal[i]!) ? 1 : 0;
    for (let l = 0; l < this.leafCond.length; l++) {
      const feats = this.leafFeats[l]!;
      const m = feats.length;
      if (m === 0) continue;
      const cond = this.leafCond[l]!;
      let pat = (1 << m) - 1;
      for (let c = 0; c < cond.length; c += 3) if (dir[cond[c]!] !== cond[c + 1]!) pat &= ~(1 << cond[c + 2]!);
      const table = this.leafTable[l]!;
      const base = pat * m;
      for (let k = 0; k < m; k++) phi[feats[k]!]! += table[base + k]!;
    }
  }
}

/**
 * FastTreeShap for a whole ensemble, flattened into typed arrays, with a per-tree memo keyed by the branch pattern
 * (bit k = internal node k of the tree sends x left): the SHAP values of a tree depend on x only through that
 * pattern, so a repeated pattern is a single look-up. A new pattern is computed from the per-leaf tables.
 */
export class EnsembleTreeShap {
  private readonly nodeFeat: Int32Array;
  private readonly nodeThr: Float64Array;
  private readonly nodeMissLeft: Uint8Array;
  private readonly dir: Uint8Array;
  private readonly leafM: Uint8Array;
  private readonly condStart: Int32Array;
  private readonly cond: Int32Array;
  private readonly featStart: Int32Array;
  private readonly feats: Int32Array;
  private readonly tableStart: Int32Array;
  private readonly table: Float64Array;
  private readonly xf: Float64Array;
  /** per tree: [first internal node, end), [first leaf, end), distinct features */
  private readonly treeNodes: Int32Array;
  private readonly treeLeaves: Int32Array;
  private readonly treeFeats: Int32Array[];
  private readonly memo: Map<number, Float64Array>[];
  private readonly slot: Int32Array;
  static readonly MAX_MEMO_PER_TREE = 4096;
  readonly nFeatures: number;

  constructor(trees: FlatTree[], nFeatures: number, precompute = false) {
    this.nFeatures = nFeatures;
    const per = trees.map((t) => new FastTreeShap(t));
    const nodeFeat: number[] = [];
    const nodeThr: number[] = [];
    const nodeMiss: number[] = [];
    const leafM: number[] = [];
    const condStart: number[] = [0];
    const cond: number[] = [];
    const featStart: number[] = [0];
    const feats: number[] = [];
    const tableStart: number[] = [0];
    const tables: Float64Array[] = [];
    const treeNodes: number[] = [];
    const treeLeaves: number[] = [];
    this.treeFeats = [];
    let tableLen = 0;
    for (const f of per) {
      const offset = nodeFeat.length;
      treeNodes.push(offset);
      treeLeaves.push(leafM.length);
      for (const node of f.internal) {
        nodeFeat.push(f.t.feature[node]!);
        nodeThr.push(f.t.threshold[node]!);
        nodeMiss.push(f.t.missingLeft[node]!);
      }
      f.leafCond.forEach((c, l) => {
        const fs = f.leafFeats[l]!;
        if (fs.length === 0) return;
        leafM.push(fs.length);
        for (let k = 0; k < c.length; k += 3) cond.push(c[k]! + offset, c[k + 1]!, c[k + 2]!);
        condStart.push(cond.length);
        feats.push(...fs);
        featStart.push(feats.length);
        tables.push(f.leafTable[l]!);
        tableLen += f.leafTable[l]!.length;
        tableStart.push(tableLen);
      });
      this.treeFeats.push(Int32Array.from(new Set(f.internal.map((n) => f.t.feature[n]!))));
    }
    treeNodes.push(nodeFeat.length);
    treeLeaves.push(leafM.length);
    this.nodeFeat = Int32Array.from(nodeFeat);
    this.nodeThr = Float64Array.from(nodeThr);
    this.nodeMissLeft = Uint8Array.from(nodeMiss);
    this.dir = new Uint8Array(nodeFeat.length);
    this.leafM = Uint8Array.from(leafM);
    this.condStart = Int32Array.from(condStart);
    this.cond = Int32Array.from(cond);
    this.featStart = Int32Array.from(featStart);
    this.feats = Int32Array.from(feats);
    this.tableStart = Int32Array.from(tableStart);
    this.table = new Float64Array(tableLen);
    let pos = 0;
    for (const t of tables) {
      this.table.set(t, pos);
      pos += t.length;
    }
    this.treeNodes = Int32Array.from(treeNodes);
    this.treeLeaves = Int32Array.from(treeLeaves);
    this.memo = per.map(() => new Map<number, Float64Array>());
    this.slot = new Int32Array(nFeatures).fill(-1);
    this.xf = new Float64Array(nFeatures);
    if (precompute) for (let t = 0; t < per.length; t++) this.precomputeTree(t, EnsembleTreeShap.MAX_MEMO_PER_TREE);
  }

  /**
   * Fills tree t's memo with every branch pattern an input can produce: for each feature the tree splits on, one
   * value in each interval between its thresholds, plus NaN. Skipped when there would be more than `cap` combinations
   * (the memo then fills lazily).
   */
  private precomputeTree(t: number, cap: number): void {
    const s0 = this.treeNodes[t]!;
    const s1 = this.treeNodes[t + 1]!;
    if (s1 - s0 > 30) return;
    const feats = Array.from(this.treeFeats[t]!);
    const cands = feats.map((f) => {
      const thr: number[] = [];
      for (let i = s0; i < s1; i++) if (this.nodeFeat[i] === f) thr.push(this.nodeThr[i]!);
      const u = [...new Set(thr)].sort((a, b) => a - b);
      return [...u, u[u.length - 1]! + 1, NaN];
    });
    let total = 1;
    for (const c of cands) total *= c.length;
    if (total > cap) return;
    const memo = this.memo[t]!;
    const idx = new Array<number>(feats.length).fill(0);
    for (let n = 0; n < total; n++) {
      feats.forEach((f, k) => (this.xf[f] = cands[k]![idx[k]!]!));
      let pat = 0;
      for (let i = s0; i < s1; i++) {
        const v = this.xf[this.nodeFeat[i]!]!;
        const d = v !== v ? this.nodeMissLeft[i]! : v <= this.nodeThr[i]! ? 1 : 0;
        this.dir[i] = d;
        pat = pat * 2 + d;
      }
      if (!memo.has(pat)) memo.set(pat, this.compute(t));
      for (let k = 0; k < idx.length; k++) {
        idx[k]!++;
        if (idx[k]! < cands[k]!.length) break;
        idx[k] = 0;
      }
    }
  }

  /** SHAP values of tree t (over its distinct features) from the per-leaf tables; dir must be filled. */
  private compute(t: number): Float64Array {
    const tf = this.treeFeats[t]!;
    const slot = this.slot;
    tf.forEach((f, k) => (slot[f] = k));
    const out = new Float64Array(tf.length);
    const { leafM, condStart, cond, featStart, feats, tableStart, table, dir } = this;
    for (let l = this.treeLeaves[t]!, le = this.treeLeaves[t + 1]!; l < le; l++) {
      const m = leafM[l]!;
      let pat = (1 << m) - 1;
      for (let c = condStart[l]!, e = condStart[l + 1]!; c < e; c += 3) if (dir[cond[c]!] !== cond[c + 1]!) pat &= ~(1 << cond[c + 2]!);
      const base = tableStart[l]! + pat * m;
      const fs = featStart[l]!;
      for (let k = 0; k < m; k++) out[slot[feats[fs + k]!]!]! += table[base + k]!;
    }
    return out;
  }

  /** Adds the SHAP values of all trees for x to phi. */
  add(x: ArrayLike<number>, phi: number[]): void {
    const xf = this.xf;
    for (let j = 0; j < this.nFeatures; j++) xf[j] = f32(x[j]!);
    const { nodeFeat, nodeThr, nodeMissLeft, dir, treeNodes, treeFeats, memo } = this;
    const nt = treeFeats.length;
    for (let t = 0; t < nt; t++) {
      const s0 = treeNodes[t]!;
      const s1 = treeNodes[t + 1]!;
      let pat = 0;
      for (let i = s0; i < s1; i++) {
        const v = xf[nodeFeat[i]!]!;
        const d = v !== v ? nodeMissLeft[i]! : v <= nodeThr[i]! ? 1 : 0;
        dir[i] = d;
        pat = pat * 2 + d;
      }
      const m = memo[t]!;
      const small = s1 - s0 <= 30;
      let vals = small ? m.get(pat) : undefined;
      if (!vals) {
        vals = this.compute(t);
        if (small && m.size < EnsembleTreeShap.MAX_MEMO_PER_TREE) m.set(pat, vals);
      }
      const tf = treeFeats[t]!;
      for (let k = 0; k < tf.length; k++) phi[tf[k]!]! += vals[k]!;
    }
  }
}

/** Expected value of a tree under its covers (what TreeSHAP measures contributions from). */
export function treeExpectedValue(t: FlatTree, node = 0): number {
  const f = t.feature[node]!;
  if (f < 0) return t.value[node]!;
  const l = t.left[node]!;
  const r = t.right[node]!;
  return (t.cover[l]! * treeExpectedValue(t, l) + t.cover[r]! * treeExpectedValue(t, r)) / t.cover[node]!;
}

/**
 * Per-column contributions on the sqrt scale: exact linear terms w·(x − mean) plus exact TreeSHAP values.
 * Σ phi = sqrtDose(x) − baseSqrt exactly (up to float rounding), where baseSqrt = linear(means) + Σ E[tree].
 */
export function sqrtContributions(
  spec: WarfarinModelSpec,
  x: ArrayLike<number>,
  fast?: EnsembleTreeShap,
): number[] {
  const { weights, fill, means } = spec.linear;
  const phi = new Array<number>(weights.length).fill(0);
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j]!;
    if (w === 0) continue;
    const v = x[j]!;
    phi[j] = w * ((Number.isNaN(v) ? fill[j]! : v) - means[j]!);
  }
  if (fast) fast.add(x, phi);
  else for (const t of spec.trees) treeShap(t, x, phi);
  return phi;
}

/** The explanation's base value on the sqrt scale implied by the spec (equals spec.baseSqrt when covers are exact). */
export function specBaseSqrt(spec: WarfarinModelSpec): number {
  const { intercept, weights, means } = spec.linear;
  let s = intercept;
  for (let j = 0; j < weights.length; j++) s += weights[j]! * means[j]!;
  for (const t of spec.trees) s += treeExpectedValue(t);
  return s;
}
