// npm run bench:store — hook latency through the real app (full prefetch, no FHIR calls, auth off) with each store:
// a no-op store (baseline, same run), the service's AuditedStore over SQLite and over PostgreSQL (queued, written after
// the response), and a direct SQLite store written before the response (the previous design). Sequential calls give
// latency percentiles; 16 concurrent clients give throughput. The stores run side by side, calls interleaved. Writes bench/results-store.md.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { PgStore } from '../src/store/postgres.js';
import { AuditedStore } from '../src/store/resilient.js';
import { SqliteStore } from '../src/store/sqlite.js';
import type { HookRecord, Store } from '../src/store/store.js';
import { orderSelectBody, startHarness, tempDir } from '../test/store/helpers.js';

const N = Number(process.env['BENCH_N'] ?? 600);
const WARM = 100;
const CONCURRENCY = 16;
const PG_URL = process.env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

const noop: Store = {
  kind: 'sqlite',
  patientKey: (id) => id,
  recordHook: async () => undefined,
  recordFeedback: async () => ({ stored: 0, duplicates: 0, unknownCards: 0 }),
  getRecommendation: async () => undefined,
  recommendationsForPatient: async () => [],
  cardAudit: async () => undefined,
  reportRows: async () => [],
  unknownCardFeedback: async () => 0,
  overriddenFingerprints: async () => new Set<string>(),
  purge: async (b) => ({ before: b.toISOString(), hookCalls: 0, recommendations: 0, cards: 0, feedback: 0 }),
  health: async () => ({ ok: true }),
  close: async () => undefined,
};

interface Variant {
  name: string;
  open(dir: string): Promise<{ store: Store; settle(): Promise<void>; close(): Promise<void> }>;
}

