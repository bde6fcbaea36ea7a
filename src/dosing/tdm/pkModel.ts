// Population PK models as data (knowledge/pk-models.json): types, validation, typical and individual parameters. Pure.
import { cockcroftGault, type DosingSex } from '../renal/kidney.js';

export type CovariateName = 'crcl' | 'weight' | 'hd';
export type ParamName = 'CL' | 'Vc' | 'Vp' | 'Q';
/** Fixed order of the PK parameters; η vectors follow this order restricted to parameters with IIV. */
export const PARAM_NAMES: readonly ParamName[] = ['CL', 'Vc', 'Vp', 'Q'];

export type CovariateEffect =
  /** × (x / reference)^exponent */
  | { type: 'power'; covariate: CovariateName; reference: number; exponent: number }
  /** × (1 + slope × (x − center)) */
  | { type: 'linear'; covariate: CovariateName; center: number; slope: number }
  /** × factor^x, x ∈ {0, 1} */
  | { type: 'flag'; covariate: CovariateName; factor: number };

export interface ParameterSpec {
  unit: string;
  typical: number;
  effects: CovariateEffect[];
  /** between-subject CV (log-normal); absent = no IIV */
  iivCv?: number;
}

export interface PkModelSpec {
  id: string;
  drug: string;
  name: string;
  citation: string;
  structure: 'two-compartment';
  covariates: { crcl: { method: 'cockcroft-gault'; weight: 'actual'; capMlMin: number } };
  parameters: Record<ParamName, ParameterSpec>;
  residual: { additiveMgL: number; proportional: number };
  notes?: string;
}

export interface PkModelFile {
  provenance: Record<string, string>;
  models: PkModelSpec[];
}

/** Two-compartment parameters: CL, Q in L/h; Vc, Vp in L. */
export type PkParams = Record<ParamName, number>;

export interface Covariates {
  /** Cockcroft-Gault CrCl (mL/min), after the model's cap */
  crcl: number;
  /** CrCl before the cap, for display */
  crclUncapped: number;
  weight: number;
  hd: 0 | 1;
}

export interface PatientCovariateInput {
  ageYears: number;
  sex: DosingSex;
  weightKg: number;
  scrMgDl: number;
  onHemodialysis: boolean;
}

function fail(msg: string): never {
  throw new Error(`pk-models.json: ${msg}`);
}
const isPosNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v > 0;

/** Validate parsed JSON (throws with a path-like message); returns it typed. */
export function validatePkModels(raw: unknown): PkModelFile {
  if (typeof raw !== 'object' || raw === null) fail('not an object');
  const f = raw as Partial<PkModelFile>;
  if (typeof f.provenance !== 'object' || f.provenance === null) fail('missing provenance');
  if (!Array.isArray(f.models) || f.models.length === 0) fail('no models');
  const ids = new Set<string>();
  for (const m of f.models) {
    const where = `model ${String(m?.id)}`;
    if (typeof m.id !== 'string' || !m.id) fail('model without id');
    if (ids.has(m.id)) fail(`duplicate model id ${m.id}`);
    ids.add(m.id);
    if (typeof m.citation !== 'string' || !m.citation) fail(`${where}: missing citation`);
    if (m.structure !== 'two-compartment') fail(`${where}: unsupported structure ${String(m.structure)}`);
    if (!isPosNum(m.covariates?.crcl?.capMlMin) || m.covariates.crcl.method !== 'cockcroft-gault') fail(`${where}: crcl covariate`);
    if (!isPosNum(m.residual?.additiveMgL) && m.residual?.additiveMgL !== 0) fail(`${where}: residual.additiveMgL`);
    if (typeof m.residual.proportional !== 'number' || m.residual.proportional < 0) fail(`${where}: residual.proportional`);
    if (m.residual.additiveMgL === 0 && m.residual.proportional === 0) fail(`${where}: residual error is zero`);
    for (const p of PARAM_NAMES) {
      const s = m.parameters?.[p];
      if (!s) fail(`${where}: missing parameter ${p}`);
      if (!isPosNum(s.typical)) fail(`${where}.${p}: typical`);
      if (s.iivCv !== undefined && !isPosNum(s.iivCv)) fail(`${where}.${p}: iivCv`);
      if (!Array.isArray(s.effects)) fail(`${where}.${p}: effects`);
      for (const e of s.effects) {
        if (!['crcl', 'weight', 'hd'].includes(e.covariate)) fail(`${where}.${p}: covariate ${String(e.covariate)}`);
        const ok =
          (e.type === 'power' && isPosNum(e.reference) && Number.isFinite(e.exponent)) ||
          (e.type === 'linear' && Number.isFinite(e.center) && Number.isFinite(e.slope)) ||
          (e.type === 'flag' && isPosNum(e.factor));
        if (!ok) fail(`${where}.${p}: bad effect ${JSON.stringify(e)}`);
      }
    }
    if (!PARAM_NAMES.some((p) => m.parameters[p].iivCv !== undefined)) fail(`${where}: no parameter has IIV`);
  }
  return f as PkModelFile;
}

