// Serving the warfarin dose model: one onnxruntime-node session created at start-up, inputs range-checked against
// the model card (outside the ranges the model withholds and the caller falls back to the IWPC equation), dose and
// interval from the ONNX graph, explanation from the spec stored in the ONNX file: exact Shapley values against a
// reference patient (src/model/baselineShap.ts; 60–69 years, 170 cm, 80 kg, White man, CYP2C9 *1/*1, VKORC1 G/G, the
// IWPC-style reference), on the sqrt scale, mapped to mg/week so that they sum exactly to prediction − reference dose.
// In a genotype stratum the card says the IWPC equation serves (the model did not beat it in cross-validation), the
// model is not run: the result says so and carries the equation's calibrated 80% interval for that stratum.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import {
  DOSE_BOUNDS,
  encodeFeatures,
  factorLabel,
  FEATURE_COLUMNS,
  iwpcInputsOf,
  N_FEATURES,
  REFERENCE_PATIENT,
  type WarfarinModelInput,
} from './features.js';
import { genotypeStratum, STRATUM_LABELS, type GenotypeStratum } from '../domain/genotypeStratum.js';
import { iwpcForStratum } from '../dosing/warfarin/iwpc.js';
import type { ModelCard } from './modelCard.js';
import { readOnnxMetadata } from './onnxMetadata.js';
import { baselineContributions } from './baselineShap.js';
import { curveInterval, predictRaw, type WarfarinModelSpec } from './spec.js';

export type { WarfarinModelInput } from './features.js';
export type { ModelCard } from './modelCard.js';

export const MODEL_NAME = 'warfarin-dose-v2';

export const SPEC_METADATA_KEY = 'pgx.warfarin.spec';

export interface WarfarinContribution {
  key: string;
  label: string;
  mgPerWeek: number;
}

export interface WarfarinPrediction {
  weeklyDoseMg: number;
  interval80: { low: number; high: number };
  /** model output for the reference patient (REFERENCE_PATIENT), mg/week */
  baseValueMg: number;
  /** sorted by |mgPerWeek| descending; Σ mgPerWeek = weeklyDoseMg − baseValueMg */
  contributions: WarfarinContribution[];
  warnings: string[];
  modelVersion: string;
  /** the unclamped model output, mg/week */
  rawDoseMg: number;
  /** which genotypes were on file */
  stratum: GenotypeStratum;
}

export interface WarfarinWithheld {
  withheld: true;
  reasons: string[];
}

/** The card says the IWPC equation serves this genotype stratum: the model is not run. */
export interface WarfarinEquationServed {
  servedBy: 'equation';
  stratum: GenotypeStratum;
  reason: string;
  /** the equation's 80% interval for this stratum (mg/week); absent when age, height or weight is missing */
  interval80?: { low: number; high: number };
}

export type WarfarinModelResult = WarfarinPrediction | WarfarinWithheld | WarfarinEquationServed;

export interface WarfarinModel {
  version: string;
  card: ModelCard;
  /** the model as data (read from the ONNX file's metadata): used for explanations and tests */
  spec: WarfarinModelSpec;
  predict(input: WarfarinModelInput): Promise<WarfarinModelResult>;
  /** several patients in one session run (evaluation) */
  predictMany(inputs: WarfarinModelInput[]): Promise<WarfarinModelResult[]>;
  /** release the native session */
  close(): Promise<void>;
}

export class ModelUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ModelUnavailableError';
  }
}

/** models/ of the project, wherever this file runs from (src via tsx/jest, or dist/src after a build). */
export function defaultModelDir(): string {
  const env = process.env['WARFARIN_MODEL_DIR'];
  if (env) return env;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [path.resolve(here, '../../models'), path.resolve(here, '../../../models'), path.resolve(process.cwd(), 'models')];
  return candidates.find((d) => existsSync(path.join(d, `${MODEL_NAME}.card.json`))) ?? candidates[0]!;
}

const clampDose = (v: number): number => Math.min(DOSE_BOUNDS.max, Math.max(DOSE_BOUNDS.min, v));

