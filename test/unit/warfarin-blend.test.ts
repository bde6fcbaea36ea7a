// Blend of the warfarin dose model with the IWPC equation (src/model/train/blend.ts): the equation written on the
// model's columns reproduces the IWPC equations (Klein 2009, Appendix S1e/S1f, as coded in src/dosing/warfarin/iwpc.ts
// and tested against its worked examples in test/unit/iwpc.test.ts), the blend folded into a spec gives
// wLinear·linear + (1 − wLinear)·equation + wTrees·trees + shift, and the inner-CV choice finds known answers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENOTYPE_STRATA, maskToStratum, type GenotypeStratum } from '../../src/domain/genotypeStratum.js';
import { iwpcClinical, iwpcForStratum, iwpcPharmacogenetic, type IwpcInputs } from '../../src/dosing/warfarin/iwpc.js';
import { encodeFeatures, iwpcInputsOf, maskVector, N_FEATURES, stratumOfVector, type WarfarinModelInput } from '../../src/model/features.js';
import { linearValue, predictRaw, treeValue } from '../../src/model/spec.js';
import {
  blendedSqrt,
  blendSpec,
  chooseBlend,
  chooseShift,
  equationSqrt,
  NO_SHIFT,
  type BlendRow,
} from '../../src/model/train/blend.js';
import { DEFAULT_TRAIN, toTrainData, trainModel } from '../../src/model/train/pipeline.js';
import { readIwpcRecords } from '../../src/model/iwpcData.js';

// patients with both genotypes (source of the expected value: the IWPC equations in iwpc.ts)
const PATIENTS: WarfarinModelInput[] = [
  { ageYears: 65, sex: 'male', heightCm: 170, weightKg: 80, race: 'White', vkorc1: 'G/G', cyp2c9: '*1/*1', amiodarone: false, enzymeInducer: false },
  { ageYears: 76, sex: 'female', heightCm: 155, weightKg: 60, race: 'Asian', vkorc1: 'A/A', cyp2c9: '*1/*3', amiodarone: false, enzymeInducer: false },
  { ageYears: 55, sex: 'male', heightCm: 180, weightKg: 95, race: 'Black', vkorc1: 'A/G', cyp2c9: '*2/*3', amiodarone: true, enzymeInducer: false },
  { ageYears: 42, sex: 'female', heightCm: 162, weightKg: 71, race: 'MissingOrMixed', vkorc1: 'G/G', cyp2c9: '*2/*2', amiodarone: false, enzymeInducer: true },
  { ageYears: 88, sex: 'male', heightCm: 175, weightKg: 66, race: 'White', vkorc1: 'A/A', cyp2c9: '*3/*3', amiodarone: true, enzymeInducer: true, indications: ['AtrialFibrillation'], raceDetail: 'Japanese' },
];

/** every test patient has age, height and weight: the equation's inputs exist */
const iwpcInputs = (p: WarfarinModelInput): IwpcInputs => iwpcInputsOf(p)!;

const noFill = new Array<number>(N_FEATURES).fill(0);

describe('the IWPC equation on the model columns', () => {
  const exact: GenotypeStratum[] = ['both', 'vkorc1Only', 'none'];
  test.each(PATIENTS.flatMap((p) => exact.map((s) => [s, p] as const)))('%s: equals the stratum’s IWPC equation (%o)', (s, p) => {
    const x = maskVector(encodeFeatures(p), s);
    expect(equationSqrt(noFill, x)).toBeCloseTo(iwpcForStratum(maskToStratum(iwpcInputs(p), s)).sqrtDose, 9);
  });

  test.each(PATIENTS)('CYP2C9 only: the clinical equation plus the pharmacogenetic CYP2C9 term relative to its “unknown” term (%o)', (p) => {
    const x = maskVector(encodeFeatures(p), 'cyp2c9Only');
    const i = iwpcInputs(p);
    const cypTerm = (c: IwpcInputs['cyp2c9']): number => iwpcPharmacogenetic({ ...i, cyp2c9: c }).terms.find((t) => t.key === 'cyp2c9')!.sqrtContribution;
    expect(equationSqrt(noFill, x)).toBeCloseTo(iwpcClinical(i).sqrtDose + cypTerm(p.cyp2c9) - cypTerm(undefined), 9);
  });

  test('missing height is filled like the model’s linear part does', () => {
    const fill = noFill.slice();
    fill[2] = 75; // weight_kg
    const p = { ...PATIENTS[0]!, weightKg: undefined };
    expect(equationSqrt(fill, encodeFeatures(p))).toBeCloseTo(iwpcPharmacogenetic({ ...iwpcInputs(PATIENTS[0]!), weightKg: 75 }).sqrtDose, 9);
  });
});

