// npm run bench — the service against two baselines, in one run on this machine (see bench/results.md):
//   (a) bare express parsing the same hook request and returning a fixed card (bench/baseline-server.ts);
//   (b) (a) + the same JWT verification with jose (same algorithm, same kind of key, iss/aud/exp/iat, jti replay
//       refused), once for ES384 (P-384, as the CDS Hooks Sandbox signs) and once for RS384 (RSA 2048, Epic-style);
//   (c) the service, full prefetch: warfarin with genotypes, a PGx drug (clopidogrel, CYP2C19 *2/*2), a drug with no
//       guidance — each with ES384 and with RS384 client tokens; no prefetch (RS384): warfarin with data fetched from
//       the local FHIR test server, and from a cached-answer stand-in (bench/fhir-replay.ts).
// Closed loop at 16/64 connections (saturation); paired rounds at 16 connections ((a), (b), then the scenarios (c)
// back to back: (c)/(b), (c)/(a) and CPU per call per process from /proc); open loop at 50/100/200 calls/s
// (bench/open-loop.ts: a steady rate, latency from each request's scheduled start); a 60 s soak for RSS; cold start;
// last, the notification path against the test FHIR server and the stand-in, with same-run baselines (bench/notify.ts).
// Every request carries a JWT in `Authorization` (the baseline (a) gets the same header and ignores it); for (b) and (c)
// each token is unique (fresh jti) and all are signed before each run (bench/tokens.ts).
import autocannon from 'autocannon';
import { spawn, execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { draftWarfarin, fullPrefetch, syntheticResources } from '../test/fixtures/synthetic-patients.js';
import { startFhirServer } from '../test/support/fhir-server/index.js';
import { freePort } from '../test/support/service.js';
import { notifyBench, notifyLines } from './notify.js';
import { openLoop } from './open-loop.js';
import { startFhirReplay, waitLine, type Proc } from './procs.js';
import { reportLines, type OpenRow, type PairedRow, type Row } from './report.js';
import { amoxicillin, BENCH_ALGS, clientsJson, clopidogrel, cyp2c19, hookBody, KEYS, type BenchAlg } from './requests.js';
import { bumpRate, cycledTokens, exactPool, noteRate, poolFor, stopSigners, type TokenSource } from './tokens.js';

const QUICK = process.argv.includes('--quick');
const DURATION = QUICK ? 2 : Number(process.env['BENCH_DURATION'] ?? 4);
const WARMUP = 1;
const SOAK = QUICK ? 10 : Number(process.env['BENCH_SOAK'] ?? 60);
// no 1-connection level any more: the open-loop runs at 50/100/200 calls/s measure latency at low load, steadily
const LEVELS = QUICK ? [16] : [16, 64];
const PAIRS = QUICK ? 1 : 3;
const PAIR_SECONDS = QUICK ? 2 : 3;
const RATES = QUICK ? [100] : [50, 100, 200];
const OPEN_SECONDS = QUICK ? 2 : 3;
const FHIR_SCENARIO = 'service: warfarin, no prefetch (FHIR queries)';
const FHIR_REPLAY_SCENARIO = 'service: warfarin, no prefetch, cached-answer FHIR stand-in';
const PATH = '/cds-services/dosing-order-select';
// the notification path (bench/notify.ts): notifications per FHIR peer (test server, stand-in), ~40 s in all at 200
const NOTIFY_N = QUICK ? 50 : Number(process.env['BENCH_NOTIFY_N'] ?? 200);

// ---- processes ----
async function waitReady(url: string, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`${url} not ready`);
}
/** NODE_OPTIONS of the Dockerfile's runtime image: the bench measures the service as it is deployed. */
const nodeOptionsLine = /NODE_OPTIONS=(?:"([^"\n]*)"|(\S*))/.exec(readFileSync('Dockerfile', 'utf8')); // quoted (several flags) or one word
const DOCKERFILE_NODE_OPTIONS = nodeOptionsLine?.[1] ?? nodeOptionsLine?.[2] ?? '';
const SERVICE_FLAGS = process.env['BENCH_SERVICE_FLAGS'] ?? DOCKERFILE_NODE_OPTIONS;