/** The stratum's equation and its calibrated interval, when the card says the equation serves the stratum. */
function equationServed(card: ModelCard, i: WarfarinModelInput): WarfarinEquationServed | undefined {
  const stratum = genotypeStratum(i);
  if (card.servedBy[stratum] !== 'equation') return undefined;
  const reason = `genotype on file: ${STRATUM_LABELS[stratum]} — the dose model did not beat the IWPC equation in cross-validation for these patients (model card ${card.name}), so the equation is used`;
  const inputs = iwpcInputsOf(i);
  if (!inputs) return { servedBy: 'equation', stratum, reason };
  const eq = iwpcForStratum(inputs);
  const iv = curveInterval(card.equationIntervals[stratum], eq.sqrtDose);
  return { servedBy: 'equation', stratum, reason, interval80: { low: Math.min(clampDose(iv.low), eq.weeklyDoseMg), high: Math.max(clampDose(iv.high), eq.weeklyDoseMg) } };
}

function rangeReasons(card: ModelCard, i: WarfarinModelInput): string[] {
  const reasons: string[] = [];
  const check = (label: string, v: number | undefined, r: { min: number; max: number; unit: string }, unitText: string): void => {
    if (v === undefined) return;
    if (!Number.isFinite(v)) reasons.push(`${label} is not a finite number`);
    else if (v < r.min || v > r.max) reasons.push(`${label} ${v} ${unitText} is outside the model's range ${r.min}–${r.max} ${unitText}`);
  };
  check('Age', i.ageYears, card.inputRanges.ageYears, 'years');
  check('Height', i.heightCm, card.inputRanges.heightCm, 'cm');
  check('Weight', i.weightKg, card.inputRanges.weightKg, 'kg');
  return reasons;
}

function inputWarnings(i: WarfarinModelInput): string[] {
  const w: string[] = [];
  if (i.ageYears === undefined) w.push('Age unknown: estimated without it (less precise).');
  if (i.heightCm === undefined) w.push('Height unknown: estimated without it (less precise).');
  if (i.weightKg === undefined) w.push('Weight unknown: estimated without it (less precise).');
  if (i.vkorc1 === undefined) w.push('VKORC1 genotype unknown: the estimate does not use it (wider uncertainty).');
  if (i.cyp2c9 === undefined)
    w.push('CYP2C9 genotype unknown (or a rare allele such as *5, *6, *8, *11 not modelled): the estimate does not use it.');
  if (i.race === 'Black')
    w.push('Few Black patients in the IWPC training data (about 8%), and CYP2C9 *5/*6/*8/*11 are not modelled: use with caution.');
  if (i.sex === undefined) w.push('Sex unknown.');
  return w;
}

/** Groups per-column sqrt-scale contributions (against the reference) by factor and maps them to mg/week (exact sum). */
function contributionsMg(
  spec: WarfarinModelSpec,
  ref: number[],
  input: WarfarinModelInput,
  x: number[],
  doseMg: number,
  baseMg: number,
): WarfarinContribution[] {
  const phi = baselineContributions(spec, x, ref);
  const byFactor = new Map<string, number>();
  FEATURE_COLUMNS.forEach((c, j) => byFactor.set(c.factor, (byFactor.get(c.factor) ?? 0) + phi[j]!));
  const total = [...byFactor.values()].reduce((s, v) => s + v, 0);
  const m = Math.sqrt(doseMg);
  // dose − base = (m − m0)(m + m0): each factor gets its share of (m − m0), times (m + m0); when the sqrt-scale
  // total is ~0 the proportional split is undefined and (m + m0) is used directly.
  const scale = Math.abs(total) > 1e-9 ? (doseMg - baseMg) / total : m + Math.sqrt(baseMg);
  const out: WarfarinContribution[] = [];
  for (const [factor, v] of byFactor) out.push({ key: factor, label: factorLabel(factor, input), mgPerWeek: v * scale });
  return out;
}

