// `npm run purge [-- --days N] [--dry-run]`: delete audit and feedback records older than the retention period.
import { loadConfig } from '../config.js';
import { runCli, withBackend } from './common.js';

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = loadConfig(env);
  let days = config.audit.retentionDays;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--days' || a.startsWith('--days=')) {
      const v = Number(a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i]);
      if (!Number.isInteger(v) || v < 1) {
        process.stderr.write('--days needs a whole number of days ≥ 1\n');
        return 2;
      }
      days = v;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write('usage: npm run purge [-- --days N]   (default: RETENTION_DAYS / audit.retentionDays)\n');
      return 0;
    } else {
      process.stderr.write(`unknown argument ${a}; try --help\n`);
      return 2;
    }
  }
  const before = new Date(Date.now() - days * 86_400_000);
  return withBackend(config, async (store) => {
    const r = await store.purge(before);
    process.stdout.write(
      `Purged records older than ${days} days (before ${r.before}) from ${store.kind}: ${r.hookCalls} hook calls, ${r.recommendations} recommendations, ${r.cards} cards, ${r.feedback} feedback items\n`,
    );
    return 0;
  });
}

runCli('Purge', main);
