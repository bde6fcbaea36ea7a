/**
 * @jest-environment ./test/support/ort-environment.cjs
 */
// Warfarin dose model: ONNX serving (onnxruntime-node) vs the in-process TypeScript model, intervals, explanations,
// range checks, missing inputs, missing/corrupt model files, baseline-Shapley exactness and deterministic training.
// IWPC rows are read at run time from ../shared (never committed).
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { encodeFeatures, maskVector, N_FEATURES, raceDetailFromCdcCodes, REFERENCE_PATIENT, stratumOfVector } from '../../src/model/features.js';
import { maskToStratum } from '../../src/domain/genotypeStratum.js';
import { readIwpcRecords, type IwpcRecord } from '../../src/model/iwpcData.js';
import { GENOTYPE_STRATA } from '../../src/domain/genotypeStratum.js';
import { baselineContributions, treeBaselineShap } from '../../src/model/baselineShap.js';
import { predictRaw, specBaseSqrt, treeValue, type FlatTree } from '../../src/model/spec.js';
import { specToOnnx } from '../../src/model/train/onnx.js';
import { DEFAULT_TRAIN, toTrainData, trainModel, type TrainOptions } from '../../src/model/train/pipeline.js';
import {
  loadWarfarinModel,
  ModelUnavailableError,
  type WarfarinModel,
  type WarfarinPrediction,
  type WarfarinModelInput,
} from '../../src/model/warfarinModel.js';
import { IWPC_TRAIN_CSV } from '../support/iwpc.js';

const MODEL_DIR = path.resolve(process.cwd(), 'models');
const records: IwpcRecord[] = readIwpcRecords(readFileSync(IWPC_TRAIN_CSV, 'utf8'));
const sample = records.filter((_, i) => i % 37 === 0); // ~120 rows spread over the file

let model: WarfarinModel;
beforeAll(async () => {
  model = await loadWarfarinModel(MODEL_DIR);
});
afterAll(async () => {
  await model?.close();
});

function isPrediction(p: unknown): p is WarfarinPrediction {
  return typeof p === 'object' && p !== null && 'weeklyDoseMg' in p;
}

const typical: WarfarinModelInput = {
  ageYears: 64,
  sex: 'female',
  heightCm: 165,
  weightKg: 70,
  race: 'White',
  vkorc1: 'A/A',
  cyp2c9: '*1/*3',
  amiodarone: false,
  enzymeInducer: false,
};

