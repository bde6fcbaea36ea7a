// Figures by genotype stratum (issue 16): the same held-out patients, with both genotypes on file, shown in each
// stratum by removing genotypes; the dose model next to the IWPC equation that stratum would otherwise get
// (src/dosing/warfarin/iwpc.ts iwpcForStratum). Used by the training script (nested CV) and the evaluation CLI.
import { GENOTYPE_STRATA, STRATUM_EQUATION, STRATUM_LABELS, type GenotypeStratum, type StratumServedBy } from '../domain/genotypeStratum.js';
import { coverage, mae, pw20, type Scored } from './metrics.js';

const r2 = (v: number): number => Math.round(v * 100) / 100;

/** One method's figures on one stratum's rows. */
export interface MethodFigures {
  mae: number;
  pw20: number;
  /** % of rows whose actual dose is inside the 80% interval (NaN when the method gave no interval) */
  coverage80: number;
  /** the actual ≥ 49 mg/week band */
  n_ge49: number;
  mae_ge49: number;
  pw20_ge49: number;
}

export interface StratumFigures {
  stratum: GenotypeStratum;
  /** "genotype on file: …" */
  label: string;
  n: number;
  equationName: string;
  model: MethodFigures;
  equation: MethodFigures;
  /** MAE of the model, % below the equation (positive = better) */
  maeGainPct: number;
  /** PW20 of the model minus the equation, percentage points */
  pw20GainPoints: number;
  servedBy: StratumServedBy;
  /** the method the service uses in this stratum */
  served: MethodFigures;
  /** issue 16 target: served MAE ≥ 2% below and PW20 ≥ 1 point above the equation, coverage 77–83% */
  targetMet: boolean;
}

/** A held-out row in one stratum: actual dose, the model's and the equation's predictions and intervals. */
export interface StratumRow {
  actual: number;
  model: { pred: number; low: number; high: number };
  equation: { pred: number; low?: number; high?: number };
}

export function methodFigures(xs: Scored[]): MethodFigures {
  const hi = xs.filter((x) => x.actual >= 49);
  return { mae: r2(mae(xs)), pw20: r2(pw20(xs)), coverage80: r2(coverage(xs)), n_ge49: hi.length, mae_ge49: r2(mae(hi)), pw20_ge49: r2(pw20(hi)) };
}

export const EQUATION_NAMES: Record<GenotypeStratum, string> = {
  both: 'IWPC pharmacogenetic',
  vkorc1Only: 'IWPC pharmacogenetic, CYP2C9 unknown',
  cyp2c9Only: 'IWPC clinical',
  none: 'IWPC clinical',
};

/**
 * The model serves a stratum when it beats the equation there (lower MAE and higher PW20); otherwise the equation
 * does. `servedBy` given (the evaluation CLI: as the committed card says) overrides that choice.
 */
export function stratumFigures(s: GenotypeStratum, rows: StratumRow[], servedBy?: StratumServedBy): StratumFigures {
  const model = methodFigures(rows.map((r) => ({ actual: r.actual, ...r.model })));
  const equation = methodFigures(rows.map((r) => ({ actual: r.actual, ...r.equation })));
  const maeGainPct = r2((100 * (equation.mae - model.mae)) / equation.mae);
  const pw20GainPoints = r2(model.pw20 - equation.pw20);
  const by = servedBy ?? (maeGainPct > 0 && pw20GainPoints > 0 ? 'model' : 'equation');
  const served = by === 'model' ? model : equation;
  const gain = by === 'model' ? { mae: maeGainPct, pw20: pw20GainPoints } : { mae: 0, pw20: 0 };
  return {
    stratum: s,
    label: STRATUM_LABELS[s],
    n: rows.length,
    equationName: `${EQUATION_NAMES[s]} (${STRATUM_EQUATION[s]} equation)`,
    model,
    equation,
    maeGainPct,
    pw20GainPoints,
    servedBy: by,
    served,
    targetMet: gain.mae >= 2 && gain.pw20 >= 1 && served.coverage80 >= 77 && served.coverage80 <= 83,
  };
}

/** All four strata, in the fixed order. */
export function strataTable(rows: Record<GenotypeStratum, StratumRow[]>, servedBy?: Partial<Record<GenotypeStratum, StratumServedBy>>): StratumFigures[] {
  return GENOTYPE_STRATA.map((s) => stratumFigures(s, rows[s], servedBy?.[s]));
}

const f = (v: number): string => (Number.isNaN(v) ? '–' : v.toFixed(2));

/** The strata table in Markdown (card, docs, README). */
export function strataMarkdown(t: StratumFigures[]): string[] {
  const lines = [
    '| genotype on file | n | served by | model MAE | equation MAE | model PW20 % | equation PW20 % | ≥49: model MAE / PW20 | ≥49: equation MAE / PW20 | model coverage80 % | equation coverage80 % |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of t)
    lines.push(
      `| ${s.label} | ${s.n} | ${s.servedBy === 'model' ? 'model' : `equation (${EQUATION_NAMES[s.stratum]})`} | ${f(s.model.mae)} | ${f(s.equation.mae)} (${EQUATION_NAMES[s.stratum]}) | ${f(s.model.pw20)} | ${f(s.equation.pw20)} | ${f(s.model.mae_ge49)} / ${f(s.model.pw20_ge49)} (n ${s.model.n_ge49}) | ${f(s.equation.mae_ge49)} / ${f(s.equation.pw20_ge49)} | ${f(s.model.coverage80)} | ${f(s.equation.coverage80)} |`,
    );
  return lines;
}
