// npm run cv:warfarin -- [--seeds 7,11,23] [--out file.json] [<csv>]
// Two questions the single nested CV of the training script (fold seed 7) cannot answer (issue 16):
//  1. How much of the per-stratum MAE gain is the fold draw? The same nested CV of the committed recipe
//     (DEFAULT_TRAIN) with other fold seeds — no choice is made on these runs.
//  2. How much do the published IWPC equations gain from being evaluated on patients they were fitted on? Each
//     outer fold re-fits the equation's own columns by least squares on the outer training part only, and the
//     re-fitted equation is scored on the same held-out rows as the model and the published equation.
// Reads the training CSV at run time (never copied into the project); prints a Markdown table; --out writes JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GENOTYPE_STRATA, genotypeStratum, type GenotypeStratum } from '../src/domain/genotypeStratum.js';
import { readIwpcRecords, type IwpcRecord } from '../src/model/iwpcData.js';
import { mae, pw20 } from '../src/model/metrics.js';
import { strataTable, type StratumFigures } from '../src/model/strataMetrics.js';
import { crossValidate, DEFAULT_TRAIN, toTrainData } from '../src/model/train/pipeline.js';
import { clinicalColumns, pgxColumns, refitEquation } from '../src/model/train/refitEquation.js';
import { strataRowsFromCv } from '../src/model/train/strata.js';

const CV_FOLDS = 5;
interface SeedResult {
  seed: number;
  strata: { stratum: GenotypeStratum; n: number; modelMae: number; equationMae: number; maeGainPct: number; pw20GainPoints: number; coverage80: number; refitMae?: number; refitPw20?: number; gainVsRefitPct?: number }[];
}

const r2 = (v: number): number => Math.round(v * 100) / 100;

function runSeed(records: IwpcRecord[], seed: number, log: (s: string) => void): SeedResult {
  const data = toTrainData(records);
  const cv = crossValidate(data, DEFAULT_TRAIN, CV_FOLDS, seed, log);
  const table: StratumFigures[] = strataTable(strataRowsFromCv(records, cv, DEFAULT_TRAIN));
  // re-fitted equations on the same held-out rows, in the order strataRowsFromCv visits them (fold, then record)
  const refitRows: Record<'clinical' | 'pgx', { actual: number; pred: number }[]> = { clinical: [], pgx: [] };
  for (let f = 0; f < CV_FOLDS; f++) {
    const train = records.filter((_, i) => cv.folds[i] !== f);
    const clinical = refitEquation(train, clinicalColumns);
    const pgx = refitEquation(train.filter((r) => r.iwpc && genotypeStratum(r.iwpc) === 'both'), pgxColumns);
    records.forEach((r, i) => {
      if (cv.folds[i] !== f || !r.iwpc || genotypeStratum(r.iwpc) !== 'both') return;
      refitRows.clinical.push({ actual: r.doseMgWeek, pred: clinical.dose(r.iwpc) });
      refitRows.pgx.push({ actual: r.doseMgWeek, pred: pgx.dose(r.iwpc) });
    });
  }
  // the clinical equation serves CYP2C9 only and none; the pharmacogenetic one with both genotypes
  const refitFor: Partial<Record<GenotypeStratum, { actual: number; pred: number }[]>> = { both: refitRows.pgx, cyp2c9Only: refitRows.clinical, none: refitRows.clinical };
  return {
    seed,
    strata: table.map((t) => {
      const rr = refitFor[t.stratum];
      const refitMae = rr ? r2(mae(rr)) : undefined;
      return {
        stratum: t.stratum,
        n: t.n,
        modelMae: t.model.mae,
        equationMae: t.equation.mae,
        maeGainPct: t.maeGainPct,
        pw20GainPoints: t.pw20GainPoints,
        coverage80: t.model.coverage80,
        ...(rr ? { refitMae, refitPw20: r2(pw20(rr)), gainVsRefitPct: r2((100 * (refitMae! - t.model.mae)) / refitMae!) } : {}),
      };
    }),
  };
}

function args(): { csv: string; seeds: number[]; out?: string } {
  const a = process.argv.slice(2);
  let csv = path.resolve(process.cwd(), '../shared/data/iwpc/train.csv');
  let seeds = [7, 11, 23];
  let out: string | undefined;
  for (let i = 0; i < a.length; i++) {
    const v = a[i]!;
    if (v === '--seeds') seeds = (a[++i] ?? '').split(',').map(Number).filter(Number.isInteger);
    else if (v === '--out') out = path.resolve(a[++i] ?? '');
    else csv = path.resolve(v);
  }
  return { csv, seeds, out };
}

function main(): void {
  const { csv, seeds, out } = args();
  const records = readIwpcRecords(readFileSync(csv, 'utf8'));
  const log = (s: string): void => console.error(s);
  // the clinical equation's columns re-fitted on the whole file, next to the published coefficients (IWPC 2009, S1f)
  const all = refitEquation(records, clinicalColumns);
  const published = [-0.2546, 0.0118, 0.0134, -0.6752, 0.406, 0.0443, 1.2799, -0.5695];
  log(`clinical columns re-fitted on the whole file: intercept ${all.intercept.toFixed(4)} (published 4.0376); ${all.coef.map((c, j) => `${c.toFixed(4)} (${published[j]})`).join(', ')}`);
  const results = seeds.map((s) => runSeed(records, s, log));
  const lines = [
    '| fold seed | genotype on file | n | model MAE | published equation MAE | gain % | PW20 gain | model coverage80 % | re-fitted equation MAE (out of fold) | gain vs re-fitted % |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results)
    for (const s of r.strata)
      lines.push(`| ${r.seed} | ${s.stratum} | ${s.n} | ${s.modelMae.toFixed(2)} | ${s.equationMae.toFixed(2)} | ${s.maeGainPct.toFixed(2)} | ${s.pw20GainPoints >= 0 ? '+' : ''}${s.pw20GainPoints.toFixed(2)} | ${s.coverage80.toFixed(1)} | ${s.refitMae?.toFixed(2) ?? '–'} | ${s.gainVsRefitPct?.toFixed(2) ?? '–'} |`);
  for (const st of GENOTYPE_STRATA) {
    const g = results.map((r) => r.strata.find((x) => x.stratum === st)!.maeGainPct);
    lines.push(`| mean of ${results.length} | ${st} | | | | ${(g.reduce((a, b) => a + b, 0) / g.length).toFixed(2)} (${Math.min(...g).toFixed(2)}–${Math.max(...g).toFixed(2)}) | | | | |`);
  }
  console.log(lines.join('\n'));
  if (out) writeFileSync(out, JSON.stringify({ recipe: DEFAULT_TRAIN.version, folds: CV_FOLDS, results }, null, 2) + '\n');
}

main();
