// The SMART app when things go wrong, in a real browser against the real service, FHIR server and OAuth2 server:
// every failure ends on a screen that says what happened in plain words and offers the way back; nothing hangs on
// "Loading…"; the technical cause is only a small details line. Failures are real where they can be: a token that
// really expires (short lifetime from the OAuth2 server), a FHIR server that really answers 503 or hangs (its fault
// injection), an unknown recommendation id, a launch context for another patient (the FHIR server's 403). Only the
// network failure is made by the browser (Playwright aborts the request: Chromium's own network-error path), and the
// 20 s deadline is reached with the page's clock fast-forwarded (the request really hangs at the service).
import type { Page } from 'playwright-core';
import { FAILURE_TEXT } from '../../smart-app/src/failure.js';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { loadWarfarinModel, type WarfarinModel } from '../../src/model/warfarinModel.js';
import { draftClopidogrel } from '../fixtures/synthetic-patients.js';
import { startSmartBrowser, type SmartBrowser } from '../support/smart-browser.js';

let sb: SmartBrowser;
let model: WarfarinModel;
let link: { url: string; appContext?: string };
let recommendationId: string;

beforeAll(async () => {
  model = await loadWarfarinModel();
  // every API call proves access at the FHIR server (no cached proof): an expired token is refused at once
  sb = await startSmartBrowser({ deps: { warfarinModel: model }, overrides: { 'smart.proofCacheSeconds': 0 } });
  const hook = await sb.env.orderSelect('cyp-1', draftClopidogrel('fail-c', 'cyp-1'));
  expect(checkCdsResponse(hook.json)).toEqual([]);
  link = hook.json.cards[0].links.find((l: { type: string }) => l.type === 'smart');
  recommendationId = (JSON.parse(link.appContext!) as { recommendationId: string }).recommendationId;
}, 60000);
afterAll(async () => {
  await sb?.close();
  await model?.close();
});
afterEach(async () => {
  sb.env.auth.setTokenLifetime(3600);
  await sb.env.fhir.admin.setFault({ mode: 'none' });
});

/** Errors other than the browser's own report of a refused request (a 401/404/502 answer is expected here). */
const unexpected = () => sb.violations.filter((v) => !/Failed to load resource|net::ERR_/.test(v));

/** The failure screen: its kind, heading, advice, details line and the ways back offered. */
async function failure(page: Page) {
  const f = page.locator('[data-testid=failure]');
  await f.waitFor({ timeout: 20000 });
  return {
    kind: await f.getAttribute('data-kind'),
    title: (await f.locator('h1').textContent())!,
    advice: (await f.locator('[data-testid=failure-advice]').textContent())!,
    details: (await f.locator('[data-testid=failure-details]').textContent())!,
    buttons: await f.locator('button').allTextContents(),
    loading: await page.locator('[data-testid=loading]').count(),
  };
}

/** Plain words: no HTTP status, reason code or library message in the heading or the advice. */
function expectPlainWords(f: { title: string; advice: string }): void {
  for (const t of [f.title, f.advice]) expect(t).not.toMatch(/jwt|token-rejected|HTTP|\b[45]\d\d\b|fhir-unavailable|not-found|undefined|Error|abort/i);
}

async function openCard(width = 400): Promise<Page> {
  const page = await sb.newPage(width);
  await page.goto(sb.launchUrl(link, 'cyp-1'));
  await page.waitForSelector('[data-testid=headline]', { timeout: 15000 });
  return page;
}

test('expired token: "All recommendations for this patient" ends on "Your session has expired — open the app again from the patient’s chart", not on Loading…', async () => {
  // the OAuth2 server issues a token that lives 13 s (the JWT's exp and expires_in); the FHIR server checks exp.
  // (fhirclient treats a token as expired 10 s early: 13 s leaves time to read the patient and the recommendation.)
  sb.env.auth.setTokenLifetime(13);
  const issued = Date.now();
  const page = await openCard();
  // wait until the token has expired (exp is whole seconds, issued during the launch: a margin of 3 s)
  await page.waitForTimeout(Math.max(0, issued + 16000 - Date.now()));
  await page.click('#list');
  const f = await failure(page);
  expect(f.kind).toBe('session');
  expect(f.title).toBe('Your session has expired — open the app again from the patient’s chart');
  expectPlainWords(f);
  expect(f.loading).toBe(0);
  expect(f.details).toMatch(/^Details: HTTP 401 · token-rejected/);
  expect(f.buttons).toEqual([]); // no "Try again" that cannot work: the way back is a new launch from the chart
  await expect(page.textContent('[data-testid=patient]')).resolves.toMatch(/cyp-1 Synthetic/); // who it was about stays
  await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(400);
  await page.screenshot({ path: 'test-artifacts/smart-failure-session-400px.png', fullPage: true });
  await page.close();
  expect(unexpected()).toEqual([]);
}, 40000);

test('a token already about to expire at launch (no refresh scope) → the session-expired screen, not a library message', async () => {
  sb.env.auth.setTokenLifetime(4); // inside fhirclient's 10 s margin: it refuses to use the token and cannot refresh it
  const page = await sb.newPage(400);
  await page.goto(sb.launchUrl(link, 'cyp-1'));
  const f = await failure(page);
  expect(f.kind).toBe('session');
  expectPlainWords(f);
  expect(f.details).toMatch(/Unable to refresh/); // the library's words only in the details line
  await page.close();
  expect(unexpected()).toEqual([]);
}, 40000);

