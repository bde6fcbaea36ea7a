// `npm run report -- [--since 2026-01-01] [--csv] [--json]`: acceptance/override rates and applied rates (accepted vs accepted and applied) from the audit store.
import { loadConfig } from '../config.js';
import { runCli, withBackend } from './common.js';
import { formatReportCsv, formatReportTable, reportFromStore } from '../store/report.js';

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let since: Date | undefined;
  let format: 'table' | 'csv' | 'json' = 'table';
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--csv') format = 'csv';
    else if (a === '--json') format = 'json';
    else if (a === '--since' || a.startsWith('--since=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      since = v ? new Date(v) : undefined;
      if (!since || Number.isNaN(since.getTime())) {
        process.stderr.write(`--since needs a date, e.g. --since 2026-01-01 (got ${v ?? 'nothing'})\n`);
        return 2;
      }
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run report -- [--since YYYY-MM-DD] [--csv | --json]\n(applied = accepted and applied, measured on the next hook call for the same order)\n');
      return 0;
    } else {
      process.stderr.write(`unknown argument ${a}; try --help\n`);
      return 2;
    }
  }
  const config = loadConfig(env);
  return withBackend(config, async (store) => {
    const report = await reportFromStore(store, since);
    process.stdout.write(format === 'csv' ? formatReportCsv(report) : format === 'json' ? JSON.stringify(report, null, 2) + '\n' : formatReportTable(report));
    return 0;
  });
}

runCli('Report', main);
