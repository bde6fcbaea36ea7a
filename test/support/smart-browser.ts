// The SMART app in a real browser for the E2E tests: the app built from the current sources (Vite), the SMART
// "EHR" (test/support/smart-env.ts) and Debian's Chromium (headless, loopback only). Shared by test/e2e/*.test.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { EvaluatorDependencies } from '../../src/dosing/registry.js';
import { startSmartEnv, type SmartEnv } from './smart-env.js';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('test-artifacts');

export interface SmartBrowser {
  env: SmartEnv;
  browser: BrowserContext;
  /** console errors and page errors of every page opened with newPage */
  violations: string[];
  newPage(width: number): Promise<Page>;
  /** What an EHR does with a card's SMART link: register the launch context, open url?iss=&launch=. */
  launchUrl(link: { url: string; appContext?: string }, patient: string): string;
  /** The whole page, the first screen, and each present section on its own (readable at full size). */
  shoot(page: Page, name: string, sections?: string[]): Promise<void>;
  close(): Promise<void>;
}

export interface SmartBrowserOptions {
  deps?: EvaluatorDependencies;
  /** service configuration overrides (e.g. { 'smart.proofCacheSeconds': 0 }) */
  overrides?: Record<string, unknown>;
  /** the browser's time zone and locale (default: the machine's) */
  timezoneId?: string;
  locale?: string;
}

export async function startSmartBrowser(o: SmartBrowserOptions = {}): Promise<SmartBrowser> {
  // fail loudly: CI installs chromium (.ci/run); a skipped browser test would hide a broken app
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const appDir = mkdtempSync(path.join(tmpdir(), 'pgx-smart-app-'));
  const profile = mkdtempSync(path.join(tmpdir(), 'pgx-chromium-'));
  let env: SmartEnv | undefined;
  try {
    // build the app from the current sources (about 1.5 s)
    const build = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', '--config', 'smart-app/vite.config.ts', '--outDir', appDir, '--emptyOutDir', '--logLevel', 'error'], { encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`vite build failed:\n${build.stderr}${build.stdout}`);
    env = await startSmartEnv({ ...(o.deps ? { deps: o.deps } : {}), ...(o.overrides ? { overrides: o.overrides } : {}), smartAppDir: appDir });
    const browser = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
      viewport: { width: 1024, height: 900 },
      ...(o.timezoneId ? { timezoneId: o.timezoneId } : {}),
      ...(o.locale ? { locale: o.locale } : {}),
    });
    // loopback only: anything else is aborted (and would fail the page)
    await browser.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    const e = env;
    const violations: string[] = [];
    return {
      env: e,
      browser,
      violations,
      async newPage(width) {
        const page = await browser.newPage();
        await page.setViewportSize({ width, height: 900 });
        page.on('console', (m) => {
          if (m.type() === 'error') violations.push(m.text());
        });
        page.on('pageerror', (err) => violations.push(String(err)));
        return page;
      },
      launchUrl(link, patient) {
        const launch = e.auth.registerLaunch({ patient, ...(link.appContext ? { appContext: link.appContext } : {}) });
        const u = new URL(link.url);
        u.searchParams.set('iss', e.fhir.url);
        u.searchParams.set('launch', launch);
        return u.href;
      },
      async shoot(page, name, sections = ['dose', 'tdm', 'factors', 'genes', 'inputs']) {
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
        await page.screenshot({ path: path.join(ARTIFACTS, `${name}-top.png`) });
        for (const section of sections) {
          const l = page.locator(`.${section}-section`);
          if ((await l.count()) > 0) await l.screenshot({ path: path.join(ARTIFACTS, `${name}-${section}.png`) });
        }
      },
      async close() {
        await browser.close();
        await e.stop();
        for (const d of [appDir, profile]) rmSync(d, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await env?.stop();
    for (const d of [appDir, profile]) rmSync(d, { recursive: true, force: true });
    throw err;
  }
}
