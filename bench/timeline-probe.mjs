// Preloaded into the service by bench/timeline.ts (`node --import ./bench/timeline-probe.mjs dist/src/server.js`):
// measures where a call's wall time goes without touching the service's code, and writes the totals to
// $TIMELINE_OUT when the process exits.
//   - each HTTP request's server-side wall time (diagnostics_channel http.server.request.start → response.finish);
//   - node:crypto verify calls with a callback (the service's P-384/P-521 path): call → callback, i.e. the wait for
//     libuv's thread pool plus the verify itself;
//   - onnxruntime session.run: call → settled (native inference and the hop back to the event loop);
//   - GC pauses on the main thread (PerformanceObserver 'gc');
//   - event-loop delay (monitorEventLoopDelay, 1 ms resolution).
import crypto from 'node:crypto';
import dc from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';

const out = process.env.TIMELINE_OUT;
const stats = { requests: [], verify: [], inference: [], gc: [], loop: null };
let on = false;
const since = () => on;
// the bench turns recording on and off with SIGUSR2 (on) / SIGUSR1 is the inspector's, so a second SIGUSR2 (off)
process.on('SIGUSR2', () => {
  on = !on;
  if (on) {
    for (const k of ['requests', 'verify', 'inference', 'gc']) stats[k].length = 0;
    loop.reset();
    loop.enable();
  } else {
    loop.disable();
    stats.loop = { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6, mean: loop.mean / 1e6 };
  }
});

const starts = new WeakMap();
dc.subscribe('http.server.request.start', ({ request }) => {
  if (since()) starts.set(request, performance.now());
});
dc.subscribe('http.server.response.finish', ({ request }) => {
  const t = starts.get(request);
  if (t !== undefined) stats.requests.push(performance.now() - t);
});

const verify = crypto.verify;
crypto.verify = function (alg, data, key, sig, cb) {
  if (typeof cb !== 'function' || !since()) return verify.call(this, alg, data, key, sig, cb);
  const t = performance.now();
  return verify.call(this, alg, data, key, sig, (err, ok) => {
    stats.verify.push(performance.now() - t);
    cb(err, ok);
  });
};
syncBuiltinESMExports(); // so `import { verify } from 'node:crypto'` in the service sees the wrapper

try {
  const require = createRequire(import.meta.url);
  const ort = require(require.resolve('onnxruntime-common', { paths: [require.resolve('onnxruntime-node')] }));
  const run = ort.InferenceSession.prototype.run;
  ort.InferenceSession.prototype.run = async function (...args) {
    if (!since()) return run.apply(this, args);
    const t = performance.now();
    try {
      return await run.apply(this, args);
    } finally {
      stats.inference.push(performance.now() - t);
    }
  };
} catch (e) {
  process.stderr.write(`timeline probe: onnxruntime not patched (${e.message})\n`);
}

new PerformanceObserver((list) => {
  if (since()) for (const e of list.getEntries()) stats.gc.push(e.duration);
}).observe({ entryTypes: ['gc'] });
const loop = monitorEventLoopDelay({ resolution: 1 });

process.on('exit', () => {
  if (out) writeFileSync(out, JSON.stringify(stats));
});