async function startService(dir: string, clientsFile: string, fhirServers: string[] = []): Promise<Proc & { coldStartMs: number }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const child = spawn(process.execPath, [...SERVICE_FLAGS.split(' ').filter(Boolean), 'dist/src/server.js'], {
    // the token may go only to named FHIR servers (issue 21): the local test server and its cached-answer stand-in
    env: {
      ...process.env, NODE_OPTIONS: '', PORT: String(port), PUBLIC_BASE_URL: url, CDS_CLIENTS_FILE: clientsFile, DATA_DIR: dir, LOG_LEVEL: 'warn',
      ...(fhirServers.length ? { FHIR_ALLOWED_SERVERS: fhirServers.join(','), FHIR_ALLOW_INSECURE_LOOPBACK: 'true' } : {}),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.resume();
  child.stderr!.resume();
  await waitReady(url, 20000);
  return { child, url, pid: child.pid!, coldStartMs: performance.now() - t0 };
}
/** Baseline (a) without `verify`, (b) with it: bench/baseline-server.ts. */
async function startBaseline(verify?: BenchAlg): Promise<Proc> {
  const env = { ...process.env, NODE_OPTIONS: '', ...(verify ? { BASELINE_VERIFY: verify, BASELINE_JWKS: JSON.stringify({ keys: [KEYS[verify].jwk] }) } : {}) };
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/baseline-server.ts'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const line = await waitLine(child, /\{"ready":true,"port":\d+\}/, 20000);
  const port = (JSON.parse(line) as { port: number }).port;
  return { child, url: `http://127.0.0.1:${port}`, pid: child.pid! };
}
function rssMb(pid: number): { rss: number; peak: number } {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const get = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1] ?? 0) / 1024;
  return { rss: get('VmRSS'), peak: get('VmHWM') };
}
/** CPU seconds (user + system) so far: the main thread of `pid`, and the whole process (all its threads). */
function cpuSec(pid: number): { main: number; proc: number } {
  const read = (f: string) => {
    const x = readFileSync(f, 'utf8').split(') ')[1]!.split(' ');
    return (Number(x[11]) + Number(x[12])) / 100; // utime + stime, in clock ticks of 10 ms
  };
  return { main: read(`/proc/${pid}/task/${pid}/stat`), proc: read(`/proc/${pid}/stat`) };
}

// ---- what is measured ----
/** One thing to load: a process, a body, and where its tokens come from. */
interface Series { label: string; key: string; proc: Proc; body: string; alg: BenchAlg; kind: 'a' | 'b' | 'c' }
/** Tokens for one run of `s`: baseline (a) cycles a fixed set; (b) and (c) consume a pool (each jti once). */
async function tokensFor(s: Series, seconds: number, floor: number): Promise<TokenSource> {
  if (s.kind === 'a') return cycledTokens(`${s.proc.url}${PATH}`, s.alg);
  return poolFor(s.key, `${s.proc.url}${PATH}`, seconds, floor, s.alg);
}

