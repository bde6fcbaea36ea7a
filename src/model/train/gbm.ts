// Small deterministic gradient-boosted regression trees (histogram splits, L2 loss with sample weights,
// learned direction for missing values, row subsampling from a seeded PRNG). Used for the sqrt-dose residuals.
import { f32, treeValue, type FlatTree } from '../spec.js';

export interface GbmParams {
  maxRounds: number;
  learningRate: number;
  maxDepth: number;
  minLeaf: number;
  lambda: number;
  subsample: number;
  maxBins: number;
  seed: number;
  /** Huber loss threshold on the sqrt scale (0 = plain squared loss) */
  huberDelta: number;
}

export const DEFAULT_GBM: GbmParams = {
  maxRounds: 500,
  learningRate: 0.03,
  maxDepth: 4,
  minLeaf: 30,
  lambda: 5,
  subsample: 0.7,
  maxBins: 48,
  seed: 20090219,
  huberDelta: 0.3,
};

/** mulberry32: tiny seeded PRNG, identical on every platform. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Binned {
  /** per used feature: bin index per row (MISSING for NaN) */
  bins: Uint8Array[];
  /** per used feature: float32 thresholds between bin k and k+1 */
  thresholds: number[][];
  features: number[];
}

const MISSING = 255;

function binFeatures(X: ArrayLike<number>[], features: number[], maxBins: number): Binned {
  const n = X.length;
  const bins: Uint8Array[] = [];
  const thresholds: number[][] = [];
  for (const f of features) {
    const vals: number[] = [];
    for (let i = 0; i < n; i++) {
      const v = f32(X[i]![f]!);
      if (!Number.isNaN(v)) vals.push(v);
    }
    vals.sort((a, b) => a - b);
    const uniq: number[] = [];
    const counts: number[] = [];
    for (const v of vals) {
      if (uniq.length && uniq[uniq.length - 1] === v) counts[counts.length - 1]!++;
      else {
        uniq.push(v);
        counts.push(1);
      }
    }
    const thr: number[] = [];
    if (uniq.length <= maxBins) {
      for (let k = 0; k + 1 < uniq.length; k++) thr.push(f32((uniq[k]! + uniq[k + 1]!) / 2));
    } else {
      let cum = 0;
      let next = vals.length / maxBins;
      for (let k = 0; k + 1 < uniq.length; k++) {
        cum += counts[k]!;
        if (cum >= next) {
          thr.push(f32((uniq[k]! + uniq[k + 1]!) / 2));
          while (next <= cum) next += vals.length / maxBins;
        }
      }
    }
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = f32(X[i]![f]!);
      if (Number.isNaN(v)) b[i] = MISSING;
      else {
        let lo = 0;
        let hi = thr.length; // bin = number of thresholds strictly below v
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (v <= thr[mid]!) hi = mid;
          else lo = mid + 1;
        }
        b[i] = lo;
      }
    }
    bins.push(b);
    thresholds.push(thr);
  }
  return { bins, thresholds, features };
}

interface TreeBuilder {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  missingLeft: number[];
  value: number[];
}

