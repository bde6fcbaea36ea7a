// Exact Shapley values of the model against ONE reference patient (baseline Shapley: a factor "absent" takes the
// reference patient's value), so that the explanation reads as clinicians read dosing tables: "VKORC1 A/G lowers the
// dose by x mg/week compared with a VKORC1 G/G patient". Linear part: w·(x − ref), exact. Trees: a leaf with value
// v is reached by the hybrid input (x on coalition S, ref elsewhere) iff S contains every feature A on its path that
// only x satisfies and none B that only ref satisfies (a path feature neither satisfies: never reached), so with
// a = |A|, b = |B| the leaf gives each i ∈ A  v·(a−1)!·b!/(a+b)!  and each i ∈ B  −v·a!·(b−1)!/(a+b)!.
// Σ contributions = sqrtDose(x) − sqrtDose(ref) exactly.
import { f32, type FlatTree, type WarfarinModelSpec } from './spec.js';

const FACT = [1, 1, 2, 6, 24, 120, 720, 5040, 40320, 362880, 3628800];

function goesLeft(t: FlatTree, node: number, v: number): boolean {
  return Number.isNaN(v) ? t.missingLeft[node] === 1 : v <= t.threshold[node]!;
}

/** Adds one tree's baseline Shapley values for x against ref to phi. */
export function treeBaselineShap(t: FlatTree, x: ArrayLike<number>, ref: ArrayLike<number>, phi: number[]): void {
  // per path feature: 1 = x satisfies all its conditions so far, 2 = ref does (bit flags)
  const state = new Map<number, number>();
  const walk = (node: number): void => {
    const f = t.feature[node]!;
    if (f < 0) {
      const v = t.value[node]!;
      if (v === 0) return;
      let a = 0;
      let b = 0;
      for (const s of state.values()) {
        if (s === 0) return;
        if (s === 1) a++;
        else if (s === 2) b++;
      }
      if (a + b === 0) return;
      const wa = a > 0 ? (v * FACT[a - 1]! * FACT[b]!) / FACT[a + b]! : 0;
      const wb = b > 0 ? (-v * FACT[a]! * FACT[b - 1]!) / FACT[a + b]! : 0;
      for (const [feat, s] of state) {
        if (s === 1) phi[feat]! += wa;
        else if (s === 2) phi[feat]! += wb;
      }
      return;
    }
    const xl = goesLeft(t, node, f32(x[f]!));
    const rl = goesLeft(t, node, f32(ref[f]!));
    const before = state.get(f) ?? 3;
    for (const left of [true, false]) {
      const s = before & ((xl === left ? 1 : 0) | (rl === left ? 2 : 0));
      // neither input reaches this branch: nothing below it is ever reached by a hybrid input
      if (s === 0) continue;
      state.set(f, s);
      walk(left ? t.left[node]! : t.right[node]!);
    }
    if (before === 3) state.delete(f);
    else state.set(f, before);
  };
  walk(0);
}

/** Per-column contributions on the sqrt scale against the reference input (linear terms exact, trees exact). */
export function baselineContributions(spec: WarfarinModelSpec, x: ArrayLike<number>, ref: ArrayLike<number>): number[] {
  const { weights, fill } = spec.linear;
  const phi = new Array<number>(weights.length).fill(0);
  const imp = (v: number, j: number): number => (Number.isNaN(v) ? fill[j]! : v);
  for (let j = 0; j < weights.length; j++) {
    const w = weights[j]!;
    if (w !== 0) phi[j] = w * (imp(x[j]!, j) - imp(ref[j]!, j));
  }
  for (const t of spec.trees) treeBaselineShap(t, x, ref, phi);
  return phi;
}
