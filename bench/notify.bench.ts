// npm run bench:notify — notifications per second through POST /notifications, the durable queue (SQLite), the FHIR
// reads of the monitor and the DetectedIssue write-back (issue 18 scope 6, issue 20 scope 4), next to a baseline
// measured in the same run: the same FHIR requests (the exact reads the service made for each notification, and one
// conditional create of the same DetectedIssue) sent straight to the same FHIR test server, one notification after the
// other, as the worker does. The ratio baseline/service is the service's own cost next to the irreducible FHIR work.
//   BENCH_NOTIFY_N (default 200) notifications, each about one patient's new creatinine under metformin (eGFR 24.9:
//   contraindicated → one DetectedIssue). Real processes: the FHIR test server; in this process: the service (real
//   express app, real SQLite queue, backend token flow against a verifying token server).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import os from 'node:os';
import path from 'node:path';
import { SqliteStore } from '../src/store/sqlite.js';
import { creatinine, metforminPatient, notificationBundle } from '../test/fixtures/notifications.js';
import { startBackendTokenServer } from '../test/support/backend-token-server.js';
import { startFhirServer, type RunningFhirServer } from '../test/support/fhir-server/index.js';
import { makeTestClient } from '../test/support/jwt.js';
import { BACKEND_CLIENT_ID, startNotifyService, writeBackendKey } from '../test/support/notify-service.js';

const N = Number(process.env['BENCH_NOTIFY_N'] ?? 200);
// one sender, in event order, as a subscription delivers: concurrent out-of-order POSTs look like missed events to the
// service (a gap in event numbers) and trigger catch-up queries, which is correct but measures something else
const SENDERS = 1;
const EHR_TOKEN = 'bench-ehr-token';
const EHR_BASE = 'https://ehr.bench.test/fhir';
const id = (set: string, i: number) => `${set}-${String(i).padStart(5, '0')}`;

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const ms = (x: number) => `${x.toFixed(x < 10 ? 1 : 0)} ms`;

async function pool<T>(items: T[], n: number, f: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      await f(items[i]!, i);
    }
  }));
}

