// npm run --silent evaluate:warfarin -- <csv>
// Runs the committed ONNX model (models/, through the serving code in src/model/warfarinModel.ts) on an IWPC-format
// CSV and prints ONE line of JSON. Reads nothing but that file and the committed model. Rows without a dose are
// skipped; rows the model withholds (inputs outside the card's ranges) are counted in n_withheld and not scored.
// iwpc_* figures are the IWPC pharmacogenetic equation over the complete rows (age, height, weight present).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { readIwpcRecords } from '../src/model/iwpcData.js';
import { summarize, type Scored } from '../src/model/metrics.js';
import { iwpcPrediction } from '../src/model/train/pipeline.js';
import { loadWarfarinModel } from '../src/model/warfarinModel.js';

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
  const B = 512;
  for (let s = 0; s < records.length; s += B) {
    const chunk = records.slice(s, s + B);
    const preds = await model.predictMany(chunk.map((r) => r.input));
    preds.forEach((p, k) => {
      const r = chunk[k]!;
      if ('withheld' in p) withheld++;
      else
        scored.push({ actual: r.doseMgWeek, pred: p.weeklyDoseMg, low: p.interval80.low, high: p.interval80.high, iwpc: iwpcPrediction(r) });
    });
  }
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
    model_version: model.version,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
