// evaluateVancomycin: AUC-guided vancomycin dosing from explicit inputs (pure, synchronous). See docs/tdm.md.
import type { DosingSex } from '../renal/kidney.js';
import { auc24Band, mapEstimate, type MapEstimate } from './bayes.js';
import { findModel, modelCovariates, typicalParams, type Covariates, type PkModelFile, type PkModelSpec, type PkParams } from './pkModel.js';
import { AUC_TARGET, describeRegimen, loadingDose, searchRegimen, TARGET_CITATION, type RegimenProposal } from './regimen.js';
import { concentrations, regimenInfusions, type Infusion, type Regimen } from './twoCompartment.js';

export interface DoseRecord {
  /** infusion start / end, ISO 8601 date-times */
  start: string;
  end: string;
  amountMg: number;
}

export interface LevelRecord {
  /** sampling time, ISO 8601 date-time */
  time: string;
  mgL: number;
}

export interface VancomycinInput {
  ageYears: number;
  sex: DosingSex;
  weightKg: number;
  serumCreatinine: { mgDl: number; source: string };
  onHemodialysis: boolean;
  /** administered doses (empty for a new start) */
  doses: readonly DoseRecord[];
  /** measured levels (empty → prior-only estimate) */
  levels: readonly LevelRecord[];
  /** current regimen; default: inferred from the last dose (amount, duration) and the last two start times (24 h if one dose) */
  currentRegimen?: Regimen;
  /** PK model id (default goti2018) */
  modelId?: string;
}

export interface CurvePoint {
  /** hours since `curve.originIso` (the first dose or level), or since the proposed first dose */
  tH: number;
  mgL: number;
}

export interface VancomycinResult {
  model: { id: string; name: string; citation: string };
  method: 'bayesian' | 'prior';
  covariates: Covariates & { scrMgDl: number; scrSource: string };
  parameters: { typical: PkParams; individual: PkParams; eta: Record<string, number>; objective: number };
  target: { low: number; high: number; aim: number; citation: string };
  current?: { regimen: Regimen; auc24: number; band: { p10: number; p50: number; p90: number }; withinTarget: boolean };
  regimen: {
    loading?: { doseMg: number; infusionH: number; basis: string };
    maintenance: RegimenProposal;
    band: { p10: number; p50: number; p90: number };
  };
  /** predicted concentrations: fitted history (+ one interval after the last dose), or the proposed start */
  curve: { originIso: string | null; kind: 'fitted-history' | 'proposed-start'; points: CurvePoint[]; observed: CurvePoint[] };
  notes: string[];
}

const H = 3600_000;

function toHours(iso: string, originMs: number, what: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`${what}: not a date-time: ${iso}`);
  return (t - originMs) / H;
}

function inferRegimen(doses: readonly Infusion[]): Regimen {
  const last = doses[doses.length - 1]!;
  const prev = doses[doses.length - 2];
  const intervalH = prev ? Math.round(last.startH - prev.startH) : 24;
  return { doseMg: last.amountMg, intervalH: Math.max(intervalH, last.endH - last.startH), infusionH: last.endH - last.startH };
}

/** Largest standardized residual (|observed − predicted| / σ, σ from the model's residual error) still considered explained. */
export const LEVEL_FIT_MAX_Z = 2;

/** Levels the Bayesian fit leaves more than LEVEL_FIT_MAX_Z residual SDs away from what it predicts. */
export function poorFit(model: PkModelSpec, est: MapEstimate): { observed: number; predicted: number; z: number }[] {
  const { additiveMgL: a, proportional: b } = model.residual;
  return est.fit
    .map((f) => ({ observed: f.observed, predicted: f.predicted, z: (f.observed - f.predicted) / Math.sqrt(a * a + (b * f.predicted) ** 2) }))
    .filter((f) => Math.abs(f.z) > LEVEL_FIT_MAX_Z);
}