async function pgSchema(): Promise<{ url: string; drop(): Promise<void> } | undefined> {
  const c = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 1000 });
  try {
    await c.connect();
  } catch {
    return undefined;
  }
  const schema = `bench_${process.pid}`;
  await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE; CREATE SCHEMA ${schema}`);
  return {
    url: `${PG_URL}?options=${encodeURIComponent(`-csearch_path=${schema}`)}`,
    drop: async () => {
      await c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await c.end();
    },
  };
}

function stats(ms: number[]): { mean: number; p50: number; p95: number; p99: number } {
  const s = ms.slice().sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { mean: s.reduce((a, b) => a + b, 0) / s.length, p50: q(0.5), p95: q(0.95), p99: q(0.99) };
}

interface Opened {
  v: Variant;
  h: Awaited<ReturnType<typeof startHarness>>;
  o: { store: Store; settle(): Promise<void>; close(): Promise<void> };
  dir: { dir: string; remove(): void };
  lat: number[];
  rps: number[];
  settleMs: number[];
}

/** All stores run side by side and calls are interleaved, so load from other processes on the machine hits each alike. */
async function measureAll(variants: Variant[]): Promise<{ name: string; seq: ReturnType<typeof stats>; rps: number; settleMs: number }[]> {
  const all: Opened[] = [];
  for (const v of variants) {
    const dir = tempDir('pgx-bench-');
    const o = await v.open(dir.dir).catch(() => undefined);
    if (!o) {
      dir.remove();
      continue;
    }
    all.push({ v, h: await startHarness(o.store, { 'auth.mode': 'disabled' }), o, dir, lat: [], rps: [], settleMs: [] });
  }
  try {
    const body = (i: number) => orderSelectBody(i % 2 ? 'pgx-1' : 'clin-1');
    for (let i = 0; i < WARM; i++) for (const x of all) await x.h.hook(body(i));
    for (const x of all) await x.o.settle();
    for (let i = 0; i < N; i++) {
      for (let k = 0; k < all.length; k++) {
        const x = all[(i + k) % all.length]!; // rotate who goes first
        const r = await x.h.hook(body(i));
        if (r.status !== 200) throw new Error(`${x.v.name}: HTTP ${r.status}`);
        x.lat.push(r.ms);
      }
    }
    for (const x of all) await x.o.settle();
    for (let rep = 0; rep < 3; rep++) {
      for (const x of rep % 2 ? [...all].reverse() : all) {
        const bodies = Array.from({ length: N / 2 }, (_, i) => body(i));
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < bodies.length) await x.h.hook(bodies[next++]);
          }),
        );
        x.rps.push((bodies.length / (performance.now() - t0)) * 1000);
        const s0 = performance.now();
        await x.o.settle();
        x.settleMs.push(performance.now() - s0);
      }
    }
    const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    return all.map((x) => ({ name: x.v.name, seq: stats(x.lat), rps: median(x.rps), settleMs: median(x.settleMs) }));
  } finally {
    for (const x of all) {
      await x.h.close();
      await x.o.close();
      x.dir.remove();
    }
  }
}

let captured: HookRecord | undefined;
/** The audit record of a real warfarin order-select (IWPC pharmacogenetic card), captured through the app. */
async function realRecord(): Promise<HookRecord> {
  if (captured) return captured;
  const h = await startHarness({ ...noop, recordHook: async (r) => void (captured ??= r) }, { 'auth.mode': 'disabled' });
  await h.hook(orderSelectBody('pgx-1'));
  await h.close();
  const got = captured as HookRecord | undefined;
  if (!got?.cards.length) throw new Error('no card captured');
  return got;
}

/** Cost of one audit write in this process: wall time per record, and CPU time this process spends on it. */
async function writeCost(name: string, store: Store, n: number): Promise<{ name: string; wallMs: number; cpuMs: number; bytes: number }> {
  const tpl = await realRecord();
  const make = (k: number) =>
    Array.from({ length: k }, (): HookRecord => {
      const recs = tpl.recommendations.map((r) => ({ ...r, id: randomUUID() }));
      return { ...tpl, id: randomUUID(), hookInstance: randomUUID(), recommendations: recs, cards: tpl.cards.map((c, i) => ({ ...c, uuid: randomUUID(), recommendationId: recs[i]!.id })) };
    });
  for (const r of make(50)) await store.recordHook(r);
  const records = make(n);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (const r of records) await store.recordHook(r);
  const wall = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { name, wallMs: wall / n, cpuMs: (c.user + c.system) / 1000 / n, bytes: JSON.stringify(records[0]).length };
}

async function main(): Promise<void> {
  const pgs = await pgSchema();
  const variants: Variant[] = [
    { name: 'no-op store (baseline)', open: async () => ({ store: noop, settle: async () => undefined, close: async () => undefined }) },
    {
      name: 'AuditedStore → SQLite (service default)',
      open: async (dir) => {
        const s = new AuditedStore({ backend: new SqliteStore(path.join(dir, 'b.sqlite')), spoolDir: dir });
        await s.init();
        return { store: s, settle: () => s.settle(), close: () => s.close() };
      },
    },
    ...(pgs
      ? [
          {
            name: 'AuditedStore → PostgreSQL',
            open: async (dir: string) => {
              const s = new AuditedStore({ backend: new PgStore({ connectionString: pgs.url }), spoolDir: dir });
              await s.init();
              return { store: s, settle: () => s.settle(), close: () => s.close() };
            },
          },
        ]
      : []),
    {
      name: 'SQLite written before the response (old path)',
      open: async (dir) => {
        const s = new SqliteStore(path.join(dir, 'direct.sqlite'));
        return { store: s, settle: async () => undefined, close: () => s.close() };
      },
    },
  ];
  let results: Awaited<ReturnType<typeof measureAll>>;
  const costs: Awaited<ReturnType<typeof writeCost>>[] = [];
  try {
    results = await measureAll(variants);
    const dir = tempDir('pgx-bench-');
    const sq = new SqliteStore(path.join(dir.dir, 'cost.sqlite'));
    costs.push(await writeCost('SQLite (synchronous driver: blocks the event loop for this long)', sq, N));
    await sq.close();
    if (pgs) {
      const p = new PgStore({ connectionString: pgs.url });
      await p.init();
      costs.push(await writeCost('PostgreSQL (one statement; the wait is I/O, the event loop is free)', p, N));
      await p.close();
    }
    dir.remove();
  } finally {
    await pgs?.drop();
  }
  const base = results[0]!;
  const f = (x: number) => x.toFixed(2);
  const rows = results.map(
    (r) => `| ${r.name} | ${f(r.seq.mean)} | ${f(r.seq.p50)} | ${f(r.seq.p95)} | ${f(r.seq.p99)} | ${r === base ? '—' : `${r.seq.p50 - base.seq.p50 >= 0 ? '+' : ''}${f(r.seq.p50 - base.seq.p50)}`} | ${r.rps.toFixed(0)} | ${r.settleMs.toFixed(0)} |`,
  );
  const table = [
    '| store | mean ms | p50 ms | p95 ms | p99 ms | Δp50 vs no-op | req/s (16 concurrent) | backlog drained after burst, ms |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const header = `Run: \`npm run bench:store\` — ${N} sequential order-select calls (after ${WARM} warm-up) then 3 bursts of ${N / 2} calls from ${CONCURRENCY} concurrent clients per store (median), all stores side by side with calls interleaved, full prefetch (no FHIR calls), auth off, one process. Node ${process.version}, ${cpu} (${os.cpus().length} cores), ${new Date().toISOString().slice(0, 10)}.`;
  const costTable = [
    '| one audit record written to | wall ms / record | CPU ms / record in this process |',
    '|---|---|---|',
    ...costs.map((c) => `| ${c.name} | ${c.wallMs.toFixed(3)} | ${c.cpuMs.toFixed(3)} |`),
  ].join('\n');
  const costHeader = `Write cost, ${N} records written one after another (the record of a real warfarin order-select with its card; ${costs[0]?.bytes ?? 0} bytes of JSON per record):`;
  console.log(header);
  console.log();
  console.log(table);
  console.log();
  console.log(costHeader);
  console.log();
  console.log(costTable);
  if (process.argv.includes('--write')) {
    const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results-store.md');
    writeFileSync(out, `# Audit store benchmark\n\n${header}\n\n${table}\n\n${costHeader}\n\n${costTable}\n`);
    console.log(`\nwritten to ${out}`);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
