// Feedback sent at once after its card, 12 pairs at a time, on SQLite with the audit writer thread (issue 21, scope 6),
// alone and with a second process writing the same file. Every feedback is stored (200) and linked to its card:
// it waits for the card's pending audit record, and SQLite write transactions take the write lock first (BEGIN
// IMMEDIATE) instead of failing with SQLITE_BUSY_SNAPSHOT when another connection committed in between.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startFhirServer, type RunningFhirServer } from '../support/fhir-server/index.js';
import { startTwoTenantService, type TwoTenantService } from '../support/two-tenants.js';
import { orderSelectBody } from './helpers.js';

let fhir: RunningFhirServer;
let svc: TwoTenantService;
beforeAll(async () => {
  fhir = await startFhirServer({ token: 'unused', seed: [] });
  svc = await startTwoTenantService('sqlite', fhir.url);
}, 30000);
afterAll(async () => {
  await svc?.stop();
  await fhir?.stop();
});

async function rounds(n: number): Promise<{ status: number; json: any }[]> {
  const out: { status: number; json: any }[] = [];
  for (let round = 0; round < n; round++) {
    const pairs = await Promise.all(
      Array.from({ length: 12 }, async () => {
        const hook = await svc.post(svc.a, '/cds-services/dosing-order-select', { ...orderSelectBody('pgx-1'), fhirServer: svc.a.fhirServer });
        expect(hook.status).toBe(200);
        const card = hook.json.cards[0].uuid as string;
        return svc.post(svc.a, '/cds-services/dosing-order-select/feedback', { feedback: [{ card, outcome: 'overridden', outcomeTimestamp: new Date().toISOString() }] });
      }),
    );
    out.push(...pairs);
  }
  return out;
}

test('12 hook + feedback pairs at a time, 10 rounds: every feedback stored and its card known', async () => {
  const fb = await rounds(10);
  expect(fb.map((r) => r.status)).toEqual(fb.map(() => 200));
  expect(fb.map((r) => r.json)).toEqual(fb.map(() => ({ stored: 1, duplicates: 0, unknownCards: 0 })));
  expect((await svc.readyz()).json.store).toBe('ok');
}, 60000);

test('with a second process writing the same file: every feedback stored, and the other process fails no write', async () => {
  const script = fileURLToPath(new URL('../support/sqlite-writer-process.ts', import.meta.url));
  const file = path.join(svc.config.dataDir, 'pgx-dosing.sqlite');
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', script, file], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const it = lines[Symbol.asyncIterator]();
  expect((await it.next()).value).toBe('ready');
  const fb = await rounds(6);
  child.stdin!.end();
  const summary = JSON.parse((await it.next()).value as string) as { writes: number; failures: string[] };
  await once(child, 'exit');
  expect(fb.map((r) => r.status)).toEqual(fb.map(() => 200));
  expect(fb.map((r) => r.json.unknownCards)).toEqual(fb.map(() => 0));
  expect(summary.failures).toEqual([]);
  expect(summary.writes).toBeGreaterThan(0);
  expect((await svc.readyz()).json.store).toBe('ok');
}, 60000);
