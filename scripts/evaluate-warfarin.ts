// npm run --silent evaluate:warfarin -- <csv>
// Runs the committed ONNX model (models/, through the serving code in src/model/warfarinModel.ts) on an IWPC-format
// CSV and prints ONE line of JSON. Reads nothing but that file and the committed model. Rows without a dose are
// skipped; rows the model withholds (inputs outside the card's ranges) are counted in n_withheld and not scored.
// iwpc_* figures are the IWPC pharmacogenetic equation over the complete rows (age, height, weight present).
// Where the card says the IWPC equation serves a genotype stratum, the served dose is that equation's.
// `strata`: the rows with both genotypes and age, height and weight, each shown with VKORC1, CYP2C9 or both removed,
// served dose vs the IWPC equation the stratum would otherwise get (src/model/strataMetrics.ts). In a stratum the
// equation serves, the model's own figures come from the in-process model (src/model/spec.ts, = the ONNX graph).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { GENOTYPE_STRATA, genotypeStratum, maskToStratum, type GenotypeStratum } from '../src/domain/genotypeStratum.js';
import { iwpcForStratum } from '../src/dosing/warfarin/iwpc.js';
import { DOSE_BOUNDS, encodeFeatures } from '../src/model/features.js';
import { readIwpcRecords, type IwpcRecord } from '../src/model/iwpcData.js';
import { summarize, type Scored } from '../src/model/metrics.js';
import { predictRaw } from '../src/model/spec.js';
import { strataTable, type StratumRow } from '../src/model/strataMetrics.js';
import { iwpcPrediction } from '../src/model/train/pipeline.js';
import { loadWarfarinModel, type WarfarinModel, type WarfarinModelResult } from '../src/model/warfarinModel.js';

const clamp = (v: number): number => Math.min(DOSE_BOUNDS.max, Math.max(DOSE_BOUNDS.min, v));

/** Served dose and interval (model, or the stratum's equation when the card says so); undefined = withheld. */
function served(r: IwpcRecord, p: WarfarinModelResult): { pred: number; low: number; high: number } | undefined {
  if ('withheld' in p) return undefined;
  if ('servedBy' in p) {
    if (!r.iwpc || !p.interval80) return undefined;
    return { pred: iwpcForStratum(r.iwpc).weeklyDoseMg, ...p.interval80 };
  }
  return { pred: p.weeklyDoseMg, ...p.interval80 };
}

async function predictAll(model: WarfarinModel, records: IwpcRecord[]): Promise<WarfarinModelResult[]> {
  const out: WarfarinModelResult[] = [];
  for (let s = 0; s < records.length; s += 512) out.push(...(await model.predictMany(records.slice(s, s + 512).map((r) => r.input))));
  return out;
}

/** The strata rows: records with both genotypes and a complete IWPC input, masked to each stratum. */
async function strataRows(model: WarfarinModel, records: IwpcRecord[]): Promise<Record<GenotypeStratum, StratumRow[]>> {
  const base = records.filter((r) => r.iwpc && genotypeStratum(r.iwpc) === 'both');
  const rows = {} as Record<GenotypeStratum, StratumRow[]>;
  for (const g of GENOTYPE_STRATA) {
    const masked = base.map((r) => ({ ...r, input: maskToStratum(r.input, g), iwpc: maskToStratum(r.iwpc!, g) }));
    const preds = await predictAll(model, masked);
    rows[g] = [];
    masked.forEach((r, k) => {
      const p = preds[k]!;
      if ('withheld' in p) return;
      const eq = iwpcForStratum(r.iwpc);
      const sv = served(r, p)!;
      const raw = predictRaw(model.spec, encodeFeatures(r.input));
      const m = 'servedBy' in p ? { pred: clamp(raw.dose), low: clamp(raw.low), high: clamp(raw.high) } : sv;
      rows[g].push({ actual: r.doseMgWeek, model: m, equation: 'servedBy' in p ? sv : { pred: eq.weeklyDoseMg } });
    });
  }
  return rows;
}

async function main(): Promise<void> {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: npm run --silent evaluate:warfarin -- <csv path>');
    process.exit(2);
  }
  const records = readIwpcRecords(readFileSync(path.resolve(file), 'utf8'));
  const model = await loadWarfarinModel(process.env['WARFARIN_MODEL_DIR']);
  const scored: Scored[] = [];
  let withheld = 0;
  const preds = await predictAll(model, records);
  preds.forEach((p, k) => {
    const r = records[k]!;
    const sv = served(r, p);
    if (!sv) withheld++;
    else scored.push({ actual: r.doseMgWeek, ...sv, iwpc: iwpcPrediction(r) });
  });
  const strata = strataTable(await strataRows(model, records), model.card.servedBy);
  await model.close();
  const s = summarize(scored);
  const band = (b: keyof typeof s.by_band): Record<string, number> => {
    const g = s.by_band[b];
    return {
      n: g.n,
      mae: g.mae,
      pw20: g.pw20,
      coverage80: g.coverage80,
      iwpc_mae: g.iwpc_mae,
      iwpc_pw20: g.iwpc_pw20,
      n_complete: g.iwpc_n,
      mae_complete: g.mae_complete,
      pw20_complete: g.pw20_complete,
    };
  };
  const out = {
    n: s.n,
    mae: s.mae,
    pw20: s.pw20,
    coverage80: s.coverage80,
    iwpc_mae: s.iwpc_mae,
    iwpc_pw20: s.iwpc_pw20,
    n_complete: s.n_complete,
    mae_complete: s.mae_complete,
    pw20_complete: s.pw20_complete,
    coverage80_complete: s.coverage80_complete,
    iwpc_mae_complete: s.iwpc_mae_complete,
    iwpc_pw20_complete: s.iwpc_pw20_complete,
    by_band: { '<=21': band('<=21'), '21-49': band('21-49'), '>=49': band('>=49') },
    n_withheld: withheld,
    strata,
    model_version: model.version,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
