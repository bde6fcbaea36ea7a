// An open-loop load generator: requests start at fixed times (one every 1000/rate ms), whether or not earlier ones
// have been answered, on a pool of keep-alive connections large enough that none waits for a free socket.
//
// Why not autocannon's `overallRate`: autocannon gives each connection a quota per second and lets it send its
// quota back to back at the start of each second (a burst of `rate` requests every second, not a steady rate), and
// it "corrects" the latency histogram for coordinated omission with an expected interval of ceil(1 / rate) = 1 ms,
// adding one synthetic sample per millisecond of each response. A server that answers every request in 2 ms shows a
// p99 of ~26 ms at overallRate 100 (docs/performance.md, "Baselines and latency at a fixed rate").
//
// Latency here is measured from each request's scheduled start (so a late generator counts against the figure, not
// for it) to the end of its response body; the generator's own lateness (actual send − scheduled) is reported too.
import { Pool } from 'undici';

export interface OpenLoopResult {
  offered: number;
  achieved: number;
  sent: number;
  completed: number;
  errors: number;
  non2xx: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** generator lateness, ms: p99 of (actual start − scheduled start) */
  lateP99: number;
}

const pct = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! : NaN);

/** `rate` requests/s for `seconds` to `origin + path`, each with the next token from `nextToken`. */
export async function openLoop(origin: string, path: string, body: string, rate: number, seconds: number, nextToken: () => string, connections = 64): Promise<OpenLoopResult> {
  const pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 60_000 });
  const n = Math.round(rate * seconds);
  const interval = 1000 / rate;
  const latencies: number[] = [];
  const late: number[] = [];
  let errors = 0;
  let non2xx = 0;
  let lastEnd = 0;
  const inflight: Promise<void>[] = [];
  const t0 = performance.now() + 20;
  const fire = (i: number) => {
    const scheduled = t0 + i * interval;
    late.push(performance.now() - scheduled);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${nextToken()}` };
    inflight.push(
      pool.request({ origin, path, method: 'POST', headers, body }).then(
        async (r) => {
          await r.body.text();
          const end = performance.now();
          lastEnd = Math.max(lastEnd, end);
          if (r.statusCode < 200 || r.statusCode > 299) non2xx++;
          latencies.push(end - scheduled);
        },
        () => {
          errors++;
        },
      ),
    );
  };
  let i = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < n && t0 + i * interval <= now) fire(i++);
      if (i >= n) return resolve();
      setTimeout(tick, Math.max(0, t0 + i * interval - performance.now()));
    };
    setTimeout(tick, Math.max(0, t0 - performance.now()));
  });
  await Promise.all(inflight);
  await pool.close();
  const s = latencies.sort((a, b) => a - b);
  const l = late.sort((a, b) => a - b);
  const r1 = (x: number) => Math.round(x * 10) / 10;
  return {
    offered: rate,
    achieved: latencies.length / ((lastEnd - t0) / 1000),
    sent: n,
    completed: latencies.length,
    errors,
    non2xx,
    p50: r1(pct(s, 0.5)),
    p90: r1(pct(s, 0.9)),
    p99: r1(pct(s, 0.99)),
    max: r1(s[s.length - 1] ?? NaN),
    lateP99: r1(pct(l, 0.99)),
  };
}