export function evaluateVancomycin(input: VancomycinInput, models: PkModelFile): VancomycinResult {
  const model = findModel(models, input.modelId ?? 'goti2018');
  const notes: string[] = [];
  const cov = modelCovariates(model, {
    ageYears: input.ageYears,
    sex: input.sex,
    weightKg: input.weightKg,
    scrMgDl: input.serumCreatinine.mgDl,
    onHemodialysis: input.onHemodialysis,
  });
  if (cov.crclUncapped > cov.crcl) notes.push(`Cockcroft-Gault CrCl ${cov.crclUncapped.toFixed(0)} mL/min capped at ${cov.crcl} mL/min (model cap).`);
  if (input.onHemodialysis) {
    const hasHd = Object.values(model.parameters).some((p) => p.effects.some((e) => e.covariate === 'hd'));
    notes.push(
      hasHd
        ? 'Haemodialysis covariates applied (CL × 0.7, Vc × 0.5 in Goti 2018); intradialytic clearance is not modelled — re-dose after dialysis by levels.'
        : `Model ${model.id} has no haemodialysis covariate: estimates are unreliable for this patient.`,
    );
  }
  const typical = typicalParams(model, cov);

  const times = [...input.doses.map((d) => Date.parse(d.start)), ...input.levels.map((l) => Date.parse(l.time))].filter((t) => !Number.isNaN(t));
  const originMs = times.length ? Math.min(...times) : 0;
  const doses: Infusion[] = input.doses
    .map((d) => ({ startH: toHours(d.start, originMs, 'dose start'), endH: toHours(d.end, originMs, 'dose end'), amountMg: d.amountMg }))
    .sort((a, b) => a.startH - b.startH);
  const levels = input.levels.map((l) => ({ tH: toHours(l.time, originMs, 'level time'), mgL: l.mgL }));
  const levelsAfterDose = doses.length ? levels.filter((l) => l.tH > doses[0]!.startH) : [];
  if (levels.length > levelsAfterDose.length) notes.push(`${levels.length - levelsAfterDose.length} level(s) before the first recorded dose ignored.`);
  if (levels.length && !doses.length) notes.push('Levels without a dose history cannot be used: prior-only estimate.');

  const est: MapEstimate = mapEstimate(model, typical, doses, levelsAfterDose);
  const p = est.individual;
  // a level the fitted model cannot explain (beyond ~2 SD of the model's own residual error) usually means a wrong
  // sampling or administration time, or a level drawn during the infusion: say so rather than trust the estimate
  const poorlyFitted = poorFit(model, est);
  if (poorlyFitted.length > 0)
    notes.push(
      `The fitted model does not explain ${poorlyFitted.map((f) => `the level of ${f.observed} mg/L (model ${f.predicted.toFixed(1)} mg/L)`).join(' and ')}: check the sampling and administration times before relying on this estimate; a pharmacist review is advised.`,
    );

  let current: VancomycinResult['current'];
  if (doses.length || input.currentRegimen) {
    const r = input.currentRegimen ?? inferRegimen(doses);
    const d = describeRegimen(p, r);
    current = { regimen: r, auc24: d.auc24, band: auc24Band(est, (r.doseMg * 24) / r.intervalH), withinTarget: d.withinTarget };
  }
  const maintenance = searchRegimen(p);
  if (!maintenance.withinTarget) notes.push(`No practical regimen reaches AUC24 400–600 mg·h/L; closest is ${maintenance.auc24.toFixed(0)}.`);
  const loading = doses.length === 0 ? loadingDose(input.weightKg) : undefined;
  if (est.method === 'prior') notes.push('No usable levels: population (prior) estimate; measure a peak and a trough to individualise.');

  // curve
  let points: CurvePoint[];
  let kind: VancomycinResult['curve']['kind'];
  if (doses.length) {
    kind = 'fitted-history';
    const last = doses[doses.length - 1]!;
    const tau = current?.regimen.intervalH ?? 24;
    const end = Math.max(last.startH + tau, ...levels.map((l) => l.tH));
    const start = doses[0]!.startH;
    const ts = Array.from({ length: 61 }, (_, i) => start + ((end - start) * i) / 60);
    points = concentrations(p, doses, ts).map((c, i) => ({ tH: ts[i]!, mgL: c }));
  } else {
    kind = 'proposed-start';
    const infs: Infusion[] = [];
    if (loading) infs.push({ startH: 0, endH: loading.infusionH, amountMg: loading.doseMg });
    const first = loading ? maintenance.intervalH : 0;
    infs.push(...regimenInfusions(maintenance, Math.ceil(48 / maintenance.intervalH) + 1, first));
    const ts = Array.from({ length: 49 }, (_, i) => i);
    points = concentrations(p, infs, ts).map((c, i) => ({ tH: ts[i]!, mgL: c }));
  }
  const round = (v: number): number => Math.round(v * 100) / 100;

  return {
    model: { id: model.id, name: model.name, citation: model.citation },
    method: est.method,
    covariates: { ...cov, scrMgDl: input.serumCreatinine.mgDl, scrSource: input.serumCreatinine.source },
    parameters: {
      typical,
      individual: p,
      eta: Object.fromEntries(est.etaNames.map((n, i) => [n, est.eta[i]!])),
      objective: est.objective,
    },
    target: { ...AUC_TARGET, citation: TARGET_CITATION },
    ...(current ? { current } : {}),
    regimen: {
      ...(loading ? { loading } : {}),
      maintenance,
      band: auc24Band(est, (maintenance.doseMg * 24) / maintenance.intervalH),
    },
    curve: {
      originIso: kind === 'fitted-history' ? new Date(originMs).toISOString() : null,
      kind,
      points: points.map((q) => ({ tH: round(q.tH), mgL: round(q.mgL) })),
      observed: levelsAfterDose.map((l) => ({ tH: round(l.tH), mgL: l.mgL })),
    },
    notes,
  };
}

