// Where a call's time goes at a steady rate: `npm run build && npx tsx bench/timeline.ts [warfarin|clopidogrel|amoxicillin] [ES384|RS384] [rate] [seconds]`
// Starts the service with bench/timeline-probe.mjs preloaded, sends an open-loop steady rate (bench/open-loop.ts, one
// unique token per call), and prints, per call: the client's latency, the service's own wall time (request start →
// response finish), its CPU (main thread and whole process, /proc), and the waits the probe measured — the thread-pool
// verify (P-384), ONNX inference, GC pauses, event-loop delay. Figures depend on the machine's load: compare within a run.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { draftWarfarin, fullPrefetch } from '../test/fixtures/synthetic-patients.js';
import { freePort } from '../test/support/service.js';
import { openLoop } from './open-loop.js';
import { amoxicillin, clientsJson, clopidogrel, cyp2c19, hookBody, token, type BenchAlg } from './requests.js';

const [which = 'warfarin', algArg = 'ES384', rateArg = '100', secsArg = '10'] = process.argv.slice(2);
const alg: BenchAlg = algArg === 'RS384' ? 'RS384' : 'ES384';
const RATE = Number(rateArg);
const SECONDS = Number(secsArg);
const PATH = '/cds-services/dosing-order-select';
const body =
  which === 'clopidogrel' ? hookBody('pgx-1', clopidogrel, fullPrefetch('pgx-1', [cyp2c19]))
  : which === 'amoxicillin' ? hookBody('pgx-1', amoxicillin, fullPrefetch('pgx-1'))
  : hookBody('pgx-1', draftWarfarin('bench-w', 'pgx-1'), fullPrefetch('pgx-1'));

const cpu = (pid: number) => {
  const read = (f: string) => {
    const x = readFileSync(f, 'utf8').split(') ')[1]!.split(' ');
    return (Number(x[11]) + Number(x[12])) * 10; // ms
  };
  return { main: read(`/proc/${pid}/task/${pid}/stat`), proc: read(`/proc/${pid}/stat`) };
};
const q = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor(p * s.length))]! : NaN;
};
const f = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
const dist = (xs: number[]) => `p50 ${f(q(xs, 0.5))}  p90 ${f(q(xs, 0.9))}  p99 ${f(q(xs, 0.99))}  max ${f(q(xs, 1))} ms`;

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgx-timeline-'));
  const clientsFile = path.join(dir, 'clients.json');
  writeFileSync(clientsFile, clientsJson());
  const out = path.join(dir, 'timeline.json');
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const n = Math.ceil(RATE * (SECONDS + 3)) + 100;
  const tokens = Array.from({ length: n }, () => token(`${url}${PATH}`, alg));
  let i = 0;
  const next = () => tokens[i++] ?? token(`${url}${PATH}`, alg);
  const child = spawn(process.execPath, ['--max-old-space-size=256', '--import', './bench/timeline-probe.mjs', 'dist/src/server.js'], {
    env: { ...process.env, NODE_OPTIONS: '', PORT: String(port), PUBLIC_BASE_URL: url, CDS_CLIENTS_FILE: clientsFile, DATA_DIR: dir, LOG_LEVEL: 'warn', TIMELINE_OUT: out },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  for (let k = 0; k < 2000; k++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  await openLoop(url, PATH, body, RATE, 2, next); // warm-up at the same rate
  child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 50));
  const c0 = cpu(child.pid!);
  const r = await openLoop(url, PATH, body, RATE, SECONDS, next);
  const c1 = cpu(child.pid!);
  child.kill('SIGUSR2');
  await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const t = JSON.parse(readFileSync(out, 'utf8')) as { requests: number[]; verify: number[]; inference: number[]; gc: number[]; loop: { p50: number; p99: number; max: number; mean: number } };
  const calls = Math.max(1, r.completed);
  const gcTotal = t.gc.reduce((a, b) => a + b, 0);
  console.log(`${which}, ${alg}, ${RATE} calls/s offered for ${SECONDS} s: achieved ${r.achieved.toFixed(0)}, errors ${r.errors}, non-2xx ${r.non2xx}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
  console.log(`client latency (from scheduled start):  p50 ${r.p50}  p90 ${r.p90}  p99 ${r.p99}  max ${r.max} ms  (generator late p99 ${r.lateP99} ms)`);
  console.log(`service wall time per request:          ${dist(t.requests)}  (${t.requests.length} requests)`);
  console.log(`service CPU per call:                   main thread ${f((c1.main - c0.main) / calls)} ms, whole process ${f((c1.proc - c0.proc) / calls)} ms`);
  console.log(`thread-pool verify, call → callback:    ${t.verify.length ? dist(t.verify) : 'none (synchronous verify)'}  (${t.verify.length})`);
  console.log(`ONNX session.run, call → settled:       ${dist(t.inference)}  (${t.inference.length})`);
  console.log(`GC pauses (main thread):                ${t.gc.length} in the run, ${f(gcTotal / calls)} ms per call on average; ${dist(t.gc)}`);
  console.log(`event-loop delay (1 ms resolution):     p50 ${f(t.loop.p50)}  p99 ${f(t.loop.p99)}  max ${f(t.loop.max)} ms`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
