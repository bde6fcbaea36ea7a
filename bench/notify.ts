// The notification path (real-time monitoring; issue 18 scope 6, issue 20 scope 4): notifications per second through
// POST /notifications, the durable queue (SQLite), the monitor's FHIR reads and the DetectedIssue write-back, against
// two FHIR peers in the same run — the local test FHIR server, and the cached-answer stand-in (bench/fhir-replay.ts,
// which also takes the conditional create) in front of it. For each peer, a baseline measured in the same run: the same
// FHIR requests (the exact reads the service made for each notification, and one conditional create of the same
// DetectedIssue) sent straight to that peer, one notification after the other, as the worker does; the ratio
// service / baseline is the service's own cost next to the irreducible FHIR work.
// Each notification is about one patient's new creatinine under metformin (eGFR 24.9: contraindicated → exactly one
// DetectedIssue, checked: on the test server by searching it, on the stand-in through its own record of writes). The
// service runs in this process (real express app, real SQLite queue, backend token flow against a verifying token
// server); the FHIR test server and the stand-in are child processes. Used by `npm run bench:notify` and `npm run bench`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../src/store/sqlite.js';
import { creatinine, metforminPatient, notificationBundle } from '../test/fixtures/notifications.js';
import { startBackendTokenServer, type BackendTokenServer } from '../test/support/backend-token-server.js';
import { startFhirServer, type RunningFhirServer } from '../test/support/fhir-server/index.js';
import { makeTestClient, type TestClient } from '../test/support/jwt.js';
import { BACKEND_CLIENT_ID, startNotifyService, writeBackendKey } from '../test/support/notify-service.js';
import { startFhirReplay, type Proc } from './procs.js';

