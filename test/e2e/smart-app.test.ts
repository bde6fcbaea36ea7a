// The "Dosing details" SMART app in a real browser (Debian's Chromium, headless, loopback only): a hook gives a card,
// the "EHR" launches the card's SMART link (launch.html?iss&launch), the real OAuth2 server issues the token with
// the patient and appContext, the app reads the patient and the recommendation, and renders the basis of the dose.
import path from 'node:path';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { loadWarfarinModel, type WarfarinModel } from '../../src/model/warfarinModel.js';
import { draftClopidogrel, draftWarfarin } from '../fixtures/synthetic-patients.js';
import { ARTIFACTS, startSmartBrowser, type SmartBrowser } from '../support/smart-browser.js';

let model: WarfarinModel;
let sb: SmartBrowser;

beforeAll(async () => {
  model = await loadWarfarinModel();
  sb = await startSmartBrowser({ deps: { warfarinModel: model } });
}, 60000);

afterAll(async () => {
  await sb?.close();
  await model?.close();
});

const newPage = (width: number) => sb.newPage(width);
const launchUrl = (link: { url: string; appContext?: string }, patient: string) => sb.launchUrl(link, patient);
const shoot = (page: Parameters<SmartBrowser['shoot']>[0], name: string) => sb.shoot(page, name);

test('warfarin card → EHR launch → dose, interval, factors, inputs with sources and the gene chain (wide and 400 px)', async () => {
  const hook = await sb.env.orderSelect('pgx-1', draftWarfarin('e2e-w', 'pgx-1', 5));
  expect(hook.status).toBe(200);
  expect(checkCdsResponse(hook.json)).toEqual([]);
  const card = hook.json.cards[0];
  const link = card.links.find((l: { type: string }) => l.type === 'smart');
  const daily = /Warfarin ([\d.]+) mg daily/.exec(card.summary)![1]!;

  for (const width of [1024, 400]) {
    const page = await newPage(width);
    await page.goto(launchUrl(link, 'pgx-1'));
    await page.waitForSelector('[data-testid=headline]', { timeout: 15000 });
    expect(new URL(page.url()).pathname).toBe('/smart/index.html');
    await expect(page.textContent('[data-testid=patient]')).resolves.toContain('born 1960-05-01');
    await expect(page.textContent('[data-testid=dose]')).resolves.toContain(`${daily} mg once daily`);
    await expect(page.textContent('[data-testid=draft]')).resolves.toMatch(/Draft order: 5 mg 1× per day — the recommendation is \d+% (higher|lower) per day/);
    await expect(page.textContent('[data-testid=interval]')).resolves.toMatch(/80% prediction interval for the stable dose: [\d.]+–[\d.]+ mg\/wk/);
    // factors: a labelled chart with signed values as text
    const factors = await page.textContent('figure.factors');
    expect(factors).toMatch(/CYP2C9/);
    expect(factors).toMatch(/Amiodarone/i);
    expect(factors).toMatch(/[+−][\d.]+ mg\/wk/);
    await expect(page.locator('figure.factors svg[role=img] title').count()).resolves.toBe(1);
    await expect(page.locator('figure.dose-scale svg').count()).resolves.toBe(1);
    // inputs with value, unit, date and source
    const inputs = await page.textContent('[data-testid=inputs]');
    expect(inputs).toContain('Observation/pgx-1-wt');
    expect(inputs).toContain('2026-09-15');
    expect(inputs).toContain('Observation/pgx-1-cyp2c9');
    expect(inputs).toMatch(/79\.8\d* kg/);
    // every input is rendered the same way; INR inputs (when the recommendation lists any) with value, date and source.
    // This IWPC starting dose has none: the Lenzini refinement test (smart-app-dynamic.test.ts) runs the same check on an
    // INR row that must be present.
    const inr = await page.locator('[data-testid=inputs] tbody tr[data-key*="inr" i]').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
    for (const [, value, date, source] of inr) {
      expect(value).toMatch(/\d/);
      if (/Observation\//.test(source ?? '')) expect(date).toMatch(/^\d{4}-\d\d-\d\d/);
    }
    expect(inputs).not.toMatch(/NaN|undefined/);
    // genes: result → phenotype
    const genes = await page.locator('[data-testid=gene]').allTextContents();
    expect(genes.join(' | ')).toMatch(/CYP2C9 result\s*\*1\/\*3/);
    expect(genes.join(' | ')).toMatch(/VKORC1/);
    await expect(page.textContent('.evidence-section')).resolves.toMatch(/Model card|model/i);
    await shoot(page, `smart-warfarin-${width}px`);
    if (width === 1024) {
      // printable: the buttons go, the content stays
      await page.emulateMedia({ media: 'print' });
      await expect(page.isVisible('#print')).resolves.toBe(false);
      await page.screenshot({ path: path.join(ARTIFACTS, 'smart-warfarin-print.png'), fullPage: true });
      await page.emulateMedia({ media: 'screen' });
    }
    await page.close();
  }
  expect(sb.violations).toEqual([]);
});

test('clopidogrel for CYP2C19 *2/*2: result → phenotype → CPIC recommendation with its strength and link', async () => {
  const hook = await sb.env.orderSelect('cyp-1', draftClopidogrel('e2e-c', 'cyp-1'));
  expect(checkCdsResponse(hook.json)).toEqual([]);
  const link = hook.json.cards[0].links[0];
  const page = await newPage(400);
  await page.goto(launchUrl(link, 'cyp-1'));
  await page.waitForSelector('[data-testid=gene]', { timeout: 15000 });
  const chain = await page.textContent('[data-testid=gene]');
  expect(chain).toMatch(/CYP2C19 result\s*\*2\/\*2/);
  expect(chain).toMatch(/Poor Metabolizer/i);
  const rec = await page.textContent('[data-testid=gene-recommendation]');
  expect(rec).toMatch(/CPIC: Strong/);
  expect(rec).toMatch(/alternative|prasugrel|ticagrelor/i);
  await expect(page.getAttribute('[data-testid=gene-recommendation] a', 'href')).resolves.toMatch(/^https:\/\/cpicpgx\.org\//);
  await shoot(page, 'smart-clopidogrel-400px');
  await page.close();
  expect(sb.violations).toEqual([]);
});

test('launched from the chart (no appContext): the patient’s recent recommendations, one click to the details', async () => {
  const page = await newPage(400);
  await page.goto(launchUrl({ url: `${sb.env.svc.url}/smart/launch.html` }, 'pgx-1'));
  await page.waitForSelector('[data-testid=rec-list]', { timeout: 15000 });
  const items = await page.locator('[data-testid=rec-list] li').allTextContents();
  expect(items.length).toBeGreaterThan(0);
  expect(items.every((t) => /Warfarin/.test(t))).toBe(true); // only this patient's (no clopidogrel of cyp-1)
  await shoot(page, 'smart-chart-list-400px');
  await page.locator('[data-testid=rec-list] button').first().click();
  await page.waitForSelector('[data-testid=headline]');
  await page.close();
  expect(sb.violations).toEqual([]);
});