describe('committed warfarin model served with onnxruntime-node', () => {
  test('the model card matches the file and documents data, licence and metrics', () => {
    expect(model.card.modelFile).toBe('warfarin-dose-v2.onnx');
    expect(model.card.trainingData.licence).toMatch(/CC BY-SA 4\.0/);
    expect(model.card.trainingData.citation).toMatch(/N Engl J Med 2009;360:753-64/);
    expect(model.card.modelBytes).toBeLessThan(5 * 1024 * 1024);
    expect(model.card.evaluation.byBand['>=49']).toBeDefined();
  });

  test('ONNX output equals the in-process TypeScript model on a sample of IWPC rows (±1e-4 mg/week)', async () => {
    const preds = await model.predictMany(sample.map((r) => r.input));
    let worst = 0;
    preds.forEach((p, k) => {
      expect(isPrediction(p)).toBe(true);
      if (!isPrediction(p)) return;
      const ts = predictRaw(model.spec, encodeFeatures(sample[k]!.input));
      worst = Math.max(worst, Math.abs(p.rawDoseMg - ts.dose));
    });
    expect(sample.length).toBeGreaterThan(100);
    expect(worst).toBeLessThan(1e-4);
  });

  test('the interval contains the point estimate, within the safe bounds', async () => {
    const preds = await model.predictMany(sample.map((r) => r.input));
    for (const p of preds) {
      if (!isPrediction(p)) throw new Error('withheld');
      expect(p.interval80.low).toBeLessThanOrEqual(p.weeklyDoseMg);
      expect(p.interval80.high).toBeGreaterThanOrEqual(p.weeklyDoseMg);
      expect(p.interval80.low).toBeGreaterThanOrEqual(3);
      expect(p.interval80.high).toBeLessThanOrEqual(140);
    }
  });

  test('contributions sum to prediction − base value (mg/week) and are sorted by size', async () => {
    const preds = await model.predictMany(sample.map((r) => r.input));
    for (const p of preds) {
      if (!isPrediction(p)) throw new Error('withheld');
      const sum = p.contributions.reduce((s, c) => s + c.mgPerWeek, 0);
      expect(Math.abs(sum - (p.weeklyDoseMg - p.baseValueMg))).toBeLessThan(1e-6);
      for (let i = 1; i < p.contributions.length; i++)
        expect(Math.abs(p.contributions[i - 1]!.mgPerWeek)).toBeGreaterThanOrEqual(Math.abs(p.contributions[i]!.mgPerWeek));
    }
  });

  test('the card says which method serves each genotype stratum and has an interval curve for the equation', () => {
    for (const g of GENOTYPE_STRATA) {
      expect(['model', 'equation']).toContain(model.card.servedBy[g]);
      expect(model.card.equationIntervals[g].knots.length).toBeGreaterThanOrEqual(2);
      expect(model.spec.interval.strata[g].knots.length).toBeGreaterThanOrEqual(2);
    }
    expect(model.card.evaluation.strata.table.map((t) => t.stratum)).toEqual([...GENOTYPE_STRATA]);
  });

  test('the reference patient gets the base value and no contribution; VKORC1 A/G lowers the dose against it', async () => {
    const ref = await model.predict(REFERENCE_PATIENT);
    if (!isPrediction(ref)) throw new Error('not served by the model');
    expect(ref.weeklyDoseMg).toBeCloseTo(ref.baseValueMg, 4); // ONNX float32 vs the float64 base value
    for (const c of ref.contributions) expect(Math.abs(c.mgPerWeek)).toBeLessThan(1e-9);
    const ag = await model.predict({ ...REFERENCE_PATIENT, vkorc1: 'A/G' });
    if (!isPrediction(ag)) throw new Error('not served by the model');
    const vk = ag.contributions.find((c) => c.key === 'vkorc1')!;
    expect(vk.mgPerWeek).toBeLessThan(-3);
    expect(vk.mgPerWeek).toBeCloseTo(ag.weeklyDoseMg - ref.weeklyDoseMg, 3); // only VKORC1 differs
  });

  test('explanation is readable: VKORC1 A/A lowers the dose and says so', async () => {
    const p = await model.predict(typical);
    if (!isPrediction(p)) throw new Error('withheld');
    const vk = p.contributions.find((c) => c.key === 'vkorc1')!;
    expect(vk.label).toBe('VKORC1 A/A');
    expect(vk.mgPerWeek).toBeLessThan(-3);
    expect(p.contributions.find((c) => c.key === 'cyp2c9')!.label).toBe('CYP2C9 *1/*3');
    expect(p.modelVersion).toBe(model.version);
    expect(p.weeklyDoseMg).toBeGreaterThan(8);
    expect(p.weeklyDoseMg).toBeLessThan(30);
  });

  test('out-of-range inputs are withheld with reasons', async () => {
    const heavy = await model.predict({ ...typical, weightKg: 400 });
    expect(heavy).toEqual({ withheld: true, reasons: [expect.stringMatching(/Weight 400 kg is outside/)] });
    const child = await model.predict({ ...typical, ageYears: 5 });
    expect('withheld' in child && child.reasons.join(' ')).toMatch(/Age 5 years is outside/);
    const nan = await model.predict({ ...typical, heightCm: Number.NaN });
    expect('withheld' in nan).toBe(true);
  });

  test('missing height, weight, race and genotypes still predict, with warnings', async () => {
    const p = await model.predict({ ageYears: 70, amiodarone: false, enzymeInducer: false });
    if (!isPrediction(p)) throw new Error('withheld');
    expect(p.weeklyDoseMg).toBeGreaterThan(10);
    expect(p.weeklyDoseMg).toBeLessThan(60);
    expect(p.warnings.join(' ')).toMatch(/Height unknown/);
    expect(p.warnings.join(' ')).toMatch(/VKORC1 genotype unknown/);
    expect(p.contributions.find((c) => c.key === 'vkorc1')!.label).toBe('VKORC1 unknown');
    const noAge = await model.predict({ ...typical, ageYears: undefined });
    expect(isPrediction(noAge)).toBe(true);
  });

  test('a missing or corrupt model file → ModelUnavailableError', async () => {
    await expect(loadWarfarinModel(path.join(os.tmpdir(), 'no-such-model-dir'))).rejects.toBeInstanceOf(ModelUnavailableError);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'warfarin-model-'));
    copyFileSync(path.join(MODEL_DIR, 'warfarin-dose-v2.card.json'), path.join(dir, 'warfarin-dose-v2.card.json'));
    const bytes = readFileSync(path.join(MODEL_DIR, 'warfarin-dose-v2.onnx'));
    writeFileSync(path.join(dir, 'warfarin-dose-v2.onnx'), bytes.subarray(0, bytes.length >> 1));
    await expect(loadWarfarinModel(dir)).rejects.toBeInstanceOf(ModelUnavailableError);
    expect(existsSync(path.join(dir, 'warfarin-dose-v2.onnx'))).toBe(true);
  });
});