// one sender, in event order, as a subscription delivers: concurrent out-of-order POSTs look like missed events to the
// service (a gap in event numbers) and trigger catch-up queries, which is correct but measures something else
const EHR_TOKEN = 'bench-ehr-token';
const EHR_BASE = 'https://ehr.bench.test/fhir';
const SUB = `${EHR_BASE}/Subscription/labs`;
const WARM = 5;
const id = (set: string, i: number) => `${set}-${String(i).padStart(5, '0')}`;
const ids = (set: string, n: number) => Array.from({ length: n }, (_, i) => id(set, i));
const newCreatinines = (ps: string[]) => ps.map((p) => creatinine(`${p}-cr2`, p, 2.1, 0));

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 1 : 0)} ms` : '—');
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export interface PeerResult {
  peer: string;
  n: number;
  readsPerNotification: number;
  writesPerNotification: number;
  postMs: number[];
  acceptedMs: number;
  toWriteMs: number[];
  rate: number;
  baseRate: number;
  /** CPU of this process (the service, the sender's POSTs, the token server) per notification, ms */
  cpuMs: number;
  /** the same process idle (service warmed up, queue empty), CPU ms per second */
  idleCpuMsPerS: number;
  /** patients with exactly one DetectedIssue, of n */
  exactlyOne: number;
  note: string;
}

interface Ctx { dir: string; fhir: RunningFhirServer; tokens: BackendTokenServer; ehr: TestClient; keyFile: string }
interface Run { postMs: number[]; sentAt: Map<string, number>; t0: number; tPosted: number; tDone: number; cpuMs: number; idleCpuMsPerS: number }

/** A fresh service (own SQLite store) whose FHIR server is `fhirUrl`: warm-up on `warm`, then `patients` measured. */
async function runService(c: Ctx, fhirUrl: string, warm: string[], patients: string[], name: string, beforeMeasure: () => Promise<void>): Promise<Run> {
  const svc = await startNotifyService({ store: new SqliteStore(path.join(c.dir, `${name}.sqlite`)), ehr: c.ehr, fhirUrl, tokenUrl: c.tokens.tokenUrl, keyFile: c.keyFile, overrides: { 'notify.pollMs': 20 } });
  c.tokens.registerClient(BACKEND_CLIENT_ID, `${svc.url}/.well-known/jwks.json`);
  let eventNo = 0;
  const send = async (p: string) => {
    const t = performance.now();
    const r = await svc.notify(notificationBundle({ ehrBase: EHR_BASE, sub: SUB, events: [{ n: ++eventNo, focus: creatinine(`${p}-cr2`, p, 2.1, 0), payload: 'id-only' }] }));
    if (r.status !== 200) throw new Error(`notification answered ${r.status}`);
    return performance.now() - t;
  };
  try {
    for (const p of warm) await send(p); // token flow, JIT, first SQLite pages, the HTTP client's connections
    await svc.idle(60000);
    // what this process burns with nothing to do (the worker's queue polling, timers): 1 s, before the measured run
    const i0 = cpuMs();
    await new Promise((r) => setTimeout(r, 1000));
    const idleCpuMsPerS = cpuMs() - i0;
    await beforeMeasure();
    const postMs: number[] = [];
    const sentAt = new Map<string, number>();
    const c0 = cpuMs();
    const t0 = Date.now();
    for (const p of patients) {
      sentAt.set(p, Date.now());
      postMs.push(await send(p));
    }
    const tPosted = Date.now();
    await svc.idle(600000);
    const tDone = Date.now();
    return { postMs, sentAt, t0, tPosted, tDone, cpuMs: (cpuMs() - c0) / patients.length, idleCpuMsPerS };
  } finally {
    await svc.stop(true);
  }
}

async function getJson(url: string): Promise<any> {
  const res = await fetch(url, { headers: { authorization: `Bearer ${EHR_TOKEN}`, accept: 'application/fhir+json' } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

/** The service's FHIR work for one notification, as logged by the test server: its reads, and what it wrote. */
interface Work { reads: string[]; issue: any }

/** The same FHIR requests sent directly to `base`, for each `to` patient in turn (from the `from` patient's work). */
async function baseline(base: string, work: Map<string, Work>, from: string[], to: string[]): Promise<number> {
  const b0 = Date.now();
  for (let i = 0; i < from.length; i++) {
    const w = work.get(from[i]!)!;
    for (const r of w.reads) await getJson(`${base}${r.split(from[i]!).join(to[i]!)}`);
    const issue = JSON.parse(JSON.stringify(w.issue).split(from[i]!).join(to[i]!));
    delete issue.id;
    delete issue.meta;
    const ident = issue.identifier[0];
    ident.value = `${ident.value}x`; // a fingerprint not written before: a create (201), as the service's were
    const res = await fetch(`${base}/DetectedIssue`, {
      method: 'POST',
      headers: { authorization: `Bearer ${EHR_TOKEN}`, 'content-type': 'application/fhir+json', 'if-none-exist': `identifier=${encodeURIComponent(`${ident.system}|${ident.value}`)}` },
      body: JSON.stringify(issue),
    });
    if (res.status !== 201) throw new Error(`baseline write: ${res.status}`);
    await res.arrayBuffer();
  }
  return from.length / ((Date.now() - b0) / 1000);
}

/** Peer 1: the test FHIR server. Returns the service's work per patient, for the baselines and the stand-in's priming. */
async function againstTestServer(c: Ctx, n: number): Promise<{ result: PeerResult; work: Map<string, Work>; shared: string[] }> {
  const patients = ids('svc', n);
  await c.fhir.seed(newCreatinines([...ids('warm1', WARM), ...patients]));
  const run = await runService(c, c.fhir.url, ids('warm1', WARM), patients, 'svc-fhir', () => c.fhir.admin.clearRequests());
  const log = await c.fhir.admin.requests();
  // exactly one DetectedIssue per patient, and when it was written (server clock = this machine's)
  const work = new Map<string, Work>();
  const toWriteMs: number[] = [];
  for (const p of patients) {
    const list = ((await getJson(`${c.fhir.url}/DetectedIssue?patient=Patient/${p}`)).entry ?? []).map((e: any) => e.resource);
    if (list.length !== 1) throw new Error(`${p}: ${list.length} DetectedIssues on the test server`);
    work.set(p, { reads: [], issue: list[0] });
    toWriteMs.push(Date.parse(list[0].meta.lastUpdated) - run.sentAt.get(p)!);
  }
  const shared = new Set<string>();
  let gets = 0;
  for (const e of log.filter((x) => x.method === 'GET')) {
    gets++;
    const p = patients.find((x) => e.url.includes(x)); // ids are fixed width: no prefix collisions
    if (p) work.get(p)!.reads.push(e.url);
    else shared.add(e.url);
  }
  const writes = log.filter((e) => e.method === 'POST' && e.path.startsWith('/DetectedIssue')).length;
  const base = ids('base', n);
  await c.fhir.seed(newCreatinines(base));
  const baseRate = await baseline(c.fhir.url, work, patients, base);
  return {
    work,
    shared: [...shared],
    result: {
      peer: 'test FHIR server', n, readsPerNotification: gets / n, writesPerNotification: writes / n, postMs: run.postMs, acceptedMs: run.tPosted - run.t0,
      toWriteMs, rate: n / ((run.tDone - run.t0) / 1000), baseRate, cpuMs: run.cpuMs, idleCpuMsPerS: run.idleCpuMsPerS, exactlyOne: work.size,
      note: `reads not about one patient: ${shared.size} distinct`,
    },
  };
}

interface Stats { hits: number; misses: number; authChecks: number; writes: number; created: number }
interface WriteRec { type: string; patient?: string; at: number; status: 201 | 200; id: string }
const statsOf = async (r: Proc): Promise<Stats> => (await fetch(`${r.url}/__stats`)).json() as Promise<Stats>;

/**
 * Peer 2: the stand-in. Its cache is primed with the reads the service made against the test server (patient ids
 * replaced), so the measured run is served from memory: the stand-in's "fetched once" happens before the clock starts.
 */
async function againstStandIn(c: Ctx, replay: Proc, n: number, work: Map<string, Work>, shared: string[], from: string[]): Promise<PeerResult> {
  const warm = ids('warm2', WARM);
  const patients = ids('rsvc', n);
  await c.fhir.seed(newCreatinines([...warm, ...patients]));
  for (const u of shared) await getJson(`${replay.url}${u}`);
  for (let i = 0; i < n; i++) for (const r of work.get(from[i]!)!.reads) await getJson(`${replay.url}${r.split(from[i]!).join(patients[i]!)}`);
  let s0: Stats = await statsOf(replay);
  const run = await runService(c, replay.url, warm, patients, 'svc-replay', async () => {
    s0 = await statsOf(replay);
  });
  const s1 = await statsOf(replay);
  const all = (await (await fetch(`${replay.url}/__writes`)).json()) as WriteRec[];
  const toWriteMs: number[] = [];
  let exactlyOne = 0;
  let again = 0;
  for (const p of patients) {
    const mine = all.filter((w) => w.type === 'DetectedIssue' && w.patient === `Patient/${p}`);
    const created = mine.filter((w) => w.status === 201);
    if (created.length !== 1 || new Set(mine.map((w) => w.id)).size !== 1) throw new Error(`${p}: ${created.length} DetectedIssues created on the stand-in (${mine.length} writes)`);
    exactlyOne++;
    again += mine.length - 1;
    toWriteMs.push(created[0]!.at - run.sentAt.get(p)!);
  }
  // the baseline: the same reads (served from memory, as the service's were) and a create of a fingerprint not seen yet
  const baseRate = await baseline(replay.url, work, from, patients);
  const s2 = await statsOf(replay);
  return {
    peer: 'cached-answer stand-in', n, readsPerNotification: (s1.hits + s1.misses - s0.hits - s0.misses) / n, writesPerNotification: (s1.writes - s0.writes) / n,
    postMs: run.postMs, acceptedMs: run.tPosted - run.t0, toWriteMs, rate: n / ((run.tDone - run.t0) / 1000), baseRate, cpuMs: run.cpuMs, idleCpuMsPerS: run.idleCpuMsPerS, exactlyOne,
    note: `reads not served from memory: ${s1.misses - s0.misses} in the service's run, ${s2.misses - s1.misses} in the baseline; ${again} repeated writes (200)`,
  };
}

