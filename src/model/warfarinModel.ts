// Serving the warfarin dose model: one onnxruntime-node session created at start-up, inputs range-checked against
// the model card (outside the ranges the model withholds and the caller falls back to the IWPC equation), dose and
// interval from the ONNX graph, explanation from the spec stored in the ONNX file (exact linear terms + TreeSHAP on
// the sqrt scale, mapped to mg/week so that the contributions sum exactly to prediction − base value).
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
  N_FEATURES,
  type WarfarinModelInput,
} from './features.js';
import type { ModelCard } from './modelCard.js';
import { readOnnxMetadata } from './onnxMetadata.js';
import { EnsembleTreeShap, sqrtContributions, type WarfarinModelSpec } from './spec.js';

export type { WarfarinModelInput } from './features.js';
export type { ModelCard } from './modelCard.js';

export const MODEL_NAME = 'warfarin-dose-v1';
export const SPEC_METADATA_KEY = 'pgx.warfarin.spec';

export interface WarfarinContribution {
  key: string;
  label: string;
  mgPerWeek: number;
}

export interface WarfarinPrediction {
  weeklyDoseMg: number;
  interval80: { low: number; high: number };
  /** model output for the average training patient, mg/week */
  baseValueMg: number;
  /** sorted by |mgPerWeek| descending; Σ mgPerWeek = weeklyDoseMg − baseValueMg */
  contributions: WarfarinContribution[];
  warnings: string[];
  modelVersion: string;
  /** the unclamped model output, mg/week */
  rawDoseMg: number;
}

export interface WarfarinWithheld {
  withheld: true;
  reasons: string[];
}

export interface WarfarinModel {
  version: string;
  card: ModelCard;
  /** the model as data (read from the ONNX file's metadata): used for explanations and tests */
  spec: WarfarinModelSpec;
  predict(input: WarfarinModelInput): Promise<WarfarinPrediction | WarfarinWithheld>;
  /** several patients in one session run (evaluation) */
  predictMany(inputs: WarfarinModelInput[]): Promise<(WarfarinPrediction | WarfarinWithheld)[]>;
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

/** Groups per-column sqrt-scale contributions by factor and maps them to mg/week (exact sum). */
function contributionsMg(
  spec: WarfarinModelSpec,
  shap: EnsembleTreeShap,
  input: WarfarinModelInput,
  x: number[],
  doseMg: number,
  baseMg: number,
): WarfarinContribution[] {
  const phi = sqrtContributions(spec, x, shap);
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
  const baseMg = Math.max(spec.baseSqrt, 0) ** 2;
  // exact TreeSHAP with per-leaf tables built once at start-up (see FastTreeShap / EnsembleTreeShap in spec.ts)
  const shap = new EnsembleTreeShap(spec.trees, N_FEATURES);

  async function predictMany(inputs: WarfarinModelInput[]): Promise<(WarfarinPrediction | WarfarinWithheld)[]> {
    const out = new Array<WarfarinPrediction | WarfarinWithheld>(inputs.length);
    const ok: number[] = [];
    inputs.forEach((inp, k) => {
      const reasons = rangeReasons(card, inp);
      if (reasons.length) out[k] = { withheld: true, reasons };
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
      const contributions = contributionsMg(spec, shap, input, xs[r]!, raw, baseMg);
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