describe('inputs', () => {
  test('detailed race codes map to the model’s Asian subgroups', () => {
    expect(raceDetailFromCdcCodes(['2039-6'])).toBe('Japanese');
    expect(raceDetailFromCdcCodes(['2034-7', '2035-4'])).toBe('Chinese');
    expect(raceDetailFromCdcCodes(['2039-6', '2040-4'])).toBeUndefined();
    expect(raceDetailFromCdcCodes(['2106-3'])).toBeUndefined();
  });
});

describe('genotype strata of an encoded input', () => {
  test('masking the vector = encoding the patient without those genotypes', () => {
    const x = encodeFeatures({ ...typical, race: 'Asian', amiodarone: true });
    for (const g of GENOTYPE_STRATA) {
      const a = maskVector(x, g);
      const b = encodeFeatures(maskToStratum({ ...typical, race: 'Asian' as const, amiodarone: true }, g));
      expect(stratumOfVector(a)).toBe(g);
      a.forEach((v, j) => expect(Object.is(v, b[j])).toBe(true));
    }
  });
});

/** Shapley values of one tree against a reference by enumeration (hybrid inputs: x on S, ref elsewhere). */
function bruteBaseline(t: FlatTree, x: number[], ref: number[]): Map<number, number> {
  const feats = [...new Set(t.feature.filter((f) => f >= 0))];
  const M = feats.length;
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const val = (S: Set<number>): number => treeValue(t, ref.map((r, j) => (S.has(j) ? x[j]! : r)));
  const out = new Map<number, number>();
  for (let i = 0; i < M; i++) {
    const others = feats.filter((_, j) => j !== i);
    let phi = 0;
    for (let mask = 0; mask < 1 << others.length; mask++) {
      const S = new Set(others.filter((_, j) => mask & (1 << j)));
      const withI = new Set(S).add(feats[i]!);
      phi += ((fact(S.size) * fact(M - S.size - 1)) / fact(M)) * (val(withI) - val(S));
    }
    out.set(feats[i]!, phi);
  }
  return out;
}

describe('explanation maths', () => {
  test('baseline Shapley values (served explanation) equal brute-force enumeration and sum to f(x) − f(ref)', () => {
    const ref = encodeFeatures(REFERENCE_PATIENT);
    const xs = [encodeFeatures(typical), encodeFeatures({ ageYears: 80, amiodarone: true, enzymeInducer: false, race: 'Asian' })];
    for (const x of xs) {
      for (const t of model.spec.trees.slice(0, 40)) {
        const phi = new Array<number>(N_FEATURES).fill(0);
        treeBaselineShap(t, x, ref, phi);
        const brute = bruteBaseline(t, x, ref);
        for (let j = 0; j < N_FEATURES; j++) expect(phi[j]!).toBeCloseTo(brute.get(j) ?? 0, 9);
      }
      const all = baselineContributions(model.spec, x, ref).reduce((s, v) => s + v, 0);
      expect(all).toBeCloseTo(predictRaw(model.spec, x).sqrtDose - predictRaw(model.spec, ref).sqrtDose, 6);
    }
  });

  test('the spec’s base sqrt dose is the linear part at the means plus the trees’ expected values', () => {
    expect(specBaseSqrt(model.spec)).toBeCloseTo(model.spec.baseSqrt, 5);
  });
});

describe('training', () => {
  const small: TrainOptions = {
    ...DEFAULT_TRAIN,
    innerFolds: 3,
    gbm: { ...DEFAULT_TRAIN.gbm, maxRounds: 25, minLeaf: 20 },
  };
  const subset = toTrainData(records.filter((_, i) => i % 11 === 0));

  test('is deterministic: training twice gives identical ONNX bytes', () => {
    const a = specToOnnx(trainModel(subset, small).spec);
    const b = specToOnnx(trainModel(subset, small).spec);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
  });

  test('a freshly trained model exported to ONNX reproduces its TypeScript predictions', async () => {
    const spec = trainModel(subset, small).spec;
    const session = await ort.InferenceSession.create(specToOnnx(spec), { logSeverityLevel: 3 });
    const X = subset.X.slice(0, 50);
    const flat = new Float32Array(X.length * N_FEATURES);
    X.forEach((x, i) => flat.set(x, i * N_FEATURES));
    const out = await session.run({ features: new ort.Tensor('float32', flat, [X.length, N_FEATURES]) });
    const dose = out['dose_mg_week']!.data as Float32Array;
    const high = out['interval_high']!.data as Float32Array;
    X.forEach((x, i) => {
      const p = predictRaw(spec, x);
      expect(Math.abs(p.dose - dose[i]!)).toBeLessThan(1e-4);
      expect(Math.abs(p.high - high[i]!)).toBeLessThan(1e-3);
    });
    await session.release();
  });
});