function growTree(
  B: Binned,
  idx: Int32Array,
  g: Float64Array,
  h: Float64Array,
  p: GbmParams,
): FlatTree {
  const t: TreeBuilder = { feature: [], threshold: [], left: [], right: [], missingLeft: [], value: [] };
  const newNode = (): number => {
    t.feature.push(-1);
    t.threshold.push(0);
    t.left.push(-1);
    t.right.push(-1);
    t.missingLeft.push(0);
    t.value.push(0);
    return t.feature.length - 1;
  };
  const grow = (rows: Int32Array, depth: number): number => {
    const node = newNode();
    let G = 0;
    let H = 0;
    for (const i of rows) {
      G += g[i]!;
      H += h[i]!;
    }
    const leaf = (): number => {
      t.value[node] = f32((-G / (H + p.lambda)) * p.learningRate);
      return node;
    };
    if (depth >= p.maxDepth || rows.length < 2 * p.minLeaf) return leaf();
    const parentScore = (G * G) / (H + p.lambda);
    let best = { gain: 1e-9, fi: -1, k: -1, missLeft: 0 };
    for (let fi = 0; fi < B.features.length; fi++) {
      const thr = B.thresholds[fi]!;
      const nb = thr.length + 1;
      if (nb < 2) continue;
      const bins = B.bins[fi]!;
      const hg = new Float64Array(nb + 1);
      const hh = new Float64Array(nb + 1);
      const hc = new Int32Array(nb + 1);
      for (const i of rows) {
        const bb = bins[i]!;
        const k = bb === MISSING ? nb : bb;
        hg[k]! += g[i]!;
        hh[k]! += h[i]!;
        hc[k]!++;
      }
      const mg = hg[nb]!;
      const mh = hh[nb]!;
      const mc = hc[nb]!;
      let lg = 0;
      let lh = 0;
      let lc = 0;
      for (let k = 0; k < nb - 1; k++) {
        lg += hg[k]!;
        lh += hh[k]!;
        lc += hc[k]!;
        const rgA = G - lg - mg;
        const rhA = H - lh - mh;
        const rcA = rows.length - lc - mc;
        // missing → right
        if (lc >= p.minLeaf && rcA + mc >= p.minLeaf) {
          const gain = (lg * lg) / (lh + p.lambda) + ((rgA + mg) * (rgA + mg)) / (rhA + mh + p.lambda) - parentScore;
          if (gain > best.gain) best = { gain, fi, k, missLeft: mc === 0 && lc > rcA ? 1 : 0 };
        }
        // missing → left
        if (mc > 0 && lc + mc >= p.minLeaf && rcA >= p.minLeaf) {
          const gain = ((lg + mg) * (lg + mg)) / (lh + mh + p.lambda) + (rgA * rgA) / (rhA + p.lambda) - parentScore;
          if (gain > best.gain) best = { gain, fi, k, missLeft: 1 };
        }
      }
    }
    if (best.fi < 0) return leaf();
    const bins = B.bins[best.fi]!;
    const L: number[] = [];
    const R: number[] = [];
    for (const i of rows) {
      const bb = bins[i]!;
      const goLeft = bb === MISSING ? best.missLeft === 1 : bb <= best.k;
      (goLeft ? L : R).push(i);
    }
    t.feature[node] = B.features[best.fi]!;
    t.threshold[node] = B.thresholds[best.fi]![best.k]!;
    t.missingLeft[node] = best.missLeft;
    const l = grow(Int32Array.from(L), depth + 1);
    const r = grow(Int32Array.from(R), depth + 1);
    t.left[node] = l;
    t.right[node] = r;
    return node;
  };
  grow(idx, 0);
  return { ...t, cover: new Array<number>(t.feature.length).fill(0) };
}

/** Counts how many rows of X reach each node (node covers: the expected tree value). */
export function setCovers(t: FlatTree, X: ArrayLike<number>[]): void {
  t.cover = new Array<number>(t.feature.length).fill(0);
  for (const x of X) {
    let node = 0;
    for (;;) {
      t.cover[node]!++;
      const f = t.feature[node]!;
      if (f < 0) break;
      const v = f32(x[f]!);
      const goLeft = Number.isNaN(v) ? t.missingLeft[node] === 1 : v <= t.threshold[node]!;
      node = goLeft ? t.left[node]! : t.right[node]!;
    }
  }
}

export interface GbmFit {
  trees: FlatTree[];
}

/**
 * Boost on y (sqrt dose) starting from `offset` (the linear part's prediction). Rows with weight w.
 * `rounds` trees are grown; callers choose rounds by inner cross-validation.
 */
export function fitGbm(
  X: ArrayLike<number>[],
  y: ArrayLike<number>,
  offset: ArrayLike<number>,
  w: ArrayLike<number>,
  features: number[],
  rounds: number,
  p: GbmParams,
): GbmFit {
  const n = X.length;
  const B = binFeatures(X, features, p.maxBins);
  const pred = Float64Array.from(offset);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const rand = mulberry32(p.seed);
  const trees: FlatTree[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < n; i++) {
      const e = pred[i]! - y[i]!;
      g[i] = w[i]! * (p.huberDelta > 0 ? Math.max(-p.huberDelta, Math.min(p.huberDelta, e)) : e);
      h[i] = w[i]!;
    }
    const sel: number[] = [];
    for (let i = 0; i < n; i++) if (rand() < p.subsample) sel.push(i);
    const tree = growTree(B, Int32Array.from(sel), g, h, p);
    for (let i = 0; i < n; i++) pred[i]! += treeValue(tree, X[i]!);
    trees.push(tree);
  }
  for (const t of trees) setCovers(t, X);
  return { trees };
}
