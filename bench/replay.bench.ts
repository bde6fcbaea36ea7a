// npm run bench:replay — what replay protection costs per hook call: the in-memory cache (typed-array table) against a
// plain Map of the same tokens (the previous design, measured in the same run), and the shared store (the replica's
// cache in front of PostgreSQL's cds_jti table) as each replica runs it when DATABASE_URL is set — sequential checks
// for latency, 16 concurrent for throughput, CPU of this process per check. Writes bench/results-replay.md.
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { InMemoryReplayCache } from '../src/cds/replayCache.js';
import { SharedReplayStore } from '../src/cds/sharedReplayStore.js';
import { PgStore } from '../src/store/postgres.js';
import { createPgSchema } from '../test/store/helpers.js';

const ISS = 'https://ehr.hospital.example.org/interconnect-prd/oauth2';
const N_MEM = 1_000_000;
const N_PG = Number(process.env['BENCH_N'] ?? 3000);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

function inMemory(): string[] {
  const jtis = Array.from({ length: N_MEM }, () => randomUUID());
  const exp = Date.now() + 360_000;
  const rows: string[] = [];
  for (let round = 0; round < 2; round++) {
    const cache = new InMemoryReplayCache();
    let t0 = performance.now();
    for (const j of jtis) cache.checkAndStore(ISS, j, exp);
    const typedUs = ((performance.now() - t0) * 1000) / N_MEM;
    const typedMb = cache.bytes / 1048576;
    const map = new Map<string, number>();
    const mapHeap0 = process.memoryUsage().heapUsed;
    t0 = performance.now();
    for (const j of jtis) {
      const k = `${ISS}\u0000${j}`;
      if (!map.has(k)) map.set(k, exp);
    }
    const mapUs = ((performance.now() - t0) * 1000) / N_MEM;
    const mapMb = (process.memoryUsage().heapUsed - mapHeap0) / 1048576;
    if (round === 1) {
      rows.push(`| typed-array table (service) | ${typedUs.toFixed(2)} | ${typedMb.toFixed(0)} MB, off the JS heap |`);
      rows.push(`| \`Map\` of iss + jti strings (previous design, bound 200,000) | ${mapUs.toFixed(2)} | ~${mapMb.toFixed(0)} MB of JS heap, keys included, scanned by every major GC |`);
    }
    map.clear();
  }
  return rows;
}

async function shared(): Promise<string[]> {
  const schema = await createPgSchema();
  const db = new PgStore({ connectionString: schema.url });
  try {
    await db.init();
    const store = new SharedReplayStore({ local: new InMemoryReplayCache(), shared: db, onFallback: (r) => { throw new Error(`fallback: ${r}`); } });
    const exp = () => Date.now() + 360_000;
    for (let i = 0; i < 200; i++) await store.checkAndStore(ISS, randomUUID(), exp()); // warm-up
    const lat: number[] = [];
    let c0 = cpuMs();
    let t0 = performance.now();
    for (let i = 0; i < N_PG; i++) {
      const t = performance.now();
      if ((await store.checkAndStore(ISS, randomUUID(), exp())) !== 'new') throw new Error('not new');
      lat.push(performance.now() - t);
    }
    const seqWall = performance.now() - t0;
    const seqCpu = (cpuMs() - c0) / N_PG;
    // 16 concurrent checkers
    c0 = cpuMs();
    t0 = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next++ < N_PG) await store.checkAndStore(ISS, randomUUID(), exp());
      }),
    );
    const parWall = performance.now() - t0;
    const parCpu = (cpuMs() - c0) / N_PG;
    // a replay found by the other replica's table: the same cost (one statement)
    const rows = await schema.query<{ n: string }>(`SELECT count(*) AS n FROM $schema.cds_jti`);
    return [
      `| sequential | ${(seqWall / N_PG).toFixed(3)} | ${pct(lat, 50).toFixed(3)} | ${pct(lat, 99).toFixed(3)} | ${(N_PG / (seqWall / 1000)).toFixed(0)} | ${seqCpu.toFixed(3)} |`,
      `| 16 concurrent | ${(parWall / N_PG).toFixed(3)} | — | — | ${(N_PG / (parWall / 1000)).toFixed(0)} | ${parCpu.toFixed(3)} |`,
      '',
      `Rows in \`cds_jti\` after the run: ${rows[0]!.n}.`,
    ];
  } finally {
    await db.close();
    await schema.drop();
  }
}

async function main(): Promise<void> {
  const mem = inMemory();
  const pg = await shared();
  const out = [
    '# Replay protection benchmark',
    '',
    `Run: \`npm run bench:replay\` on ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, PostgreSQL on the same machine; load average ${os.loadavg()[0]!.toFixed(2)}.`,
    '',
    `In-memory, ${N_MEM.toLocaleString('en-US')} distinct tokens (UUID jti, a 55-character iss), one process (second of two rounds):`,
    '',
    '| cache | µs per check | memory for the tokens |',
    '|---|---|---|',
    ...mem,
    '',
    `Shared (SharedReplayStore: the replica's cache, then one \`INSERT … ON CONFLICT\` on \`cds_jti\`; what each hook call pays when \`DATABASE_URL\` is set), ${N_PG.toLocaleString('en-US')} new tokens:`,
    '',
    '| mode | wall ms per check | p50 ms | p99 ms | checks/s | CPU ms per check in this process |',
    '|---|---|---|---|---|---|',
    ...pg,
    '',
    'A hook call with the shared store waits for one such round trip before its pipeline starts (the database never holds a call up for more than 250 ms: past that, or on an error, the replica decides alone; docs/operations.md).',
    '',
  ].join('\n');
  console.log(out);
  writeFileSync('bench/results-replay.md', out);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
