// MAP Bayesian estimation of the between-subject random effects η from a dose history and measured levels. Pure,
// deterministic (fixed starting points, no randomness in the optimizer).
import {
  etaNames,
  individualParams,
  omegaSquared,
  type ParamName,
  type PkModelSpec,
  type PkParams,
} from './pkModel.js';
import { concentrations, type Infusion } from './twoCompartment.js';

/** A measured level: time on the same clock as the infusions (h), concentration mg/L. */
export interface Level {
  tH: number;
  mgL: number;
}

export interface MapEstimate {
  method: 'bayesian' | 'prior';
  etaNames: ParamName[];
  eta: number[];
  /** ω² of each η (prior variance) */
  omega2: number[];
  typical: PkParams;
  individual: PkParams;
  /** MAP objective at the estimate (−2 log posterior up to a constant); 0 for prior-only */
  objective: number;
  /** Laplace approximation: covariance of η at the mode (= 2 H⁻¹ of the objective); the prior Ω for prior-only */
  covariance: number[][];
  /** individual predictions at the levels (empty for prior-only) */
  fit: { tH: number; observed: number; predicted: number }[];
  optimizer?: { evaluations: number; restarts: number };
}

/** Σ η²/ω² + Σ [(obs − pred)²/σ² + ln σ²], σ² = add² + (prop·pred)². */
export function mapObjective(model: PkModelSpec, typical: PkParams, doses: readonly Infusion[], levels: readonly Level[], eta: readonly number[]): number {
  const om = omegaSquared(model);
  let obj = 0;
  for (let i = 0; i < eta.length; i++) obj += eta[i]! ** 2 / om[i]!;
  if (!Number.isFinite(obj)) return Number.POSITIVE_INFINITY;
  const p = individualParams(model, typical, eta);
  const pred = concentrations(
    p,
    doses,
    levels.map((l) => l.tH),
  );
  const { additiveMgL: a, proportional: b } = model.residual;
  for (let j = 0; j < levels.length; j++) {
    const c = pred[j]!;
    const s2 = a * a + (b * c) ** 2;
    obj += (levels[j]!.mgL - c) ** 2 / s2 + Math.log(s2);
  }
  return Number.isFinite(obj) ? obj : Number.POSITIVE_INFINITY;
}

export interface NelderMeadResult {
  x: number[];
  fx: number;
  evaluations: number;
}

/** Nelder–Mead simplex minimiser (standard coefficients 1, 2, 0.5, 0.5). */
export function nelderMead(f: (x: number[]) => number, x0: readonly number[], opts: { step?: number; maxEval?: number; tol?: number } = {}): NelderMeadResult {
  const n = x0.length;
  const step = opts.step ?? 0.3;
  const maxEval = opts.maxEval ?? 2000;
  const tol = opts.tol ?? 1e-9;
  let evals = 0;
  const fe = (x: number[]): number => {
    evals++;
    return f(x);
  };
  let simplex: { x: number[]; f: number }[] = [{ x: [...x0], f: fe([...x0]) }];
  for (let i = 0; i < n; i++) {
    const x = [...x0];
    x[i] = x[i]! + step;
    simplex.push({ x, f: fe(x) });
  }
  const comb = (a: number[], b: number[], t: number): number[] => a.map((v, i) => v + t * (b[i]! - v));
  while (evals < maxEval) {
    simplex.sort((p, q) => p.f - q.f);
    const best = simplex[0]!;
    const worst = simplex[n]!;
    const spread = Math.abs(worst.f - best.f);
    const size = Math.max(...simplex.slice(1).map((s) => Math.max(...s.x.map((v, i) => Math.abs(v - best.x[i]!)))));
    if (spread < tol * (1 + Math.abs(best.f)) && size < 1e-6) break;
    const centroid = new Array<number>(n).fill(0);
    for (let k = 0; k < n; k++) for (let i = 0; i < n; i++) centroid[i]! += simplex[k]!.x[i]! / n;
    const xr = comb(centroid, worst.x, -1);
    const fr = fe(xr);
    if (fr < best.f) {
      const xe = comb(centroid, worst.x, -2);
      const fe2 = fe(xe);
      simplex[n] = fe2 < fr ? { x: xe, f: fe2 } : { x: xr, f: fr };
    } else if (fr < simplex[n - 1]!.f) {
      simplex[n] = { x: xr, f: fr };
    } else {
      const outside = fr < worst.f;
      const xc = outside ? comb(centroid, xr, 0.5) : comb(centroid, worst.x, 0.5);
      const fc = fe(xc);
      if (fc < (outside ? fr : worst.f)) simplex[n] = { x: xc, f: fc };
      else {
        simplex = simplex.map((s, k) => {
          if (k === 0) return s;
          const x = comb(best.x, s.x, 0.5);
          return { x, f: fe(x) };
        });
      }
    }
  }
  simplex.sort((p, q) => p.f - q.f);
  return { x: simplex[0]!.x, fx: simplex[0]!.f, evaluations: evals };
}

/** Central-difference Hessian. */
export function numericalHessian(f: (x: number[]) => number, x: readonly number[], h = 1e-3): number[][] {
  const n = x.length;
  const H = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  const at = (d: [number, number][]): number => {
    const y = [...x];
    for (const [i, v] of d) y[i] = y[i]! + v;
    return f(y);
  };
  const f0 = f([...x]);
  for (let i = 0; i < n; i++) {
    H[i]![i] = (at([[i, h]]) - 2 * f0 + at([[i, -h]])) / (h * h);
    for (let j = i + 1; j < n; j++) {
      const v = (at([[i, h], [j, h]]) - at([[i, h], [j, -h]]) - at([[i, -h], [j, h]]) + at([[i, -h], [j, -h]])) / (4 * h * h);
      H[i]![j] = v;
      H[j]![i] = v;
    }
  }
  return H;
}

