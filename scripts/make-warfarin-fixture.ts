// npx tsx scripts/make-warfarin-fixture.ts — writes test/fixtures/warfarin-synthetic.csv: 240 SYNTHETIC patients in
// the IWPC CSV layout (only the columns the reader uses), for the CI test of the evaluation CLI. No IWPC row is used.
// Formula (deterministic, mulberry32 seed 16): for patient i,
//   age decade 2 + ⌊8u⌋ (capped 9), height 150 + 40u cm, weight 50 + 60u kg, sex male when u < 0.5,
//   race White / Asian / Black / Missing-or-Mixed for u < 0.55 / 0.8 / 0.92 / else,
//   VKORC1 G/G, A/G, A/A with P(A/A) 0.8 for Asian and 0.15 otherwise, P(A/G) 0.15 resp. 0.45,
//   CYP2C9 *1/*1 (u < 0.75), *1/*2 (< 0.87), *1/*3 (< 0.95), *2/*2 (< 0.97), *2/*3 (< 0.99), *3/*3,
//   amiodarone u < 0.08, enzyme inducer u < 0.03;
//   genotypes removed: VKORC1 when i mod 10 = 3, CYP2C9 when i mod 10 = 7, both when i mod 10 = 9;
//   age removed when i mod 40 = 11, stable dose not reached when i mod 50 = 5;
//   dose = (√(IWPC pharmacogenetic dose with the full genotypes) + 0.8·(u − 0.5))² mg/week, rounded to 0.1,
// where each u is the next draw of the generator, in the order listed.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { IwpcRace } from '../src/domain/facts.js';
import { iwpcPharmacogenetic, type Cyp2c9IwpcGenotype, type Vkorc1Genotype } from '../src/dosing/warfarin/iwpc.js';
import { mulberry32 } from '../src/model/train/gbm.js';

export const FIXTURE_ROWS = 240;
export const FIXTURE_SEED = 16;

export function syntheticCsv(): string {
  const u = mulberry32(FIXTURE_SEED);
  const head = ['Gender', 'Race (Reported)', 'Indication for Warfarin Treatment', 'Subject Reached Stable Dose of Warfarin', 'age_decade', 'height_cm', 'weight_kg', 'race_iwpc', 'vkorc1_rs9923231', 'cyp2c9_iwpc', 'enzyme_inducer', 'amiodarone', 'dose_mg_week'];
  const lines = [head.join(',')];
  for (let i = 0; i < FIXTURE_ROWS; i++) {
    const ageDecade = Math.min(9, 2 + Math.floor(8 * u()));
    const heightCm = Math.round((150 + 40 * u()) * 10) / 10;
    const weightKg = Math.round((50 + 60 * u()) * 10) / 10;
    const sex = u() < 0.5 ? 'male' : 'female';
    const r = u();
    const race: IwpcRace = r < 0.55 ? 'White' : r < 0.8 ? 'Asian' : r < 0.92 ? 'Black' : 'MissingOrMixed';
    const v = u();
    const pAA = race === 'Asian' ? 0.8 : 0.15;
    const pAG = race === 'Asian' ? 0.15 : 0.45;
    const vkorc1: Vkorc1Genotype = v < pAA ? 'A/A' : v < pAA + pAG ? 'A/G' : 'G/G';
    const c = u();
    const cyp2c9: Cyp2c9IwpcGenotype = c < 0.75 ? '*1/*1' : c < 0.87 ? '*1/*2' : c < 0.95 ? '*1/*3' : c < 0.97 ? '*2/*2' : c < 0.99 ? '*2/*3' : '*3/*3';
    const amiodarone = u() < 0.08;
    const enzymeInducer = u() < 0.03;
    const eq = iwpcPharmacogenetic({ ageDecade, heightCm, weightKg, race, vkorc1, cyp2c9, amiodarone, enzymeInducer });
    const dose = Math.round(Math.max(0.5, Math.sqrt(eq.weeklyDoseMg) + 0.8 * (u() - 0.5)) ** 2 * 10) / 10;
    const m = i % 10;
    lines.push(
      [
        sex,
        race === 'MissingOrMixed' ? 'Other' : race,
        '1',
        i % 50 === 5 ? '0' : '1',
        i % 40 === 11 ? '' : String(ageDecade),
        String(heightCm),
        String(weightKg),
        race === 'MissingOrMixed' ? 'Missing or Mixed Race' : race,
        m === 3 || m === 9 ? '' : vkorc1,
        m === 7 || m === 9 ? '' : cyp2c9,
        enzymeInducer ? '1' : '0',
        amiodarone ? '1' : '0',
        String(dose),
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('scripts', 'make-warfarin-fixture.ts'))) {
  const out = path.resolve(process.cwd(), 'test/fixtures/warfarin-synthetic.csv');
  writeFileSync(out, syntheticCsv());
  console.log(`wrote ${out} (${FIXTURE_ROWS} synthetic patients)`);
}
