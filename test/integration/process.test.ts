// The service as a process: starts on its defaults, answers /readyz, stops cleanly on SIGTERM; bad config fails loudly.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../support/service.js';

function run(env: Record<string, string>): { proc: ReturnType<typeof spawn>; out: () => string } {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let buf = '';
  proc.stdout!.on('data', (d) => (buf += String(d)));
  proc.stderr!.on('data', (d) => (buf += String(d)));
  return { proc, out: () => buf };
}

async function waitFor(fn: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

test('starts, reports ready, refuses unauthenticated discovery, and exits 0 on SIGTERM', async () => {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'pgx-proc-'));
  const { proc, out } = run({ PORT: String(port), DATA_DIR: dir, LOG_LEVEL: 'info' });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 15000);
    expect((await fetch(`http://127.0.0.1:${port}/cds-services`)).status).toBe(401);
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out()).toMatch(/"event":"listening"/);
    expect(out()).toMatch(/"event":"stopped"/);
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}, 30000);

test.each([
  ['PORT', 'abc', /PORT/],
  ['PUBLIC_BASE_URL', 'not a url', /PUBLIC_BASE_URL/],
  ['CDS_CLIENTS_FILE', '/nonexistent/clients.json', /clients/i],
  ['CDS_AUTH_MODE', 'off', /CDS_AUTH_MODE/],
])('invalid %s=%s stops the process with a message naming it', async (name, value, pattern) => {
  const { proc, out } = run({ PORT: '0', [name]: value });
  const killer = setTimeout(() => proc.kill('SIGKILL'), 15000);
  const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  clearTimeout(killer);
  expect(code).toBe(1);
  expect(out()).toMatch(/Configuration error/);
  expect(out()).toMatch(pattern);
}, 30000);

test('auth disabled by configuration is logged loudly', async () => {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'pgx-proc-'));
  const { proc, out } = run({ PORT: String(port), DATA_DIR: dir, CDS_AUTH_MODE: 'disabled' });
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200, 15000);
    expect((await fetch(`http://127.0.0.1:${port}/cds-services`)).status).toBe(200);
    expect(out()).toMatch(/"level":40.*(disabled|DISABLED)/);
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}, 30000);

test('the newcomer demo (npm run demo) prints dose cards for the synthetic patients', async () => {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout!.on('data', (d) => (out += String(d)));
  proc.stderr!.on('data', (d) => (out += String(d)));
  const killer = setTimeout(() => proc.kill('SIGKILL'), 40000);
  const code = await new Promise<number | null>((r) => proc.once('exit', (c) => r(c)));
  clearTimeout(killer);
  expect(code).toBe(0);
  expect(out).toMatch(/pgx-1: genotyped.*HTTP 200/);
  // the process loads the committed ONNX dose model at start-up, so doses come from it, with an interval
  expect(out).toMatch(/\[(INFO|WARNING)\] Warfarin [\d.]+ mg daily .* IWPC-trained dose model/);
  expect(out).toMatch(/80% prediction interval for the stable dose/);
  expect(out).toMatch(/For comparison: IWPC pharmacogenetic equation/);
  expect(out).toMatch(/not personalized: missing body height/);
  expect(out).toMatch(/suggestion: Change to warfarin/);
  expect(out).toMatch(/\[CRITICAL\] Clopidogrel: CYP2C19 Poor Metabolizer/);
  expect(out).toMatch(/suggestion: Replace clopidogrel with (prasugrel|ticagrelor)/);
}, 60000);