describe('blend folded into the model', () => {
  // synthetic IWPC-format rows (scripts/make-warfarin-fixture.ts; no IWPC data)
  const d = toTrainData(readIwpcRecords(readFileSync(path.resolve('test/fixtures/warfarin-synthetic.csv'), 'utf8')).slice(0, 400));
  const small = { ...DEFAULT_TRAIN, innerFolds: 3, blend: 'off' as const, gbm: { ...DEFAULT_TRAIN.gbm, maxRounds: 15, minLeaf: 20 } };
  const { spec } = trainModel(d, small);
  const b = { wLinear: 0.7, wTrees: 0.8, shift: { all: 0.02, vkorc1Unknown: -0.03, cyp2c9Unknown: 0.05 } };
  const blended = blendSpec(spec, b);

  test.each(GENOTYPE_STRATA)('%s: wLinear·linear + (1 − wLinear)·equation + wTrees·trees + shift', (s) => {
    let n = 0;
    for (const x0 of d.X.slice(0, 60)) {
      const x = maskVector(x0, s);
      if (stratumOfVector(x) !== s) continue; // a genotype the row does not have
      n++;
      const trees = spec.trees.reduce((t, tr) => t + treeValue(tr, x), 0);
      const row: BlendRow = { linear: linearValue(spec, x), trees, equation: equationSqrt(spec.linear.fill, x), dose: 0, stratum: s };
      expect(predictRaw(blended, x).sqrtDose).toBeCloseTo(blendedSqrt(row, b), 4);
    }
    expect(n).toBeGreaterThan(10);
  });

  test('no blend leaves the spec as it is', () => {
    expect(blendSpec(spec, { wLinear: 1, wTrees: 1, shift: NO_SHIFT })).toBe(spec);
  });
});

describe('choosing the blend on inner-CV rows', () => {
  // rows where the true sqrt dose is a known mix of the "model" and "equation" predictions
  const rows = (mix: number): BlendRow[] =>
    Array.from({ length: 400 }, (_, i) => {
      const linear = 4 + (i % 17) / 10;
      const equation = 4 + ((i * 7) % 13) / 10;
      const trees = ((i % 5) - 2) / 20;
      const truth = mix * (linear + trees) + (1 - mix) * equation;
      return { linear, trees, equation, dose: truth * truth, stratum: GENOTYPE_STRATA[i % 4]! };
    });
  const grid = Array.from({ length: 11 }, (_, i) => i / 10);

  test.each([0, 0.3, 1])('true mix %p is found (pooled and worst-stratum objective)', (mix) => {
    for (const objective of ['pooled', 'worstStratum'] as const) {
      const c = chooseBlend(rows(mix), grid, objective);
      expect(c.wLinear).toBeCloseTo(mix, 9);
      expect(c.wTrees).toBeCloseTo(mix, 9);
    }
  });

  test('the shift recovers a constant bias of the strata without VKORC1', () => {
    const r = rows(1).map((x) => (x.stratum === 'cyp2c9Only' || x.stratum === 'none' ? { ...x, dose: (Math.sqrt(x.dose) + 0.1) ** 2 } : x));
    const sh = chooseShift(r, { wLinear: 1, wTrees: 1 });
    expect(sh).toEqual({ all: 0, vkorc1Unknown: 0.1, cyp2c9Unknown: 0 });
  });
});
