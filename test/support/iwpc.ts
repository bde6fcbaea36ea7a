// Reads IWPC training rows (from ../shared, never committed) into IWPC equation inputs.
import path from 'node:path';
import type { IwpcRace } from '../../src/domain/facts.js';
import type { Cyp2c9IwpcGenotype, IwpcInputs, Vkorc1Genotype } from '../../src/dosing/warfarin/iwpc.js';
import type { CsvRow } from '../../src/util/csv.js';

export const IWPC_TRAIN_CSV = process.env['IWPC_TRAIN_CSV'] ?? path.resolve(process.cwd(), '../shared/data/iwpc/train.csv');

const num = (s: string | undefined): number | undefined => (s === undefined || s === '' || s === 'NA' ? undefined : Number(s));

export function iwpcRowInputs(r: CsvRow): IwpcInputs | undefined {
  const ageDecade = num(r['age_decade']);
  const heightCm = num(r['height_cm']);
  const weightKg = num(r['weight_kg']);
  if (ageDecade === undefined || heightCm === undefined || weightKg === undefined) return undefined;
  const vk = r['vkorc1_rs9923231'];
  const cyp = r['cyp2c9_iwpc'];
  return {
    ageDecade,
    heightCm,
    weightKg,
    race: r['race_iwpc'] as IwpcRace,
    enzymeInducer: r['enzyme_inducer'] === '1',
    amiodarone: r['amiodarone'] === '1',
    vkorc1: vk === 'G/G' || vk === 'A/G' || vk === 'A/A' ? (vk as Vkorc1Genotype) : undefined,
    cyp2c9: cyp && cyp !== 'Unknown' ? (cyp as Cyp2c9IwpcGenotype) : undefined,
  };
}
