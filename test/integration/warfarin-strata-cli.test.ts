/**
 * @jest-environment ./test/support/ort-environment.cjs
 */
// The evaluation CLI's strata report (issue 16) on a fixed synthetic file (test/fixtures/warfarin-synthetic.csv,
// made by scripts/make-warfarin-fixture.ts from a documented formula; no IWPC rows): its structure, and figures
// recomputed here from the file with the IWPC equations and the committed model's in-process evaluation.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENOTYPE_STRATA, genotypeStratum, maskToStratum, type GenotypeStratum } from '../../src/domain/genotypeStratum.js';
import { iwpcClinical, iwpcPharmacogenetic } from '../../src/dosing/warfarin/iwpc.js';
import { encodeFeatures } from '../../src/model/features.js';
import { readIwpcRecords } from '../../src/model/iwpcData.js';
import { predictRaw } from '../../src/model/spec.js';
import type { StratumFigures } from '../../src/model/strataMetrics.js';
import { loadWarfarinModel } from '../../src/model/warfarinModel.js';
import { syntheticCsv } from '../../scripts/make-warfarin-fixture.js';

const FIXTURE = path.resolve(process.cwd(), 'test/fixtures/warfarin-synthetic.csv');

let out: { n: number; strata: StratumFigures[]; model_version: string };
beforeAll(() => {
  const stdout = execFileSync(process.execPath, ['--import', 'tsx', 'scripts/evaluate-warfarin.ts', FIXTURE], { encoding: 'utf8' });
  out = JSON.parse(stdout.trim().split('\n').pop()!);
}, 120000);

const records = readIwpcRecords(readFileSync(FIXTURE, 'utf8'));
const both = records.filter((r) => r.iwpc && genotypeStratum(r.iwpc) === 'both');
const mae = (xs: number[]): number => xs.reduce((s, v) => s + v, 0) / xs.length;

test('the committed fixture is what its documented formula generates', () => {
  expect(readFileSync(FIXTURE, 'utf8')).toBe(syntheticCsv());
});

test('four strata in order, each with the equation it is compared with and the method that serves it', () => {
  expect(out.strata.map((s) => s.stratum)).toEqual([...GENOTYPE_STRATA]);
  expect(out.strata.map((s) => s.label)).toEqual(['CYP2C9 and VKORC1', 'VKORC1 only', 'CYP2C9 only', 'none']);
  expect(out.strata.map((s) => /pharmacogenetic equation/.test(s.equationName))).toEqual([true, true, false, false]);
  for (const s of out.strata) {
    expect(['model', 'equation']).toContain(s.servedBy);
    for (const k of ['mae', 'pw20', 'coverage80', 'mae_ge49', 'pw20_ge49'] as const) expect(typeof s.model[k]).toBe('number');
    expect(s.served).toEqual(s.servedBy === 'model' ? s.model : s.equation);
  }
});

test('every stratum is the same patients: rows with both genotypes and age, height and weight (masked)', () => {
  // 240 rows: genotypes removed in 3 of 10, age in 1 of 40 → the count is computed from the file, not assumed
  expect(both.length).toBeGreaterThan(150);
  for (const s of out.strata) expect(s.n).toBe(both.length);
  expect(out.strata[0]!.model.n_ge49).toBe(both.filter((r) => r.doseMgWeek >= 49).length);
});

test('equation MAE per stratum = the IWPC equation on the masked rows, recomputed here', () => {
  const eq: Record<GenotypeStratum, (r: (typeof both)[number]) => number> = {
    both: (r) => iwpcPharmacogenetic(r.iwpc!).weeklyDoseMg,
    vkorc1Only: (r) => iwpcPharmacogenetic({ ...r.iwpc!, cyp2c9: undefined }).weeklyDoseMg,
    cyp2c9Only: (r) => iwpcClinical(r.iwpc!).weeklyDoseMg,
    none: (r) => iwpcClinical(r.iwpc!).weeklyDoseMg,
  };
  for (const s of out.strata) expect(s.equation.mae).toBeCloseTo(mae(both.map((r) => Math.abs(eq[s.stratum](r) - r.doseMgWeek))), 2);
  // the doses were generated from the pharmacogenetic equation with full genotypes + noise of ±0.4 on the sqrt scale:
  // with both genotypes it must be the best predictor, and losing VKORC1 must hurt it
  expect(out.strata[0]!.equation.mae).toBeLessThan(out.strata[1]!.equation.mae);
  expect(out.strata[0]!.equation.pw20).toBeGreaterThan(60);
});

test('model MAE in a stratum = the committed model (in-process) on the masked rows', async () => {
  const model = await loadWarfarinModel();
  try {
    expect(out.model_version).toBe(model.version);
    for (const g of ['both', 'none'] as const) {
      const errs = both.map((r) => {
        const d = Math.min(140, Math.max(3, predictRaw(model.spec, encodeFeatures(maskToStratum(r.input, g))).dose));
        return Math.abs(d - r.doseMgWeek);
      });
      expect(out.strata.find((s) => s.stratum === g)!.model.mae).toBeCloseTo(mae(errs), 1);
    }
  } finally {
    await model.close();
  }
});
