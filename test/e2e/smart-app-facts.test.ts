// The SMART app shows its facts clearly, in a real browser (Europe/Berlin, en-GB) against the real service, FHIR and
// OAuth2 servers: the list grouped per order with the latest marked and superseded ones folded, times with their
// zone, the banner with age, sex and MRN, chart axes with values and units (checked against the marks they scale),
// unit and strand conversions said, CPIC populations in the guideline's words, and a favicon.
import { readFileSync } from 'node:fs';
import type { Patient } from 'fhir/r4';
import type { Page } from 'playwright-core';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { loadWarfarinModel, type WarfarinModel } from '../../src/model/warfarinModel.js';
import { draftClopidogrel, draftWarfarin } from '../fixtures/synthetic-patients.js';
import { startSmartBrowser, type SmartBrowser } from '../support/smart-browser.js';

let sb: SmartBrowser;
let model: WarfarinModel;
const ymd = (d: Date) => d.toISOString().slice(0, 10);
/** The browser runs in Europe/Berlin: the app counts age by the clinician's local date, so "today" is Berlin's. */
const TZ = 'Europe/Berlin';
const [ty, tm, td] = new Intl.DateTimeFormat('en-CA', { timeZone: TZ, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date()).split('-').map(Number) as [number, number, number];
/** 40 years ago tomorrow (Berlin): the patient is still 39 today (the birthday has not come yet), at any UTC hour */
const BIRTH_39 = ymd(new Date(Date.UTC(ty - 40, tm - 1, td + 1)));

beforeAll(async () => {
  model = await loadWarfarinModel();
  sb = await startSmartBrowser({ deps: { warfarinModel: model }, timezoneId: TZ, locale: 'en-GB' });
  const withMrn: Patient = {
    resourceType: 'Patient',
    id: 'mrn-1',
    birthDate: BIRTH_39,
    gender: 'female',
    name: [{ use: 'official', family: 'Rivera', given: ['Ana', 'Luisa'] }],
    identifier: [
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'SS' }] }, system: 'http://hl7.org/fhir/sid/us-ssn', value: '999-00-1234' },
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] }, system: 'urn:oid:1.2.3.4', value: 'MRN-0042' },
    ],
  };
  await sb.env.fhir.seed([withMrn]);
}, 60000);
afterAll(async () => {
  await sb?.close();
  await model?.close();
});

const unexpected = () => sb.violations.filter((v) => !/Failed to load resource/.test(v));

async function launch(link: { url: string; appContext?: string }, patient: string, width: number, wait: string): Promise<Page> {
  const page = await sb.newPage(width);
  await page.goto(sb.launchUrl(link, patient));
  await page.waitForSelector(wait, { timeout: 15000 });
  return page;
}
const chart = { url: '' };
beforeAll(() => {
  chart.url = `${sb.env.svc.url}/smart/launch.html`;
});

