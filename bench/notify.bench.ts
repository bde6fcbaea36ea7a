// npm run bench:notify — the notification path against the test FHIR server and the cached-answer stand-in, with the
// same-run baselines (bench/notify.ts). BENCH_NOTIFY_N (default 200) notifications per peer. Prints the section that
// `npm run bench` writes into bench/results.md.
import os from 'node:os';
import { notifyBench, notifyLines } from './notify.js';

const N = Number(process.env['BENCH_NOTIFY_N'] ?? 200);

notifyBench(N, (s) => console.log(s)).then(
  (rs) => {
    console.log(`\n${os.cpus().length} cores, node ${process.version}, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    console.log(notifyLines(rs).join('\n'));
    process.exit(0);
  },
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
