// Metrics used for the warfarin model: MAE (mg/week), PW20 (% within ±20% of the actual dose), 80% PI coverage.
import { DOSE_BANDS, doseBand, type DoseBand } from './iwpcData.js';

export interface Scored {
  actual: number;
  pred: number;
  low?: number;
  high?: number;
  /** IWPC pharmacogenetic prediction, when age, height and weight are present */
  iwpc?: number;
}

const r2 = (v: number): number => Math.round(v * 100) / 100;

export function mae(xs: { actual: number; pred: number }[]): number {
  return xs.length ? xs.reduce((s, x) => s + Math.abs(x.pred - x.actual), 0) / xs.length : NaN;
}
export function pw20(xs: { actual: number; pred: number }[]): number {
  return xs.length ? (100 * xs.filter((x) => Math.abs(x.pred - x.actual) <= 0.2 * x.actual).length) / xs.length : NaN;
}
export function coverage(xs: Scored[]): number {
  const w = xs.filter((x) => x.low !== undefined && x.high !== undefined);
  return w.length ? (100 * w.filter((x) => x.low! <= x.actual && x.actual <= x.high!).length) / w.length : NaN;
}

export interface GroupMetrics {
  n: number;
  mae: number;
  pw20: number;
  coverage80: number;
  /** IWPC figures over the rows of the group where the IWPC equation can be computed (complete cases) */
  iwpc_n: number;
  iwpc_mae: number;
  iwpc_pw20: number;
  /** the model on the same complete rows */
  mae_complete: number;
  pw20_complete: number;
}

export function groupMetrics(xs: Scored[]): GroupMetrics {
  const complete = xs.filter((x) => x.iwpc !== undefined);
  const iw = complete.map((x) => ({ actual: x.actual, pred: x.iwpc! }));
  return {
    n: xs.length,
    mae: r2(mae(xs)),
    pw20: r2(pw20(xs)),
    coverage80: r2(coverage(xs)),
    iwpc_n: complete.length,
    iwpc_mae: r2(mae(iw)),
    iwpc_pw20: r2(pw20(iw)),
    mae_complete: r2(mae(complete)),
    pw20_complete: r2(pw20(complete)),
  };
}

export interface EvaluationSummary {
  n: number;
  mae: number;
  pw20: number;
  coverage80: number;
  iwpc_mae: number;
  iwpc_pw20: number;
  n_complete: number;
  mae_complete: number;
  pw20_complete: number;
  coverage80_complete: number;
  iwpc_mae_complete: number;
  iwpc_pw20_complete: number;
  by_band: Record<DoseBand, GroupMetrics>;
}

/** The evaluation JSON: overall, complete cases, and by actual dose band. iwpc_* always over complete rows. */
export function summarize(xs: Scored[]): EvaluationSummary {
  const all = groupMetrics(xs);
  const complete = xs.filter((x) => x.iwpc !== undefined);
  const by = {} as Record<DoseBand, GroupMetrics>;
  for (const b of DOSE_BANDS) by[b] = groupMetrics(xs.filter((x) => doseBand(x.actual) === b));
  return {
    n: all.n,
    mae: all.mae,
    pw20: all.pw20,
    coverage80: all.coverage80,
    iwpc_mae: all.iwpc_mae,
    iwpc_pw20: all.iwpc_pw20,
    n_complete: complete.length,
    mae_complete: all.mae_complete,
    pw20_complete: all.pw20_complete,
    coverage80_complete: r2(coverage(complete)),
    iwpc_mae_complete: all.iwpc_mae,
    iwpc_pw20_complete: all.iwpc_pw20,
    by_band: by,
  };
}
