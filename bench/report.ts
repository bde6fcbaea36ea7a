// bench/results.md from the figures of one `npm run bench` run (bench/run.ts): the tables, and issue 20's and
// issue 7's targets judged on this run.
import type { OpenLoopResult } from './open-loop.js';
import type { BenchAlg } from './requests.js';

type Kind = 'a' | 'b' | 'c';
export interface Row { label: string; kind: Kind; alg: BenchAlg; key: string; connections: number; rps: number; p50: number; p975: number; p99: number; errors: number; non2xx: number; peakRssMb: number; tokensShort: number }
export interface Cpu { main: number; proc: number }
export interface PairedRow { label: string; alg: BenchAlg; vsB: number[]; vsA: number[]; rpsA: number[]; rpsB: number[]; rpsC: number[]; p99C: number[]; cpuA: Cpu[]; cpuB: Cpu[]; cpuC: Cpu[]; failed: number; failedB: number; short: number }
export interface OpenRow extends OpenLoopResult { label: string; kind: Kind; alg: BenchAlg; mainMs: number; procMs: number; tokensShort: number; loopDelay?: { p50: number; p99: number; max: number } }
interface Soak { seconds: number; requests: number; errors: number; non2xx: number; short: number; rssFirstThird: number; rssLastThird: number; rssMax: number }
export interface Report {
  header: string;
  method: { duration: number; warmup: number; pairs: number; pairSeconds: number; openSeconds: number; rates: number[] };
  serviceFlags: string;
  note?: string;
  rows: Row[];
  paired: PairedRow[];
  open: OpenRow[];
  soak: Soak;
  colds: number[];
  replayStats: { hits: number; misses: number };
  /** the notification path's section (bench/notify.ts notifyLines) */
  notify: string[];
  fhirScenario: string;
  fhirReplayScenario: string;
  minutes: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const f2 = (x: number) => x.toFixed(2);
const f3 = (x: number) => x.toFixed(3);
const cpuMed = (xs: Cpu[]) => ({ main: median(xs.map((x) => x.main)), proc: median(xs.map((x) => x.proc)) });
/** Issue 20's throughput floor for (c)/(b) by scenario. */
const FLOOR: [RegExp, number][] = [[/warfarin/, 0.6], [/clopidogrel/, 0.7], [/amoxicillin/, 0.8]];
const floorOf = (label: string) => FLOOR.find(([re]) => re.test(label))?.[1] ?? NaN;
const row = (target: string, met: boolean, figure: string) => `| ${target} | ${met ? 'met' : '**not met**'} | ${figure} |`;

export function reportLines(r: Report): string[] {
  const m = r.method;
  const rowsA = (c: number) => r.rows.find((x) => x.kind === 'a' && x.connections === c);
  const rowsB = (alg: BenchAlg, c: number) => r.rows.find((x) => x.kind === 'b' && x.alg === alg && x.connections === c);
  const short = [...r.rows.filter((x) => x.tokensShort > 0).map((x) => `${x.label} c=${x.connections}: ${x.tokensShort}`), ...r.open.filter((x) => x.tokensShort > 0).map((x) => `${x.label} at ${x.offered}/s: ${x.tokensShort}`), ...(r.soak.short ? [`soak: ${r.soak.short}`] : [])];
  const lines = [
    '# Service benchmark',
    '',
    r.header,
    '',
    'Compared in the same run: **(a)** bare express parsing the same hook request and returning a fixed card; **(b)** (a) + the JWT verification any CDS service owes its client, with jose (`jwtVerify`, the same algorithm and the same kind of key, iss / aud / exp / iat with 60 s of skew, each jti refused a second time), once for ES384 (P-384, as the CDS Hooks Sandbox signs) and once for RS384 (RSA 2048); **(c)** the service (`node dist/src/server.js`, embedded SQLite store, ONNX model). Every request carries a JWT in `Authorization` ((a) ignores it); for (b) and (c) each token is unique (fresh `jti`) and all are signed before each run (bench/tokens.ts), so the load generator only sends during a measured run (it shares the 2 cores with the process under test).',
    '',
    `Closed loop: ${m.warmup} s warm-up then ${m.duration} s measured per level (autocannon, keep-alive). Paired: ${m.pairs} round(s) at 16 connections of (a), (b) and each scenario (c) back to back, ${m.pairSeconds} s each after a 1 s warm-up, median of the ratios; CPU per call read from /proc (main thread, and whole process: all threads — thread pool, GC helpers, the audit writer). Open loop: ${m.rates.join(', ')} calls/s, ${m.openSeconds} s each after 1 s at the same rate (bench/open-loop.ts: requests start on a fixed schedule on up to 64 keep-alive connections; latency from each request's scheduled start to the end of its response).`,
    '',
    `Service node flags: ${r.serviceFlags}.`,
    ...(r.note ? ['', `Note: ${r.note}`] : []),
    ...(short.length ? ['', `Token pool ran short (tokens signed during a measured run, which understates the process under test): ${short.join('; ')}.`] : []),
    '',
    '## Saturation (closed loop)',
    '',
    '| series | conns | req/s | p50 ms | p97.5 ms | p99 ms | errors | non-2xx | peak RSS MB | vs (a) | vs (b), same alg |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.rows.map((x) => {
      const a = rowsA(x.connections);
      const b = x.kind === 'c' && !x.label.includes('no prefetch') ? rowsB(x.alg, x.connections) : undefined;
      return `| ${x.label} | ${x.connections} | ${x.rps.toFixed(0)} | ${x.p50} | ${x.p975} | ${x.p99} | ${x.errors} | ${x.non2xx} | ${x.peakRssMb.toFixed(0)} | ${x.kind === 'a' ? '1.00' : a ? f2(x.rps / a.rps) : '—'} | ${x.kind === 'b' ? '1.00' : b ? f2(x.rps / b.rps) : '—'} |`;
    }),
    '',
    '## Paired at 16 connections: ratios and CPU per call',
    '',
    'CPU per call, ms, median over the rounds: main thread / whole process. "verify" = (b) − (a), what the JWT check costs a bare handler; "service own" = (c) − (b).',
    '',
    '| scenario | alg | (c)/(b) per round | (c)/(b) median | (c)/(a) per round | (c)/(a) median | (c) p99 ms per round | failed calls (c) / (b) | CPU (a) | CPU (b) | CPU (c) | verify | service own |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.paired.map((p) => {
      const [a, b, c] = [cpuMed(p.cpuA), cpuMed(p.cpuB), cpuMed(p.cpuC)];
      const cell = (x: Cpu) => `${f3(x.main)} / ${f3(x.proc)}`;
      return `| ${p.label.replace(/^service: /, '').replace(/, (ES|RS)384$/, '')} | ${p.alg} | ${p.vsB.map(f2).join(', ')} | ${f2(median(p.vsB))} | ${p.vsA.map(f2).join(', ')} | ${f2(median(p.vsA))} | ${p.p99C.join(', ')} | ${p.failed} / ${p.failedB} | ${cell(a)} | ${cell(b)} | ${cell(c)} | ${cell({ main: b.main - a.main, proc: b.proc - a.proc })} | ${cell({ main: c.main - b.main, proc: c.proc - b.proc })} |`;
    }),
    '',
    '## Open loop: latency at a fixed offered rate',
    '',
    '"p50 / CPU": the service\'s p50 over its whole-process CPU per call at that rate (target ≤ 1.5 at 100 calls/s). "late p99": how late the generator started its requests (p99). "loop delay p99": the service\'s event-loop delay during the run (prom-client, 10 ms sampling).',
    '',
    '| offered calls/s | series | achieved | p50 ms | p90 ms | p99 ms | max ms | CPU per call main / process ms | p50 / CPU | late p99 ms | loop delay p99 ms | errors + non-2xx |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.open.map((o) => `| ${o.offered} | ${o.label} | ${o.achieved.toFixed(0)} | ${o.p50} | ${o.p90} | ${o.p99} | ${o.max} | ${f3(o.mainMs)} / ${f3(o.procMs)} | ${f2(o.p50 / o.procMs)} | ${o.lateP99} | ${o.loopDelay ? o.loopDelay.p99.toFixed(1) : '—'} | ${o.errors + o.non2xx} |`),
    '',
    `Soak: ${r.soak.seconds} s at 16 connections (warfarin, full prefetch, RS384): ${r.soak.requests} requests, ${r.soak.errors} errors, ${r.soak.non2xx} non-2xx; RSS ${r.soak.rssFirstThird.toFixed(0)} MB (first third) → ${r.soak.rssLastThird.toFixed(0)} MB (last third), max ${r.soak.rssMax.toFixed(0)} MB.`,
    '',
    `FHIR-fetch path (RS384): "${r.fhirScenario}" queries the local test FHIR server (Medplum's router and in-memory repository in one process, on the same 2 cores as the service and the load generator); "${r.fhirReplayScenario}" sends the same calls to bench/fhir-replay.ts, which answers each query with the test server's own answer, fetched once and then served from memory (${r.replayStats.misses} queries went to the test server, ${r.replayStats.hits} were served from memory). At 64 connections the FHIR-fetch p99 is the load generator's (docs/performance-history.md, fifth round).`,
    '',
    `Cold start (process start → /readyz 200, model and knowledge loaded): ${r.colds.map((c) => `${c.toFixed(0)} ms`).join(', ')}.`,
    '',
    ...r.notify,
    `Whole bench: ${r.minutes.toFixed(1)} min.`,
    '',
  ];
  return [...lines, ...targets(r)];
}

