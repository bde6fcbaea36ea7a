// The warfarin dose model as data (WarfarinModelSpec) and its in-process TypeScript evaluation:
//   sqrtDose = linear(imputed x) + Σ trees(x)             (square-root-of-mg/week scale)
//   dose     = max(sqrtDose, 0)²
//   80% PI   = [max(sqrtDose − lo(sqrtDose), 0)², (sqrtDose + hi(sqrtDose))²], lo/hi piecewise linear in sqrtDose
// The same spec is written into the ONNX graph (src/model/train/onnx.ts) and into the ONNX file's metadata, where the
// serving code reads it back for the explanation (exact TreeSHAP + exact linear terms).

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
    /** knots on the sqrtDose scale, increasing */
    knots: number[];
    /** offsets below / above sqrtDose at each knot; linear between knots, constant outside */
    low: number[];
    high: number[];
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

export function intervalOffsets(spec: WarfarinModelSpec, m: number): { low: number; high: number } {
  const { knots, low, high } = spec.interval;
  return { low: piecewise(knots, low, m), high: piecewise(knots, high, m) };
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
  const o = intervalOffsets(spec, m);
  const lo = Math.max(m - o.low, 0);
  const hi = Math.max(m + o.high, 0);
  const p = Math.max(m, 0);
  return { sqrtDose: m, dose: p * p, low: lo * lo, high: hi * hi };
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
 * TreeSHAP values depend on x only through the branch taken at each internal node, so they can be memoised per
 * branch pattern (bit i = internal node i goes left). Few patterns occur in practice; each is computed once with
 * the recursive algorithm, after which explaining a patient is one look-up per tree (identical numbers).
 */
export class ShapMemo {
  private readonly internal: number[] = [];
  private readonly features: number[];
  private readonly cache = new Map<number, Float64Array>();
  constructor(private readonly t: FlatTree) {
    t.feature.forEach((f, node) => {
      if (f >= 0) this.internal.push(node);
    });
    this.features = [...new Set(this.internal.map((n) => t.feature[n]!))].sort((a, b) => a - b);
  }
  get size(): number {
    return this.cache.size;
  }
  add(x: ArrayLike<number>, phi: number[]): void {
    const t = this.t;
    if (this.internal.length > 30) return treeShap(t, x, phi);
    let pat = 0;
    for (let i = 0; i < this.internal.length; i++) if (nodeGoesLeft(t, x, this.internal[i]!)) pat |= 1 << i;
    let vals = this.cache.get(pat);
    if (!vals) {
      const full = new Array<number>(Math.max(0, ...this.features) + 1).fill(0);
      const bit = new Map(this.internal.map((n, i) => [n, i] as const));
      shapRecurse(t, (node) => ((pat >> bit.get(node)!) & 1) === 1, full, 0, [], 0, 1, 1, -1);
      vals = Float64Array.from(this.features, (f) => full[f]!);
      this.cache.set(pat, vals);
    }
    for (let k = 0; k < this.features.length; k++) phi[this.features[k]!]! += vals[k]!;
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
  memos?: ShapMemo[],
): number[] {
  const { weights, fill, means } = spec.linear;
  const phi = new Array<number>(weights.length).fill(0);
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j]!;
    if (w === 0) continue;
    const v = x[j]!;
    phi[j] = w * ((Number.isNaN(v) ? fill[j]! : v) - means[j]!);
  }
  spec.trees.forEach((t, i) => {
    const memo = memos?.[i];
    if (memo) memo.add(x, phi);
    else treeShap(t, x, phi);
  });
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