test('list: per order, the latest marked, earlier ones folded as superseded; local time with the zone (Europe/Berlin → CET)', async () => {
  // clopidogrel for cyp-1: three hooks on order grp-a (the last is current), one on grp-b
  const ids: Record<string, string[]> = { 'grp-a': [], 'grp-b': [] };
  for (const order of ['grp-a', 'grp-a', 'grp-b', 'grp-a']) {
    const hook = await sb.env.orderSelect('cyp-1', draftClopidogrel(order, 'cyp-1'));
    expect(checkCdsResponse(hook.json)).toEqual([]);
    ids[order]!.push(JSON.parse(hook.json.cards[0].links[0].appContext).recommendationId);
    await new Promise((r) => setTimeout(r, 20)); // distinct creation times
  }
  for (const width of [1024, 400]) {
    const page = await launch(chart, 'cyp-1', width, '[data-testid=rec-group]');
    const groups = page.locator('[data-testid=rec-group]');
    await expect(groups.count()).resolves.toBe(2);
    // newest group first: grp-a (its last hook was the newest)
    await expect(groups.nth(0).locator('h2').textContent()).resolves.toBe('Clopidogrel · order grp-a');
    await expect(groups.nth(1).locator('h2').textContent()).resolves.toBe('Clopidogrel · order grp-b');
    const a = groups.nth(0);
    // one latest (the last hook's recommendation), two superseded, folded
    await expect(a.locator(':scope > ul button[data-id]').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-id')))).resolves.toEqual([ids['grp-a']![2]]);
    await expect(a.locator(':scope > ul [data-testid=latest]').count()).resolves.toBe(1);
    const folded = a.locator('[data-testid=superseded]');
    await expect(folded.evaluate((d) => (d as HTMLDetailsElement).open)).resolves.toBe(false);
    await expect(folded.locator('summary').textContent()).resolves.toBe('2 earlier recommendations (superseded)');
    await expect(folded.locator('button[data-id]').evaluateAll((bs) => bs.map((b) => b.getAttribute('data-id')))).resolves.toEqual([ids['grp-a']![1], ids['grp-a']![0]]);
    await expect(folded.locator('button').first().isVisible()).resolves.toBe(false);
    await expect(groups.nth(1).locator('[data-testid=superseded]').count()).resolves.toBe(0);
    // the time: the browser's zone named; the same instant the service recorded
    const times = await page.locator('time.rec-when').evaluateAll((ts) => ts.map((t) => [t.getAttribute('datetime')!, t.textContent!]));
    expect(times).toHaveLength(4);
    for (const [iso, text] of times) {
      expect(Math.abs(Date.parse(iso!) - Date.now())).toBeLessThan(10 * 60000);
      const expected = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short', timeZone: 'Europe/Berlin' }).format(new Date(iso!));
      expect(text).toBe(expected);
      expect(text).toMatch(/^\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d (CET|CEST)$/);
    }
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(width);
    await folded.locator('summary').click();
    await page.screenshot({ path: `test-artifacts/smart-list-grouped-${width}px.png`, fullPage: true });
    // a superseded one still opens
    await folded.locator('button').first().click();
    await page.waitForSelector('[data-testid=headline]');
    await expect(page.textContent('footer.actions')).resolves.toContain(ids['grp-a']![1]);
    await page.close();
  }
  expect(unexpected()).toEqual([]);
}, 60000);

test('banner: name, age in years from birthDate (birthday tomorrow → 39), sex, MRN of identifier type MR (not the SSN); "MRN not on file" without one', async () => {
  const page = await launch(chart, 'mrn-1', 400, '[data-testid=rec-empty]');
  await expect(page.textContent('[data-testid=patient-name]')).resolves.toBe('Ana Luisa Rivera');
  await expect(page.textContent('[data-testid=patient-age]')).resolves.toBe(`39 years (born ${BIRTH_39})`);
  await expect(page.textContent('[data-testid=patient-sex]')).resolves.toBe('female');
  await expect(page.textContent('[data-testid=patient-mrn]')).resolves.toBe('MRN MRN-0042');
  await expect(page.textContent('[data-testid=patient]')).resolves.not.toContain('999-00-1234');
  await page.screenshot({ path: 'test-artifacts/smart-banner-mrn-400px.png' });
  await page.close();
  // pgx-1: born 1960-05-01, male, no identifier
  const p2 = await launch(chart, 'pgx-1', 400, '[data-testid=patient]');
  const age = ty - 1960 - (tm < 5 ? 1 : 0);
  await expect(p2.textContent('[data-testid=patient-age]')).resolves.toBe(`${age} years (born 1960-05-01)`);
  await expect(p2.textContent('[data-testid=patient-sex]')).resolves.toBe('male');
  await expect(p2.textContent('[data-testid=patient-mrn]')).resolves.toBe('MRN not on file');
  await p2.close();
  expect(unexpected()).toEqual([]);
});

/** Tick marks of a chart: their value (data-value), label and x; the linear map value → x they define. */
async function axis(page: Page, figure: string) {
  const ticks = await page.locator(`${figure} svg text.tick`).evaluateAll((ts) => ts.map((t) => ({ v: Number(t.getAttribute('data-value')), text: t.textContent ?? '', x: Number(t.getAttribute('x')) })));
  const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
  const xOf = (v: number) => a.x + ((v - a.v) / (b.v - a.v)) * (b.x - a.x);
  return { ticks, xOf };
}

test('warfarin (pgx-1): dose-scale and factor axes with values and units that place every mark; "176 lb = 79.8 kg" and "reported C/T = A/G on the gene strand"', async () => {
  const hook = await sb.env.orderSelect('pgx-1', draftWarfarin('facts-w', 'pgx-1', 5));
  const card = hook.json.cards[0];
  const weekly = Number(/\(([\d.]+) mg\/week\)/.exec(card.summary)![1]);
  for (const width of [1024, 400]) {
    const page = await launch(card.links[0], 'pgx-1', width, '[data-testid=headline]');
    // dose scale: at least 3 round ticks, each "N mg/wk", evenly spaced, covering the marks
    const dose = await axis(page, 'figure.dose-scale');
    expect(dose.ticks.length).toBeGreaterThanOrEqual(3);
    for (const t of dose.ticks) expect(t.text).toBe(`${t.v} mg/wk`);
    const gaps = dose.ticks.slice(1).map((t, i) => t.x - dose.ticks[i]!.x);
    for (const g of gaps) expect(g).toBeCloseTo(gaps[0]!, 0);
    // the recommended dose's marker sits where the axis says its value is (±1 unit of the 400-unit chart)
    const cx = Number(await page.locator('figure.dose-scale circle.mark.proposed').getAttribute('cx'));
    expect(Math.abs(cx - dose.xOf(weekly))).toBeLessThan(1);
    // the interval band starts at the interval's low end
    const low = Number(/([\d.]+)–[\d.]+ mg\/wk/.exec((await page.textContent('[data-testid=interval]'))!)![1]);
    const bandX = Number(await page.locator('figure.dose-scale rect.band').first().getAttribute('x'));
    expect(Math.abs(bandX - dose.xOf(low))).toBeLessThan(1.5); // the text rounds low to 0.1 mg/wk
    // factor chart: 0 at the middle, signed ticks with the unit, each bar's end where its value is
    const f = await axis(page, 'figure.factors');
    expect(f.ticks.find((t) => t.v === 0)?.text).toBe('0');
    expect(f.ticks.find((t) => t.v === 0)?.x).toBe(200);
    const outer = Math.max(...f.ticks.map((t) => Math.abs(t.v)));
    expect(f.ticks.filter((t) => Math.abs(t.v) === outer)).toHaveLength(2); // the scale is symmetric around 0
    for (const t of f.ticks.filter((t) => t.v !== 0)) expect(t.text).toBe(`${t.v > 0 ? '+' : '−'}${Math.abs(t.v)}${Math.abs(t.v) === outer ? ' mg/wk' : ''}`);
    const bars = await page.locator('figure.factors svg').evaluate((svg) => {
      const values = Array.from(svg.querySelectorAll('text.bar-value')).map((t) => t.textContent ?? '');
      return Array.from(svg.querySelectorAll('rect.bar')).map((r, i) => ({ value: values[i]!, x: Number(r.getAttribute('x')), w: Number(r.getAttribute('width')) }));
    });
    for (const b of bars) {
      const v = Number(b.value.replace('−', '-').replace(/ mg\/wk$/, ''));
      if (Math.abs(v) < 0.5) continue; // tiny bars have a minimum width
      const end = v >= 0 ? b.x + b.w : b.x;
      expect(Math.abs(end - f.xOf(v))).toBeLessThan(1.5); // the label rounds to 0.1 mg/wk
    }
    // conversions: weight reported in lb (Observation/pgx-1-wt: 176 [lb_av]); VKORC1 reported on the plus strand
    const row = (key: string) => page.locator(`[data-testid=inputs] tbody tr[data-key=${key}]`);
    await expect(row('weight').locator('[data-testid=conversion]').textContent()).resolves.toBe('Converted: 176 lb = 79.8 kg');
    await expect(row('vkorc1').locator('[data-testid=conversion]').textContent()).resolves.toMatch(/^Lab reported C\/T = A\/G on the gene strand/);
    await expect(row('height').locator('[data-testid=conversion]').count()).resolves.toBe(0); // 178 cm used as reported
    await expect(row('cyp2c9').locator('[data-testid=conversion]').count()).resolves.toBe(0);
    const vk = page.locator('[data-testid=gene]', { hasText: 'VKORC1' });
    await expect(vk.locator('[data-testid=strand]').textContent()).resolves.toMatch(/^Lab reported C\/T = A\/G on the gene strand/);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(width);
    await sb.shoot(page, `smart-facts-warfarin-${width}px`, ['dose', 'factors', 'genes', 'inputs']);
    await page.close();
  }
  expect(unexpected()).toEqual([]);
}, 60000);

test('clopidogrel: the population in CPIC’s words, not the code "CVI ACS PCI"', async () => {
  const hook = await sb.env.orderSelect('cyp-1', draftClopidogrel('facts-c', 'cyp-1'));
  const page = await launch(hook.json.cards[0].links[0], 'cyp-1', 400, '[data-testid=population]');
  const pop = page.locator('[data-testid=population]');
  await expect(pop.getAttribute('data-population')).resolves.toBe('CVI ACS PCI');
  await expect(pop.textContent()).resolves.toMatch(/^Population: cardiovascular indications: acute coronary syndrome and\/or percutaneous coronary intervention \(ACS\/PCI\)/);
  await expect(page.textContent('main')).resolves.not.toContain('CVI ACS PCI');
  await page.close();
  expect(unexpected()).toEqual([]);
});

test('every CPIC population the knowledge uses has words in knowledge/cpic-populations.json', () => {
  // Source: the population codes of ../shared/data/cpic/recommendations.json as kept in knowledge/pgx-recommendations.json
  const recs = JSON.parse(readFileSync('knowledge/pgx-recommendations.json', 'utf8')) as { recommendations: { population: string }[] };
  const words = (JSON.parse(readFileSync('knowledge/cpic-populations.json', 'utf8')) as { populations: Record<string, string> }).populations;
  const codes = [...new Set(recs.recommendations.map((r) => r.population))].sort();
  expect(codes.length).toBeGreaterThan(10);
  expect(codes.filter((c) => words[c] === undefined)).toEqual([]);
  expect(Object.entries(words).filter(([c, w]) => c !== 'general' && w.length < 6)).toEqual([]);
});

test('favicon: /smart/favicon.ico and the page’s icon links answer 200 with an image', async () => {
  const ico = await fetch(`${sb.env.svc.url}/smart/favicon.ico`);
  expect(ico.status).toBe(200);
  const bytes = Buffer.from(await ico.arrayBuffer());
  expect([...bytes.subarray(0, 4)]).toEqual([0, 0, 1, 0]); // ICO header: reserved 0, type 1 (icon)
  const page = await sb.newPage(400);
  await page.goto(`${sb.env.svc.url}/smart/index.html`);
  const icons = await page.locator('link[rel=icon]').evaluateAll((ls) => ls.map((l) => (l as HTMLLinkElement).href));
  expect(icons.length).toBe(2);
  for (const href of icons) {
    const r = await fetch(href);
    expect([href, r.status, r.headers.get('content-type')]).toEqual([href, 200, expect.stringMatching(/^image\//)]);
  }
  await page.close();
});