async function fhirJson(fhir: RunningFhirServer, url: string): Promise<any> {
  const res = await fetch(url.startsWith('http') ? url : `${fhir.url}${url}`, { headers: { authorization: `Bearer ${EHR_TOKEN}`, accept: 'application/fhir+json' } });
  if (!res.ok) throw new Error(`GET ${url}: ${res.status}`);
  return res.json();
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-notify-'));
  const tokens = await startBackendTokenServer();
  const warm = Array.from({ length: 5 }, (_, i) => id('warm', i));
  const svcIds = Array.from({ length: N }, (_, i) => id('svc', i));
  const baseIds = Array.from({ length: N }, (_, i) => id('base', i));
  const fhir = await startFhirServer({ token: EHR_TOKEN, jwksUrl: tokens.jwksUrl, seed: [...warm, ...svcIds, ...baseIds].flatMap(metforminPatient) });
  const ehr = await makeTestClient({ alg: 'ES384', iss: 'https://ehr.bench.test' });
  const keyFile = await writeBackendKey(dir);
  const svc = await startNotifyService({ store: new SqliteStore(path.join(dir, 'svc.sqlite')), ehr, fhirUrl: fhir.url, tokenUrl: tokens.tokenUrl, keyFile, overrides: { 'notify.pollMs': 20 } });
  tokens.registerClient(BACKEND_CLIENT_ID, `${svc.url}/.well-known/jwks.json`);
  let eventNo = 0;
  const sub = `${EHR_BASE}/Subscription/labs`;
  const send = async (p: string) => {
    const obs = creatinine(`${p}-cr2`, p, 2.1, 0);
    const t = performance.now();
    const r = await svc.notify(notificationBundle({ ehrBase: EHR_BASE, sub, events: [{ n: ++eventNo, focus: obs, payload: 'id-only' }] }));
    if (r.status !== 200) throw new Error(`notification answered ${r.status}`);
    return performance.now() - t;
  };
  try {
    // warm-up (token flow, JIT, first SQLite pages)
    await fhir.seed(warm.map((p) => creatinine(`${p}-cr2`, p, 2.1, 0)));
    for (const p of warm) await send(p);
    await svc.idle(60000);

    // ---- the service ----
    await fhir.seed(svcIds.map((p) => creatinine(`${p}-cr2`, p, 2.1, 0)));
    await fhir.admin.clearRequests();
    const postMs: number[] = [];
    const sentAt = new Map<string, number>();
    const t0 = Date.now();
    await pool(svcIds, SENDERS, async (p) => {
      sentAt.set(p, Date.now());
      postMs.push(await send(p));
    });
    const tPosted = Date.now();
    await svc.idle(600000);
    const tDone = Date.now();
    const log = await fhir.admin.requests();

    // exactly one DetectedIssue per patient, and when it was written (server clock = this machine's)
    const toWrite: number[] = [];
    const issues = new Map<string, any>();
    for (const p of svcIds) {
      const b = await fhirJson(fhir, `/DetectedIssue?patient=Patient/${p}`);
      const list = (b.entry ?? []).map((e: any) => e.resource);
      if (list.length !== 1) throw new Error(`${p}: ${list.length} DetectedIssues`);
      issues.set(p, list[0]);
      toWrite.push(Date.parse(list[0].meta.lastUpdated) - sentAt.get(p)!);
    }

    // ---- the baseline: the same FHIR requests straight to the server, per notification in turn ----
    const perPatient = new Map<string, { method: string; url: string }[]>();
    for (const e of log) {
      const p = svcIds.find((x) => e.url.includes(x)); // ids are fixed width: no prefix collisions
      if (p && e.method === 'GET') (perPatient.get(p) ?? perPatient.set(p, []).get(p)!).push({ method: e.method, url: e.url });
    }
    const readsPerNotification = [...perPatient.values()].reduce((a, l) => a + l.length, 0) / N;
    const writesPerNotification = log.filter((e) => e.method === 'POST' && e.path.startsWith('/DetectedIssue')).length / N;
    await fhir.seed(baseIds.map((p) => creatinine(`${p}-cr2`, p, 2.1, 0)));
    const b0 = Date.now();
    for (let i = 0; i < N; i++) {
      const from = svcIds[i]!;
      const to = baseIds[i]!;
      for (const r of perPatient.get(from) ?? []) await fhirJson(fhir, r.url.split(from).join(to));
      const body = JSON.stringify(issues.get(from)).split(from).join(to);
      const issue = JSON.parse(body);
      delete issue.id;
      delete issue.meta;
      const ident = issue.identifier?.[0];
      const res = await fetch(`${fhir.url}/DetectedIssue`, {
        method: 'POST',
        headers: { authorization: `Bearer ${EHR_TOKEN}`, 'content-type': 'application/fhir+json', 'if-none-exist': `identifier=${encodeURIComponent(`${ident.system}|${ident.value}x`)}` },
        body: JSON.stringify(issue),
      });
      if (res.status !== 201 && res.status !== 200) throw new Error(`baseline write: ${res.status}`);
      await res.arrayBuffer();
    }
    const bDone = Date.now();

    const svcRate = N / ((tDone - t0) / 1000);
    const baseRate = N / ((bDone - b0) / 1000);
    console.log(`\n## Notifications (${N} id-only notifications, ${SENDERS} concurrent senders; ${os.cpus().length} cores, node ${process.version})\n`);
    console.log('| measure | value |');
    console.log('|---|---|');
    console.log(`| FHIR requests per notification (service) | ${readsPerNotification.toFixed(1)} reads + ${writesPerNotification.toFixed(1)} conditional create |`);
    console.log(`| POST /notifications answered (p50 / p99) | ${ms(pct(postMs, 50))} / ${ms(pct(postMs, 99))} |`);
    console.log(`| all ${N} accepted after | ${ms(tPosted - t0)} |`);
    console.log(`| notification → DetectedIssue on the EHR (p50 / p95 / max) | ${ms(pct(toWrite, 50))} / ${ms(pct(toWrite, 95))} / ${ms(Math.max(...toWrite))} |`);
    console.log(`| service: notifications/s, end to end (queue, reads, evaluation, write-back) | ${svcRate.toFixed(1)} |`);
    console.log(`| baseline: the same FHIR requests sent directly, per notification/s | ${baseRate.toFixed(1)} |`);
    console.log(`| ratio service / baseline | ${(svcRate / baseRate).toFixed(2)} |`);
    console.log(`| DetectedIssues written | ${issues.size} of ${N} (exactly one each) |`);
  } finally {
    await svc.stop(true);
    await Promise.all([fhir.stop(), tokens.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