test('a recommendation id that is not this patient’s → "not found" in plain words, "Back to the list" opens the list', async () => {
  const page = await sb.newPage(400);
  await page.goto(sb.launchUrl({ url: link.url, appContext: JSON.stringify({ recommendationId: '00000000-0000-4000-8000-000000000000' }) }, 'cyp-1'));
  const f = await failure(page);
  expect(f.kind).toBe('not-found');
  expect(f.title).toBe(FAILURE_TEXT['not-found'].title);
  expectPlainWords(f);
  expect(f.details).toMatch(/^Details: HTTP 404 · not-found/);
  expect(f.buttons).toEqual(['Back to the list']);
  await page.click('#back-to-list');
  await page.waitForSelector('[data-testid=rec-list]');
  await expect(page.locator(`[data-testid=rec-list] button[data-id="${recommendationId}"]`).count()).resolves.toBe(1);
  await page.close();
  expect(unexpected()).toEqual([]);
}, 40000);

test('the FHIR server answers 503 to the service’s access check → "could not confirm your access", Try again shows the list', async () => {
  const page = await openCard();
  await sb.env.fhir.admin.setFault({ mode: 'error500', status: 503, match: 'Patient/cyp-1', times: 1 });
  await page.click('#list');
  const f = await failure(page);
  expect(f.kind).toBe('fhir-unavailable');
  expect(f.title).toBe('The EHR could not confirm your access just now');
  expectPlainWords(f);
  expect(f.details).toMatch(/^Details: HTTP 502 · fhir-unavailable/);
  expect(f.buttons).toEqual(['Try again']); // the list itself failed: trying again is the way back
  await page.click('#retry'); // the fault was for one request: the retry goes through
  await page.waitForSelector('[data-testid=rec-list]');
  await page.close();
  expect(unexpected()).toEqual([]);
}, 40000);

test('the Patient read fails (FHIR 503) → "The patient’s record could not be read", Try again loads it', async () => {
  await sb.env.fhir.admin.setFault({ mode: 'error500', status: 503, match: 'Patient/cyp-1', times: 1 });
  const page = await sb.newPage(400);
  await page.goto(sb.launchUrl(link, 'cyp-1'));
  const f = await failure(page);
  expect(f.kind).toBe('patient-unavailable');
  expectPlainWords(f);
  expect(f.details).toMatch(/FHIR HTTP 503/);
  expect(f.buttons).toEqual(['Try again']);
  await page.click('#retry');
  await page.waitForSelector('[data-testid=headline]', { timeout: 15000 });
  await page.close();
  expect(unexpected()).toEqual([]);
}, 40000);

test('a launch context for another patient → the FHIR server refuses (403) → "This session does not give access to this patient"', async () => {
  const page = await openCard();
  // the app's calls name a patient the token is not for (a mixed-up launch context); the real FHIR server says 403
  await page.route('**/api/recommendations**', (route) => route.continue({ headers: { ...route.request().headers(), 'x-patient-id': 'pgx-1' } }));
  await page.click('#list');
  const f = await failure(page);
  expect(f.kind).toBe('no-access');
  expect(f.title).toBe(FAILURE_TEXT['no-access'].title);
  expectPlainWords(f);
  expect(f.details).toMatch(/^Details: HTTP 403 · patient-denied/);
  await page.close();
  expect(unexpected()).toEqual([]);
}, 40000);

test('network failure → "The dosing service could not be reached", Try again works once the network is back', async () => {
  const page = await openCard();
  await page.route('**/api/recommendations**', (route) => route.abort('internetdisconnected'));
  await page.click('#list');
  const f = await failure(page);
  expect(f.kind).toBe('network');
  expect(f.title).toBe('The dosing service could not be reached');
  expectPlainWords(f);
  expect(f.buttons).toEqual(['Try again']); // the list itself failed: trying again is the way back
  await page.unroute('**/api/recommendations**');
  await page.click('#retry');
  await page.waitForSelector('[data-testid=rec-list]');
  await page.close();
  expect(unexpected()).toEqual([]);
}, 40000);

test('no answer within 20 s (the access check hangs at the FHIR server) → "did not answer in time", never Loading… for ever', async () => {
  const page = await openCard();
  await page.clock.install();
  await sb.env.fhir.admin.setFault({ mode: 'delay', delayMs: 6000, match: 'Patient/cyp-1', times: 1 });
  const request = page.waitForRequest('**/api/recommendations');
  await page.click('#list');
  await request;
  await expect(page.locator('[data-testid=loading]').count()).resolves.toBe(1);
  await page.clock.fastForward(20500);
  const f = await failure(page);
  expect(f.kind).toBe('timeout');
  expect(f.title).toBe('The dosing service did not answer in time');
  expectPlainWords(f);
  expect(f.loading).toBe(0);
  expect(f.buttons).toEqual(['Try again']); // the list itself failed: trying again is the way back
  await page.close();
  expect(unexpected()).toEqual([]);
}, 40000);

test('index.html opened without a SMART launch → "The app was not opened from a patient’s chart"', async () => {
  const page = await sb.newPage(400);
  await page.goto(`${sb.env.svc.url}/smart/index.html`);
  const f = await failure(page);
  expect(f.kind).toBe('not-launched');
  expectPlainWords(f);
  expect(f.buttons).toEqual([]);
  await page.close();
  expect(unexpected()).toEqual([]);
});

test('every failure kind has a heading, advice and ways back in plain words (the wording table)', () => {
  for (const [kind, t] of Object.entries(FAILURE_TEXT)) {
    expect([kind, t.title.length > 10 && t.advice.length > 10]).toEqual([kind, true]);
    expectPlainWords(t);
  }
});