/** Both peers, one after the other, in one run. */
export async function notifyBench(n: number, log: (s: string) => void = () => {}): Promise<PeerResult[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-notify-'));
  const tokens = await startBackendTokenServer();
  const sets = ['warm1', 'svc', 'base', 'warm2', 'rsvc'];
  const fhir = await startFhirServer({ token: EHR_TOKEN, jwksUrl: tokens.jwksUrl, seed: sets.flatMap((s) => ids(s, s.startsWith('warm') ? WARM : n)).flatMap(metforminPatient) });
  const replay = await startFhirReplay(fhir.url, EHR_TOKEN);
  try {
    const c: Ctx = { dir, fhir, tokens, ehr: await makeTestClient({ alg: 'ES384', iss: 'https://ehr.bench.test' }), keyFile: await writeBackendKey(dir) };
    const first = await againstTestServer(c, n);
    log(`notify, test FHIR server: ${first.result.rate.toFixed(1)} notifications/s, baseline ${first.result.baseRate.toFixed(1)}/s`);
    const second = await againstStandIn(c, replay, n, first.work, first.shared, ids('svc', n));
    log(`notify, cached-answer stand-in: ${second.rate.toFixed(1)} notifications/s, baseline ${second.baseRate.toFixed(1)}/s (${second.note})`);
    return [first.result, second];
  } finally {
    replay.child.kill('SIGTERM');
    await Promise.all([fhir.stop(), tokens.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The markdown section of bench/results.md (and of `npm run bench:notify`'s output). */
export function notifyLines(rs: PeerResult[]): string[] {
  const n = rs[0]?.n ?? 0;
  const cell = (f: (r: PeerResult) => string) => `| ${rs.map(f).join(' | ')} |`;
  return [
    '## Notification path (issue 20 scope 4)',
    '',
    `${n} id-only notifications per peer, sent one after the other as a subscription delivers (bench/notify.ts), each a new creatinine under metformin → one DetectedIssue written back (conditional create). The service runs in the bench process; peers, one after the other: the local test FHIR server, then the cached-answer stand-in (bench/fhir-replay.ts, primed before the clock starts with the same reads for other patients, taking the write-back itself). Baseline: the same FHIR requests sent directly to the same peer, one notification after the other.`,
    '',
    `| measure | ${rs.map((r) => r.peer).join(' | ')} |`,
    `|---|${rs.map(() => '---|').join('')}`,
    `| FHIR requests per notification (service) ${cell((r) => `${r.readsPerNotification.toFixed(1)} reads + ${r.writesPerNotification.toFixed(1)} conditional create`)}`,
    `| service: notifications/s, end to end (queue, reads, evaluation, write-back) ${cell((r) => r.rate.toFixed(1))}`,
    `| baseline: the same FHIR requests sent directly, notifications/s ${cell((r) => r.baseRate.toFixed(1))}`,
    `| ratio service / baseline ${cell((r) => (r.rate / r.baseRate).toFixed(2))}`,
    `| POST /notifications answered (p50 / p99) ${cell((r) => `${ms(pct(r.postMs, 50))} / ${ms(pct(r.postMs, 99))}`)}`,
    `| all ${n} accepted after ${cell((r) => ms(r.acceptedMs))}`,
    `| notification → DetectedIssue written, burst of ${n} (p50 / p95 / max; queueing: one worker, in order) ${cell((r) => `${ms(pct(r.toWriteMs, 50))} / ${ms(pct(r.toWriteMs, 95))} / ${ms(Math.max(...r.toWriteMs))}`)}`,
    `| CPU per notification, bench process (the service, the sender's POST, the token server; process.cpuUsage) — and the same process idle for 1 s before ${cell((r) => `${r.cpuMs.toFixed(1)} ms — idle ${r.idleCpuMsPerS.toFixed(0)} ms per s`)}`,
    `| patients with exactly one DetectedIssue ${cell((r) => `${r.exactlyOne} of ${r.n}`)}`,
    `| notes ${cell((r) => r.note)}`,
    '',
  ];
}