/** Cholesky factor L (A = L Lᵀ) or undefined if A is not positive definite. */
export function cholesky(A: readonly (readonly number[])[]): number[][] | undefined {
  const n = A.length;
  const L = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = A[i]![j]!;
      for (let k = 0; k < j; k++) s -= L[i]![k]! * L[j]![k]!;
      if (i === j) {
        if (!(s > 0)) return undefined;
        L[i]![i] = Math.sqrt(s);
      } else L[i]![j] = s / L[j]![j]!;
    }
  return L;
}

/** Inverse of a symmetric positive-definite matrix via Cholesky (undefined if not PD). */
export function invertSpd(A: readonly (readonly number[])[]): number[][] | undefined {
  const L = cholesky(A);
  if (!L) return undefined;
  const n = A.length;
  const inv = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (let c = 0; c < n; c++) {
    // solve L y = e_c, then Lᵀ x = y
    const y = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) {
      let s = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) s -= L[i]![k]! * y[k]!;
      y[i] = s / L[i]![i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= L[k]![i]! * inv[k]![c]!;
      inv[i]![c] = s / L[i]![i]!;
    }
  }
  return inv;
}

function diag(v: readonly number[]): number[][] {
  return v.map((x, i) => v.map((_, j) => (i === j ? x : 0)));
}

/** Prior-only estimate: η = 0, covariance Ω. */
export function priorEstimate(model: PkModelSpec, typical: PkParams): MapEstimate {
  const om = omegaSquared(model);
  return {
    method: 'prior',
    etaNames: etaNames(model),
    eta: om.map(() => 0),
    omega2: om,
    typical,
    individual: { ...typical },
    objective: 0,
    covariance: diag(om),
    fit: [],
  };
}

/**
 * MAP estimate of η. Nelder–Mead from several deterministic starting points (η = 0 and ±1 ω along each axis), then
 * restarts from the best point with a fresh, smaller simplex until the objective stops improving. Without levels,
 * the prior estimate is returned.
 */
export function mapEstimate(model: PkModelSpec, typical: PkParams, doses: readonly Infusion[], levels: readonly Level[]): MapEstimate {
  const usable = levels.filter((l) => Number.isFinite(l.tH) && Number.isFinite(l.mgL));
  if (usable.length === 0 || doses.length === 0) return priorEstimate(model, typical);
  const om = omegaSquared(model);
  const n = om.length;
  const f = (eta: number[]): number => mapObjective(model, typical, doses, usable, eta);
  const starts: number[][] = [new Array<number>(n).fill(0)];
  for (let i = 0; i < n; i++)
    for (const s of [-1, 1]) {
      const x = new Array<number>(n).fill(0);
      x[i] = s * Math.sqrt(om[i]!);
      starts.push(x);
    }
  let evaluations = 0;
  let best: NelderMeadResult | undefined;
  for (const x0 of starts) {
    const r = nelderMead(f, x0, { step: 0.3 });
    evaluations += r.evaluations;
    if (!best || r.fx < best.fx) best = r;
  }
  let restarts = 0;
  for (let k = 0; k < 5; k++) {
    const r = nelderMead(f, best!.x, { step: 0.05 });
    evaluations += r.evaluations;
    restarts++;
    const improved = best!.fx - r.fx;
    if (r.fx < best!.fx) best = r;
    if (!(improved > 1e-9)) break;
  }
  const eta = best!.x;
  const individual = individualParams(model, typical, eta);
  const H = numericalHessian(f, eta);
  // objective = −2 log posterior ⇒ covariance = (H/2)⁻¹; fall back to Ω if the Hessian is not positive definite
  let cov = invertSpd(H.map((row) => row.map((v) => v / 2)));
  if (!cov) cov = diag(om);
  const pred = concentrations(
    individual,
    doses,
    usable.map((l) => l.tH),
  );
  return {
    method: 'bayesian',
    etaNames: etaNames(model),
    eta,
    omega2: om,
    typical,
    individual,
    objective: best!.fx,
    covariance: cov,
    fit: usable.map((l, j) => ({ tH: l.tH, observed: l.mgL, predicted: pred[j]! })),
    optimizer: { evaluations, restarts },
  };
}

/** Standard normal quantile at 0.9 (for the 10th–90th percentile band). */
export const Z90 = 1.2815515655446004;

/**
 * 10th–90th percentile of steady-state AUC24 = daily dose / CL under the Laplace approximation: η_CL ~ N(η̂_CL, Var),
 * CL log-normal ⇒ the band is exact for that approximation (no Monte Carlo noise).
 */
export function auc24Band(est: MapEstimate, dailyDoseMg: number): { p10: number; p50: number; p90: number } {
  const i = est.etaNames.indexOf('CL');
  const cl = est.individual.CL;
  if (i < 0) {
    const v = dailyDoseMg / cl;
    return { p10: v, p50: v, p90: v };
  }
  const sd = Math.sqrt(Math.max(0, est.covariance[i]![i]!));
  return { p10: dailyDoseMg / (cl * Math.exp(Z90 * sd)), p50: dailyDoseMg / cl, p90: dailyDoseMg / (cl * Math.exp(-Z90 * sd)) };
}