export function findModel(file: PkModelFile, id: string): PkModelSpec {
  const m = file.models.find((x) => x.id === id);
  if (!m) throw new Error(`unknown PK model ${id} (have ${file.models.map((x) => x.id).join(', ')})`);
  return m;
}

/** Covariates for a model: Cockcroft-Gault (kidney.ts, actual weight) capped at the model's cap; HD flag. */
export function modelCovariates(model: PkModelSpec, p: PatientCovariateInput): Covariates {
  if (!(p.weightKg > 0) || !(p.scrMgDl > 0) || !(p.ageYears > 0)) throw new Error('age, weight and serum creatinine must be positive');
  const crclUncapped = cockcroftGault({ ageYears: p.ageYears, weightKg: p.weightKg, scrMgDl: p.scrMgDl, sex: p.sex });
  if (!(crclUncapped > 0)) throw new Error(`Cockcroft-Gault CrCl is not positive (${crclUncapped}) — age over 140?`);
  return { crcl: Math.min(crclUncapped, model.covariates.crcl.capMlMin), crclUncapped, weight: p.weightKg, hd: p.onHemodialysis ? 1 : 0 };
}

function applyEffect(e: CovariateEffect, c: Covariates): number {
  const x = c[e.covariate];
  switch (e.type) {
    case 'power':
      return (x / e.reference) ** e.exponent;
    case 'linear':
      return 1 + e.slope * (x - e.center);
    case 'flag':
      return e.factor ** x;
  }
}

/** Typical (population) parameters for the covariates. */
export function typicalParams(model: PkModelSpec, c: Covariates): PkParams {
  const out = {} as PkParams;
  for (const p of PARAM_NAMES) {
    const s = model.parameters[p];
    const v = s.effects.reduce((acc, e) => acc * applyEffect(e, c), s.typical);
    if (!(v > 0)) throw new Error(`${model.id}: typical ${p} is not positive (${v}) for these covariates`);
    out[p] = v;
  }
  return out;
}

/** Parameters with IIV, in PARAM_NAMES order: the components of η. */
export function etaNames(model: PkModelSpec): ParamName[] {
  return PARAM_NAMES.filter((p) => model.parameters[p].iivCv !== undefined);
}

/** ω² = ln(1 + CV²) for each η. */
export function omegaSquared(model: PkModelSpec): number[] {
  return etaNames(model).map((p) => Math.log(1 + model.parameters[p].iivCv! ** 2));
}

/** Individual parameters: P = TV × exp(η) for parameters with IIV. */
export function individualParams(model: PkModelSpec, typical: PkParams, eta: readonly number[]): PkParams {
  const names = etaNames(model);
  if (eta.length !== names.length) throw new Error(`η has ${eta.length} components, model ${model.id} needs ${names.length}`);
  const out = { ...typical };
  names.forEach((p, i) => {
    out[p] = typical[p] * Math.exp(eta[i]!);
  });
  return out;
}
