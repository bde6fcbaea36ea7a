// CPU profile of the service under load: `tsx bench/profile.ts [warfarin|clopidogrel|amoxicillin|fhir|fhir-server] [seconds] [-- extra node args]`
// (`fhir`: warfarin without prefetch, the service querying the cached-answer FHIR stand-in bench/fhir-replay.ts;
// `fhir-server`: the same calls answered by the test FHIR server itself)
// (run `npm run build` first). Starts `node --cpu-prof dist/src/server.js` with the bench configuration, sends pre-signed
// RS384 tokens (PROFILE_ALG=ES384: ES384) at 16 connections, stops the service and prints the busy-time shares (self and inclusive) of the parts of
// a hook call. The .cpuprofile is kept under the printed directory (open it in Chrome DevTools for the flame chart).
import autocannon from 'autocannon';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { draftWarfarin, fullPrefetch, syntheticResources } from '../test/fixtures/synthetic-patients.js';
import { startFhirServer } from '../test/support/fhir-server/index.js';
import { freePort } from '../test/support/service.js';
import { amoxicillin, clientsJson, clopidogrel, cyp2c19, hookBody, token } from './requests.js';

const args = process.argv.slice(2);
const dash = args.indexOf('--');
const nodeArgs = dash >= 0 ? args.slice(dash + 1) : [];
const [which = 'warfarin', secs = '10'] = dash >= 0 ? args.slice(0, dash) : args;
const SECONDS = Number(secs);
const CONNECTIONS = Number(process.env['PROFILE_CONNECTIONS'] ?? 16);
const NO_PROF = process.env['PROFILE_OFF'] === '1';

const ALG = process.env['PROFILE_ALG'] === 'ES384' ? 'ES384' : 'RS384';
const tokens = (aud: string, n: number): string[] => Array.from({ length: n }, () => token(aud, ALG));
const draft = which === 'clopidogrel' ? clopidogrel : which === 'amoxicillin' ? amoxicillin : draftWarfarin('bench-w', 'pgx-1');
let body = hookBody('pgx-1', draft, which === 'clopidogrel' ? fullPrefetch('pgx-1', [cyp2c19]) : fullPrefetch('pgx-1'));

