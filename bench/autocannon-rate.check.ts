// Why bench/open-loop.ts exists: what autocannon's `overallRate` sends and what it reports, against a server that
// answers every request after a fixed 2 ms and does nothing else. `npx tsx bench/autocannon-rate.check.ts`
// Prints the arrivals per 100 ms and the latency figures of autocannon (overallRate 100, 16 connections) and of the
// open-loop generator (100/s), in the same run. autocannon gives each connection a quota per second that it sends back
// to back when the second starts (one burst per second), and records each response with HDR's coordinated-omission
// correction at an expected interval of ceil(1 / per-connection rate) = 1 ms: one synthetic sample per millisecond.
import autocannon from 'autocannon';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openLoop } from './open-loop.js';

const arrivals: number[] = [];
const server = createServer((req, res) => {
  arrivals.push(performance.now());
  req.resume();
  req.on('end', () => setTimeout(() => res.end('{}'), 2));
});
server.keepAliveTimeout = 65_000;
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const perTenth = () => {
  const t0 = arrivals[0]!;
  const b = new Array<number>(20).fill(0);
  for (const t of arrivals) {
    const k = Math.floor((t - t0) / 100);
    if (k < b.length) b[k]!++;
  }
  arrivals.length = 0;
  return b.join(' ');
};
const ac = await autocannon({ url: `${origin}/`, connections: 16, overallRate: 100, duration: 3 });
console.log(`autocannon overallRate 100, 16 connections: arrivals per 100 ms (first 2 s): ${perTenth()}`);
console.log(`  ${ac.requests.total} requests, ${(ac.latency as unknown as { totalCount: number }).totalCount} latency samples; p50 ${ac.latency.p50} ms, p99 ${ac.latency.p99} ms`);
const ol = await openLoop(origin, '/', '{}', 100, 3, () => 'x');
console.log(`open loop 100/s: arrivals per 100 ms (first 2 s): ${perTenth()}`);
console.log(`  ${ol.completed} requests; p50 ${ol.p50} ms, p99 ${ol.p99} ms (generator late p99 ${ol.lateP99} ms)`);
console.log(`load average ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
server.close();