function closedLoop(s: Series, connections: number, seconds: number, src: TokenSource): Promise<autocannon.Result> {
  return autocannon({
    url: `${s.proc.url}${PATH}`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: PATH,
        body: s.body,
        // the same shape of request for baselines and service: content-type + a signed bearer token
        setupRequest: (req) => ({ ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${src.next()}` } }),
      },
    ],
  });
}

/** Closed loop at each level: warm-up, then a measured run (again with a bigger pool if the first ran dry). */
async function saturation(s: Series, rows: Row[]): Promise<void> {
  for (const c of LEVELS) {
    const warm = await closedLoop(s, c, WARMUP, await tokensFor(s, WARMUP, 1500));
    noteRate(s.key, warm.requests.average);
    let src = await tokensFor(s, DURATION, 0);
    let r = await closedLoop(s, c, DURATION, src);
    if (src.short > 0) {
      noteRate(s.key, r.requests.average);
      bumpRate(s.key, 1.5);
      src = await tokensFor(s, DURATION, 0);
      r = await closedLoop(s, c, DURATION, src);
    }
    noteRate(s.key, r.requests.average);
    rows.push({ label: s.label, kind: s.kind, alg: s.alg, key: s.key, connections: c, rps: r.requests.average, p50: r.latency.p50, p975: r.latency.p97_5, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, peakRssMb: rssMb(s.proc.pid).peak, tokensShort: src.short });
    console.log(`${s.label.padEnd(52)} c=${String(c).padStart(2)}  ${r.requests.average.toFixed(0).padStart(6)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  errors ${r.errors + r.timeouts}  non2xx ${r.non2xx}${src.short ? `  (${src.short} tokens signed during the run)` : ''}`);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** One paired run at 16 connections: 1 s warm-up, then PAIR_SECONDS with CPU per request read from /proc. */
async function pairedRun(s: Series) {
  noteRate(s.key, (await closedLoop(s, 16, 1, await tokensFor(s, 1, 1500))).requests.average);
  const src = await tokensFor(s, PAIR_SECONDS, 0);
  const c0 = cpuSec(s.proc.pid);
  const r = await closedLoop(s, 16, PAIR_SECONDS, src);
  const c1 = cpuSec(s.proc.pid);
  noteRate(s.key, r.requests.average);
  const n = Math.max(1, r.requests.total);
  return { rps: r.requests.average, p99: r.latency.p99, failed: r.errors + r.timeouts + r.non2xx, short: src.short, mainMs: (1000 * (c1.main - c0.main)) / n, procMs: (1000 * (c1.proc - c0.proc)) / n };
}

/**
 * Paired rounds at 16 connections, robust to the machine's drift (shared cores: the same run's speed moved by ±30%
 * within minutes): per algorithm, PAIRS rounds of (a), (b) and then each scenario (c) back to back; each ratio compares
 * runs seconds apart and the median over the rounds is reported.
 */
async function paired(a: Series, b: Series, cs: Series[]): Promise<PairedRow[]> {
  const out: PairedRow[] = cs.map((c) => ({ label: c.label, alg: c.alg, vsB: [], vsA: [], rpsA: [], rpsB: [], rpsC: [], p99C: [], cpuA: [], cpuB: [], cpuC: [], failed: 0, failedB: 0, short: 0 }));
  for (let i = 0; i < PAIRS; i++) {
    const ra = await pairedRun(a);
    const rb = await pairedRun(b);
    for (const [j, c] of cs.entries()) {
      const rc = await pairedRun(c);
      const o = out[j]!;
      o.vsA.push(rc.rps / ra.rps);
      o.vsB.push(rc.rps / rb.rps);
      o.rpsA.push(ra.rps);
      o.rpsB.push(rb.rps);
      o.rpsC.push(rc.rps);
      o.p99C.push(rc.p99);
      o.cpuA.push({ main: ra.mainMs, proc: ra.procMs });
      o.cpuB.push({ main: rb.mainMs, proc: rb.procMs });
      o.cpuC.push({ main: rc.mainMs, proc: rc.procMs });
      // a refused call (e.g. 401) is cheap: a round with any is not a measure of the pipeline (nor of (b)'s verify)
      o.failed += rc.failed;
      o.failedB += rb.failed;
      o.short += rc.short + (j === 0 ? rb.short : 0);
    }
  }
  for (const o of out) console.log(`paired c=16 ${o.label}: vs (b) ${o.vsB.map((x) => x.toFixed(2)).join(', ')}; vs (a) ${o.vsA.map((x) => x.toFixed(2)).join(', ')}; main-thread CPU per call (a) ${median(o.cpuA.map((x) => x.main)).toFixed(3)} (b) ${median(o.cpuB.map((x) => x.main)).toFixed(3)} (c) ${median(o.cpuC.map((x) => x.main)).toFixed(3)} ms`);
  return out;
}

/** Event-loop delay of the service since the last scrape (prom-client resets its histogram on each collect), ms. */
async function loopDelay(url: string): Promise<{ p50: number; p99: number; max: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (n: string) => 1000 * Number(new RegExp(`^nodejs_eventloop_lag_${n}_seconds(?:\\{[^}]*\\})? (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return { p50: get('p50'), p99: get('p99'), max: get('max') };
}

/** Open loop at `rate`: 1 s warm-up at the same rate, then OPEN_SECONDS measured, with CPU per call from /proc. */
async function openRun(s: Series, rate: number): Promise<OpenRow> {
  const aud = `${s.proc.url}${PATH}`;
  const warm = await exactPool(aud, rate, s.alg);
  await openLoop(s.proc.url, PATH, s.body, rate, 1, () => warm.next());
  const src = await exactPool(aud, rate * OPEN_SECONDS, s.alg);
  if (s.kind === 'c') await loopDelay(s.proc.url);
  const c0 = cpuSec(s.proc.pid);
  const r = await openLoop(s.proc.url, PATH, s.body, rate, OPEN_SECONDS, () => src.next());
  const c1 = cpuSec(s.proc.pid);
  const lag = s.kind === 'c' ? await loopDelay(s.proc.url) : undefined;
  const n = Math.max(1, r.completed);
  const row: OpenRow = { label: s.label, kind: s.kind, alg: s.alg, ...r, mainMs: (1000 * (c1.main - c0.main)) / n, procMs: (1000 * (c1.proc - c0.proc)) / n, tokensShort: src.short, ...(lag ? { loopDelay: lag } : {}) };
  console.log(`open ${rate}/s ${s.label.padEnd(50)} achieved ${r.achieved.toFixed(0)}  p50 ${r.p50} p90 ${r.p90} p99 ${r.p99} ms  CPU/call main ${row.mainMs.toFixed(2)} proc ${row.procMs.toFixed(2)} ms  late p99 ${r.lateP99} ms${lag ? `  loop delay p99 ${lag.p99.toFixed(1)} ms` : ''}  errors ${r.errors} non2xx ${r.non2xx}`);
  return row;
}

const startLoad = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

async function main(): Promise<void> {
  const t0 = Date.now();
  console.log('building …');
  execSync('npm run build', { stdio: 'ignore' });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgx-bench-'));
  const clientsFile = path.join(dir, 'clients.json');
  writeFileSync(clientsFile, clientsJson());

  const warfarinFull = hookBody('pgx-1', draftWarfarin('bench-w', 'pgx-1'), fullPrefetch('pgx-1'));
  const scenarios: [string, string, string][] = [
    ['warfarin', 'warfarin + genotypes, full prefetch', warfarinFull],
    ['clopidogrel', 'clopidogrel (PGx), full prefetch', hookBody('pgx-1', clopidogrel, fullPrefetch('pgx-1', [cyp2c19]))],
    ['amoxicillin', 'amoxicillin (no guidance)', hookBody('pgx-1', amoxicillin, fullPrefetch('pgx-1'))],
  ];
  const baseA = await startBaseline();
  const baseB = Object.fromEntries(await Promise.all(BENCH_ALGS.map(async (alg) => [alg, await startBaseline(alg)] as const))) as Record<BenchAlg, Proc>;
  // the FHIR servers of the no-prefetch scenarios start first, so the service can be told their addresses
  const fhir = await startFhirServer({ token: 'bench-token', seed: syntheticResources() });
  const replay = await startFhirReplay(fhir.url, 'bench-token');
  const svc = await startService(dir, clientsFile, [fhir.url, replay.url]);

  const a: Series = { label: 'baseline (a): express + body parse', key: 'a', proc: baseA, body: warfarinFull, alg: 'RS384', kind: 'a' };
  const b = (alg: BenchAlg): Series => ({ label: `baseline (b): (a) + jose JWT verify, ${alg}`, key: `b-${alg}`, proc: baseB[alg], body: warfarinFull, alg, kind: 'b' });
  const c = (alg: BenchAlg): Series[] => scenarios.map(([id, label, body]) => ({ label: `service: ${label}, ${alg}`, key: `c-${id}-${alg}`, proc: svc, body, alg, kind: 'c' }));

  const rows: Row[] = [];
  await saturation(a, rows);
  for (const alg of BENCH_ALGS) await saturation(b(alg), rows);
  for (const alg of BENCH_ALGS) for (const s of c(alg)) await saturation(s, rows);

  const pairedRows: PairedRow[] = [];
  for (const alg of BENCH_ALGS) pairedRows.push(...(await paired(a, b(alg), c(alg))));

  const openRows: OpenRow[] = [];
  for (const alg of BENCH_ALGS) for (const rate of RATES) for (const s of [b(alg), ...c(alg)]) openRows.push(await openRun(s, rate));
  for (const p of [baseA, baseB.ES384, baseB.RS384]) p.child.kill('SIGTERM');

  const fhirSeries = (label: string, url: string, id: string): Series => ({ label, key: label, proc: svc, body: hookBody('pgx-1', draftWarfarin(id, 'pgx-1'), undefined, url), alg: 'RS384', kind: 'c' });
  await saturation(fhirSeries(FHIR_SCENARIO, fhir.url, 'bench-w2'), rows);
  // the same calls against the cached-answer stand-in (its first answer to each query comes from the test server)
  await saturation(fhirSeries(FHIR_REPLAY_SCENARIO, replay.url, 'bench-w3'), rows);
  const replayStats = (await (await fetch(`${replay.url}/__stats`)).json()) as { hits: number; misses: number };
  replay.child.kill('SIGTERM');
  await fhir.stop();

  // soak: RSS sampled every second at 16 connections
  const samples: number[] = [];
  const soakSeries = c('RS384')[0]!;
  const soakSrc = await poolFor(soakSeries.key, `${svc.url}${PATH}`, SOAK, 0, 'RS384');
  const timer = setInterval(() => samples.push(rssMb(svc.pid).rss), 1000);
  const soak = await closedLoop(soakSeries, 16, SOAK, soakSrc);
  clearInterval(timer);
  const third = Math.max(1, Math.floor(samples.length / 3));
  const avg = (xs: number[]) => xs.reduce((x, y) => x + y, 0) / Math.max(1, xs.length);
  const soakRow = { seconds: SOAK, requests: soak.requests.total, errors: soak.errors + soak.timeouts, non2xx: soak.non2xx, short: soakSrc.short, rssFirstThird: avg(samples.slice(0, third)), rssLastThird: avg(samples.slice(-third)), rssMax: Math.max(...samples) };
  svc.child.kill('SIGTERM');
  await stopSigners();

  // cold start, 3 times, fresh data dir each
  const colds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const d = mkdtempSync(path.join(os.tmpdir(), 'pgx-cold-'));
    const s = await startService(d, clientsFile);
    colds.push(s.coldStartMs);
    s.child.kill('SIGTERM');
  }

  // the notification path, last: every process of the sections above has stopped
  const notify = notifyLines(await notifyBench(NOTIFY_N, (s) => console.log(s)));

  const commit = execSync('git rev-parse --short HEAD').toString().trim();
  const dirty = execSync('git status --porcelain --untracked-files=no').toString().trim() !== '' ? ' (with uncommitted changes)' : '';
  const out = reportLines({
    header: `Run: \`npm run bench${QUICK ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}, commit ${commit}${dirty}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, OpenSSL ${process.versions.openssl}; load average (1/5/15 min) at the start ${startLoad}, at the end ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}.`,
    method: { duration: DURATION, warmup: WARMUP, pairs: PAIRS, pairSeconds: PAIR_SECONDS, openSeconds: OPEN_SECONDS, rates: RATES },
    serviceFlags: `\`${SERVICE_FLAGS}\`${process.env['BENCH_SERVICE_FLAGS'] === undefined ? ' (the Dockerfile\'s NODE_OPTIONS)' : ' (BENCH_SERVICE_FLAGS)'}`,
    ...(process.env['BENCH_NOTE'] ? { note: process.env['BENCH_NOTE'] } : {}),
    rows, paired: pairedRows, open: openRows, soak: soakRow, colds, replayStats, notify,
    fhirScenario: FHIR_SCENARIO, fhirReplayScenario: FHIR_REPLAY_SCENARIO,
    minutes: (Date.now() - t0) / 60000,
  }).join('\n');
  console.log(`\n${out}`);
  // BENCH_OUT: another results file (e.g. for a run with BENCH_SERVICE_FLAGS), so bench/results.md stays the as-deployed run
  if (!QUICK) writeFileSync(path.resolve(process.env['BENCH_OUT'] ?? 'bench/results.md'), `${out}\nAnalysis of these figures (what dominates, what was changed): docs/performance.md.\n`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
