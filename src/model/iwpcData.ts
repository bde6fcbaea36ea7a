// Reads an IWPC-format CSV (PharmGKB columns + the cleaned derived columns described in
// ../shared/data/iwpc/README.md) into model inputs. Only cleaned, EHR-available inputs are read; identifiers,
// site, split and pred_* columns are never used.
import type { IwpcInputs } from '../dosing/warfarin/iwpc.js';
import type { IwpcRace } from '../domain/facts.js';
import { parseCsv, type CsvRow } from '../util/csv.js';
import type { RaceDetail, WarfarinIndication, WarfarinModelInput } from './features.js';

export type DoseBand = '<=21' | '21-49' | '>=49';
export const DOSE_BANDS: readonly DoseBand[] = ['<=21', '21-49', '>=49'];

export function doseBand(doseMgWeek: number): DoseBand {
  return doseMgWeek <= 21 ? '<=21' : doseMgWeek >= 49 ? '>=49' : '21-49';
}

export interface IwpcRecord {
  input: WarfarinModelInput;
  /** present when age, height and weight are known: the IWPC equations can be applied */
  iwpc?: IwpcInputs;
  doseMgWeek: number;
  band: DoseBand;
  /** "Subject Reached Stable Dose of Warfarin" is not 0 (rows with 0 are evaluated but not trained on) */
  stable: boolean;
}

const num = (s: string | undefined): number | undefined => {
  if (s === undefined || s === '' || s === 'NA') return undefined;
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
};

/** "Race (Reported)" → the detailed race categories the model distinguishes (others: undefined). */
export function raceDetailFromReported(s: string | undefined): RaceDetail | undefined {
  switch ((s ?? '').trim().toLowerCase()) {
    case 'japanese':
      return 'Japanese';
    case 'korean':
      return 'Korean';
    case 'han chinese':
    case 'chinese':
      return 'Chinese';
    case 'malay':
      return 'Malay';
    case 'indian':
      return 'AsianIndian';
    default:
      return undefined;
  }
}

/** IWPC "Indication for Warfarin Treatment" codes (1 DVT, 2 PE, 3 AF/flutter, 4 heart valve, 6 stroke, 7 post-orthopedic). */
export function indicationsFromIwpc(s: string | undefined): WarfarinIndication[] {
  const codes = new Set((s ?? '').split(/;|,|\bor\b/).map((t) => t.trim()));
  const out: WarfarinIndication[] = [];
  if (codes.has('1') || codes.has('2')) out.push('VTE');
  if (codes.has('3')) out.push('AtrialFibrillation');
  if (codes.has('4')) out.push('HeartValve');
  if (codes.has('6')) out.push('Stroke');
  if (codes.has('7')) out.push('PostOrthopedic');
  return out;
}

/** IWPC age decade (1 = 10–19 … 9 = 90+) → an age in years in that decade that the serving range accepts. */
export function ageYearsForDecade(decade: number): number {
  return decade <= 1 ? 19 : decade * 10 + 5;
}

/** One CSV row → model input (undefined when the row has no usable dose). */
export function recordFromRow(r: CsvRow): IwpcRecord | undefined {
  const dose = num(r['dose_mg_week']);
  if (dose === undefined || dose <= 0) return undefined;
  const decade = num(r['age_decade']);
  const heightCm = num(r['height_cm']);
  const weightKg = num(r['weight_kg']);
  const raceRaw = r['race_iwpc'];
  const race: IwpcRace =
    raceRaw === 'White' || raceRaw === 'Asian' || raceRaw === 'Black' ? raceRaw : 'MissingOrMixed';
  const vk = r['vkorc1_rs9923231'];
  const vkorc1 = vk === 'G/G' || vk === 'A/G' || vk === 'A/A' ? vk : undefined;
  const cyp = r['cyp2c9_iwpc'];
  const cyp2c9 =
    cyp === '*1/*1' || cyp === '*1/*2' || cyp === '*1/*3' || cyp === '*2/*2' || cyp === '*2/*3' || cyp === '*3/*3'
      ? cyp
      : undefined;
  const sexRaw = r['Gender'];
  const input: WarfarinModelInput = {
    ageYears: decade === undefined ? undefined : ageYearsForDecade(decade),
    sex: sexRaw === 'male' || sexRaw === 'female' ? sexRaw : undefined,
    heightCm,
    weightKg,
    race,
    vkorc1,
    cyp2c9,
    amiodarone: r['amiodarone'] === '1',
    enzymeInducer: r['enzyme_inducer'] === '1',
    raceDetail: raceDetailFromReported(r['Race (Reported)']),
    indications: indicationsFromIwpc(r['Indication for Warfarin Treatment']),
    ...(num(r['target_inr_num']) !== undefined ? { targetInr: num(r['target_inr_num']) } : {}),
  };
  const iwpc: IwpcInputs | undefined =
    decade !== undefined && heightCm !== undefined && weightKg !== undefined
      ? {
          ageDecade: decade,
          heightCm,
          weightKg,
          race,
          enzymeInducer: input.enzymeInducer,
          amiodarone: input.amiodarone,
          vkorc1,
          cyp2c9,
        }
      : undefined;
  return { input, iwpc, doseMgWeek: dose, band: doseBand(dose), stable: r['Subject Reached Stable Dose of Warfarin'] !== '0' };
}

export function readIwpcRecords(csvText: string): IwpcRecord[] {
  const out: IwpcRecord[] = [];
  for (const r of parseCsv(csvText)) {
    const rec = recordFromRow(r);
    if (rec) out.push(rec);
  }
  return out;
}