function targets(r: Report): string[] {
  const out = ['## Targets (issue 20), judged on this run', '', '| target | result | figure |', '|---|---|---|'];
  for (const p of r.paired) {
    const floor = floorOf(p.label);
    const v = median(p.vsB);
    const bad = p.failed + p.failedB;
    out.push(row(`(c)/(b) ≥ ${floor.toFixed(1)} at 16 connections — ${p.label.replace(/^service: /, '')}`, bad === 0 && v >= floor, `${f2(v)} paired median${bad ? ` — not valid: ${p.failed} / ${p.failedB} calls of (c) / (b) refused or failed` : ''}${p.short ? ` (${p.short} tokens signed during the runs)` : ''}`));
  }
  for (const o of r.open.filter((x) => x.kind === 'c' && x.offered === 100)) {
    const ok = o.errors + o.non2xx === 0;
    out.push(row(`100 calls/s: p50 ≤ 1.5 × the call's CPU — ${o.label.replace(/^service: /, '')}`, ok && o.p50 <= 1.5 * o.procMs, `p50 ${o.p50} ms, CPU ${f3(o.procMs)} ms per call (process; main thread ${f3(o.mainMs)}): ${f2(o.p50 / o.procMs)}×`));
    out.push(row(`100 calls/s: p99 ≤ 25 ms — ${o.label.replace(/^service: /, '')}`, ok && o.p99 <= 25, `${o.p99} ms (achieved ${o.achieved.toFixed(0)} calls/s)`));
  }
  // issue 7's targets that still stand
  const at16 = r.rows.filter((x) => x.connections === 16 && x.kind === 'c');
  const full = at16.filter((x) => !x.label.includes('no prefetch'));
  const fhir = at16.find((x) => x.label === r.fhirScenario);
  const replay = at16.find((x) => x.label === r.fhirReplayScenario);
  const serviceErrors =
    r.rows.filter((x) => x.kind === 'c').reduce((s, x) => s + x.errors + (x.label.includes('no prefetch') ? 0 : x.non2xx), 0) +
    r.soak.errors + r.soak.non2xx + r.paired.reduce((s, p) => s + p.failed + p.failedB, 0) + r.open.reduce((s, o) => s + o.errors + o.non2xx, 0);
  const flat = r.soak.rssLastThird <= r.soak.rssFirstThird * 1.1;
  out.push(
    '',
    '## Targets (issue 7) that still stand',
    '',
    '| target | result | figure |',
    '|---|---|---|',
    ...full.map((x) => row(`16 connections (closed loop): p99 ≤ 25 ms — ${x.label.replace(/^service: /, '')}`, x.p99 <= 25 && x.non2xx + x.errors === 0, `${x.p99} ms`)),
    ...(fhir ? [row('FHIR-fetch path (local test FHIR server), 16 connections: p99 ≤ 100 ms', fhir.p99 <= 100 && fhir.non2xx === 0, `${fhir.p99} ms, ${fhir.non2xx} non-2xx`)] : []),
    ...(replay ? [row('FHIR-fetch path, cached-answer stand-in, 16 connections: p99 ≤ 100 ms', replay.p99 <= 100 && replay.non2xx + replay.errors === 0, `${replay.p99} ms, ${replay.non2xx} non-2xx`)] : []),
    row('0 errors (every service run and the baselines (b) in the paired rounds; non-2xx counted as errors except on the FHIR-fetch path)', serviceErrors === 0, `${serviceErrors}`),
    row(`RSS flat over the ${r.soak.seconds} s soak and under 300 MB`, flat && r.soak.rssMax < 300, `${r.soak.rssFirstThird.toFixed(0)} → ${r.soak.rssLastThird.toFixed(0)} MB, max ${r.soak.rssMax.toFixed(0)} MB`),
    row('cold start (to /readyz, model and knowledge loaded) < 2 s', Math.max(...r.colds) < 2000, `max ${Math.max(...r.colds).toFixed(0)} ms`),
    '',
  );
  return out;
}