async function main(): Promise<void> {
  let stopFhir = async () => {};
  if (which === 'fhir-server') {
    const fhir = await startFhirServer({ token: 'bench-token', seed: syntheticResources() });
    body = hookBody('pgx-1', draft, undefined, fhir.url);
    stopFhir = () => fhir.stop();
  }
  if (which === 'fhir') {
    const fhir = await startFhirServer({ token: 'bench-token', seed: syntheticResources() });
    const replay = spawn(process.execPath, ['--import', 'tsx', 'bench/fhir-replay.ts', fhir.url, 'bench-token'], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve) => replay.stdout!.once('data', (d: Buffer) => resolve((JSON.parse(String(d)) as { port: number }).port)));
    body = hookBody('pgx-1', draft, undefined, `http://127.0.0.1:${port}`);
    stopFhir = async () => {
      replay.kill('SIGTERM');
      await fhir.stop();
    };
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pgx-prof-'));
  const clientsFile = path.join(dir, 'clients.json');
  writeFileSync(clientsFile, clientsJson());
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const pathname = '/cds-services/dosing-order-select';
  const pool = tokens(`${url}${pathname}`, Number(process.env['PROFILE_TOKENS'] ?? 40000));
  const child = spawn(process.execPath, [...(NO_PROF ? [] : ['--cpu-prof', `--cpu-prof-dir=${dir}`]), ...nodeArgs, 'dist/src/server.js'], {
    env: { ...process.env, NODE_OPTIONS: '', PORT: String(port), PUBLIC_BASE_URL: url, CDS_CLIENTS_FILE: clientsFile, DATA_DIR: dir, LOG_LEVEL: process.env['PROFILE_LOG_LEVEL'] ?? 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 2000; i++) {
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch { /* not yet */ }
    await new Promise((r) => setTimeout(r, 10));
  }
  let i = 0;
  const run = (duration: number) =>
    autocannon({
      url: `${url}${pathname}`, connections: CONNECTIONS, duration,
      requests: [{ method: 'POST', path: pathname, body, setupRequest: (req) => ({ ...req, headers: { 'content-type': 'application/json', authorization: `Bearer ${pool[i++]}` } }) }],
    });
  await run(2);
  const rssStatus = () => {
    const s = readFileSync(`/proc/${child.pid}/status`, 'utf8');
    return ['VmRSS', 'VmHWM'].map((k) => `${k} ${(Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)?.[1]) / 1024).toFixed(0)} MB`).join(', ');
  };
  // CPU seconds (user+system) of the main thread and of the whole process (incl. worker threads, libuv pool)
  const cpu = (file: string) => {
    const f = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  };
  const threads = () => {
    const m = new Map<string, number>();
    for (const t of readdirSync(`/proc/${child.pid}/task`)) {
      try {
        const comm = t === String(child.pid) ? 'main' : `tid${Number(t) - child.pid!}`;
        m.set(comm, (m.get(comm) ?? 0) + cpu(`/proc/${child.pid}/task/${t}/stat`));
      } catch { /* thread gone */ }
    }
    return m;
  };
  const th0 = threads();
  const cpu0 = [cpu(`/proc/${child.pid}/task/${child.pid}/stat`), cpu(`/proc/${child.pid}/stat`)];
  const r = await run(SECONDS);
  const cpu1 = [cpu(`/proc/${child.pid}/task/${child.pid}/stat`), cpu(`/proc/${child.pid}/stat`)];
  const n = r.requests.total;
  const th1 = threads();
  console.log(`CPU per request by thread: ${[...th1].map(([k, v]) => [k, (1000 * (v - (th0.get(k) ?? 0))) / n] as const).filter(([, v]) => v > 0.005).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v.toFixed(3)} ms`).join(', ')}`);
  console.log(`CPU per request: main thread ${((1000 * (cpu1[0]! - cpu0[0]!)) / n).toFixed(3)} ms, whole process ${((1000 * (cpu1[1]! - cpu0[1]!)) / n).toFixed(3)} ms (${n} requests)`);
  console.log(`${which} c=${CONNECTIONS}: ${r.requests.average.toFixed(0)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, errors ${r.errors + r.timeouts}, non2xx ${r.non2xx}; ${rssStatus()}; tokens used ${i}/${pool.length}`);
  const metrics = await (await fetch(`${url}/metrics`)).text().catch(() => '');
  const mb = (name: string) => metrics.split('\n').filter((l) => l.startsWith(name)).map((l) => `${l.split(' ')[0]!.replace('nodejs_', '')}=${(Number(l.split(' ').pop()) / 1048576).toFixed(0)}MB`).join(' ');
  console.log(`memory: ${mb('nodejs_heap_size_total_bytes')} ${mb('nodejs_heap_size_used_bytes')} ${mb('nodejs_external_memory_bytes')} ${mb('nodejs_heap_space_size_used_bytes')}`);
  console.log(`readyz after the run: ${await (await fetch(`${url}/readyz`)).text()}`);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  await stopFhir();
  if (NO_PROF) return;
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error('no profile written');
  analyse(path.join(dir, file));
}

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[]; hitCount?: number }
function analyse(file: string): void {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const hits = new Map<number, number>();
  for (const s of prof.samples) hits.set(s, (hits.get(s) ?? 0) + 1);
  const name = (n: Node) => `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.replace(/^.*\/(node_modules|dist)\//, '$1/').replace(/^node:/, '')}:${n.callFrame.lineNumber + 1}`;
  let total = 0;
  let idle = 0;
  const self = new Map<string, number>();
  const incl = new Map<string, number>();
  for (const [id, h] of hits) {
    const n = byId.get(id)!;
    total += h;
    if (n.callFrame.functionName === '(idle)') {
      idle += h;
      continue;
    }
    self.set(name(n), (self.get(name(n)) ?? 0) + h);
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = name(byId.get(cur)!);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + h);
    }
  }
  const busy = total - idle;
  // component of a sample: the innermost frame that belongs to the service (dist/src/<dir>) or to a package
  const component = (id: number): string => {
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const n = byId.get(cur)!;
      const u = n.callFrame.url;
      if (n.callFrame.functionName === '(garbage collector)') return 'GC';
      if (n.callFrame.functionName === '(program)') return '(program: native, unattributed)';
      const app = /dist\/src\/(.+?)\.js$/.exec(u);
      if (app) return `src/${app[1]}`;
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(u);
      if (pkg) return pkg[1]!;
      if (/^file:.*\/dist\/(webapi|node)\//.test(u)) return 'jose';
    }
    return 'node internals (http, net, streams, timers)';
  };
  const comps = new Map<string, number>();
  const compSelf = new Map<string, Map<string, number>>();
  for (const [id, h] of hits) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    const c = component(id);
    comps.set(c, (comps.get(c) ?? 0) + h);
    const m = compSelf.get(c) ?? new Map<string, number>();
    compSelf.set(c, m);
    m.set(name(byId.get(id)!), (m.get(name(byId.get(id)!)) ?? 0) + h);
  }
  const detail = (process.env['PROFILE_DETAIL'] ?? '').split(',').filter(Boolean);
  const pct = (x: number) => `${((100 * x) / busy).toFixed(1).padStart(5)}%`;
  console.log(`profile ${file}: ${total} samples, busy ${((100 * busy) / total).toFixed(0)}%`);
  console.log('\n-- by component (innermost service/package frame) --');
  for (const [k, v] of [...comps].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`${pct(v)}  ${k}`);
  for (const c of detail) {
    console.log(`\n-- ${c}: leaf functions --`);
    for (const [k, v] of [...(compSelf.get(c) ?? [])].sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`${pct(v)}  ${k}`);
  }
  console.log('\n-- top self (share of busy) --');
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${pct(v)}  ${k}`);
  console.log('\n-- top inclusive --');
  for (const [k, v] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, 70)) console.log(`${pct(v)}  ${k}`);
}

(which.endsWith('.cpuprofile') ? Promise.resolve(analyse(which)) : main()).then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