export async function loadWarfarinModel(dir?: string): Promise<WarfarinModel> {
  const modelDir = dir ?? defaultModelDir();
  const cardPath = path.join(modelDir, `${MODEL_NAME}.card.json`);
  let card: ModelCard;
  let bytes: Uint8Array;
  let spec: WarfarinModelSpec;
  try {
    card = JSON.parse(readFileSync(cardPath, 'utf8')) as ModelCard;
    bytes = readFileSync(path.join(modelDir, card.modelFile));
  } catch (e) {
    throw new ModelUnavailableError(`warfarin model not found in ${modelDir}: ${(e as Error).message}`, { cause: e });
  }
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== card.modelSha256)
    throw new ModelUnavailableError(`warfarin model file ${card.modelFile} does not match its card (sha256 ${sha})`);
  try {
    const meta = readOnnxMetadata(bytes);
    spec = JSON.parse(meta[SPEC_METADATA_KEY] ?? '') as WarfarinModelSpec;
    if (spec.featureNames.length !== N_FEATURES || spec.featureNames.some((n, j) => n !== FEATURE_COLUMNS[j]!.name))
      throw new Error('feature schema of the model file differs from this code');
  } catch (e) {
    throw new ModelUnavailableError(`warfarin model file is unreadable: ${(e as Error).message}`, { cause: e });
  }
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(bytes, {
      logSeverityLevel: 3,
      intraOpNumThreads: 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    throw new ModelUnavailableError(`onnxruntime could not load the warfarin model: ${(e as Error).message}`, { cause: e });
  }
  const ref = encodeFeatures(REFERENCE_PATIENT);
  const baseMg = predictRaw(spec, ref).dose;

  async function predictMany(inputs: WarfarinModelInput[]): Promise<WarfarinModelResult[]> {
    const out = new Array<WarfarinModelResult>(inputs.length);
    const ok: number[] = [];
    inputs.forEach((inp, k) => {
      const reasons = rangeReasons(card, inp);
      const eq = reasons.length ? undefined : equationServed(card, inp);
      if (reasons.length) out[k] = { withheld: true, reasons };
      else if (eq) out[k] = eq;
      else ok.push(k);
    });
    if (!ok.length) return out;
    const xs = ok.map((k) => encodeFeatures(inputs[k]!));
    const data = new Float32Array(ok.length * N_FEATURES);
    xs.forEach((x, r) => data.set(x, r * N_FEATURES));
    const res = await session.run({ features: new ort.Tensor('float32', data, [ok.length, N_FEATURES]) });
    const dose = res['dose_mg_week']!.data as Float32Array;
    const low = res['interval_low']!.data as Float32Array;
    const high = res['interval_high']!.data as Float32Array;
    ok.forEach((k, r) => {
      const input = inputs[k]!;
      const raw = dose[r]!;
      const weekly = clampDose(raw);
      const warnings = inputWarnings(input);
      const contributions = contributionsMg(spec, ref, input, xs[r]!, raw, baseMg);
      if (weekly !== raw) {
        warnings.push(`Model output ${raw.toFixed(1)} mg/week clamped to the safe range ${DOSE_BOUNDS.min}–${DOSE_BOUNDS.max} mg/week.`);
        contributions.push({ key: 'safetyClamp', label: `Clamped to ${DOSE_BOUNDS.min}–${DOSE_BOUNDS.max} mg/week`, mgPerWeek: weekly - raw });
      }
      contributions.sort((a, b) => Math.abs(b.mgPerWeek) - Math.abs(a.mgPerWeek) || a.key.localeCompare(b.key));
      out[k] = {
        weeklyDoseMg: weekly,
        interval80: { low: Math.min(clampDose(low[r]!), weekly), high: Math.max(clampDose(high[r]!), weekly) },
        baseValueMg: baseMg,
        contributions,
        warnings,
        modelVersion: spec.version,
        rawDoseMg: raw,
        stratum: genotypeStratum(input),
      };
    });
    return out;
  }

  return {
    version: spec.version,
    card,
    spec,
    predict: async (input) => (await predictMany([input]))[0]!,
    predictMany,
    close: () => session.release(),
  };
}
