// The SMART app for recommendations computed from time-dependent data, in a real browser: a vancomycin patient with
// administrations and levels (the concentration–time plot) and a gabapentin order at a low creatinine clearance
// (the kidney inputs). Real hook calls (prefetch built by prefetchFrom, as in test/integration/*), the card's SMART
// link launched through the real OAuth2 server, the app reading the real FHIR server; screenshots in test-artifacts/.
import type { FhirResource, MedicationRequest } from 'fhir/r4';
import type { Page } from 'playwright-core';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { draftOrder, INTRAVENOUS, ORAL } from '../fixtures/orders.js';
import { draftWarfarin, patient, prefetchFrom, vital } from '../fixtures/synthetic-patients.js';
import { vancomycinAdmin, vancomycinLevel } from '../fixtures/vancomycin.js';
import { lenziniPatient, plusDays } from '../fixtures/warfarin-history.js';
import { startSmartBrowser, type SmartBrowser } from '../support/smart-browser.js';

const now = new Date();
const daysAgo = (d: number) => new Date(now.getTime() - d * 86400000).toISOString().slice(0, 10);
const bornYearsAgo = (years: number) => `${now.getUTCFullYear() - years}-01-01`;

const admin = (id: string, patientId: string, mg: number, startH: number, endH: number) => vancomycinAdmin(id, patientId, mg, startH, endH, now);
const level = (id: string, patientId: string, loinc: string, mgL: number, hAgo: number) => vancomycinLevel(id, patientId, loinc, mgL, hAgo, now);
const draft = (id: string, patientId: string, rxcui: string, text: string, mg: number, timing: { frequency: number; period: number; periodUnit: 'h' | 'd' }, route: string): MedicationRequest =>
  draftOrder(id, patientId, { rxcui, text }, { mg, timing, route: route === INTRAVENOUS.code ? INTRAVENOUS : ORAL });

/**
 * - e2e-van: man, 60 y, 80 kg, creatinine 1.0; vancomycin 1000 mg q12h × 3 (40/28/16 h ago), peak 16 mg/L 14 h ago,
 *   trough 2.5 mg/L 4.5 h ago (the patient of test/integration/vancomycin.test.ts, "van-bayes")
 * - e2e-van0: the same covariates, no doses and no levels (first regimen: the plot of the proposed start)
 * - e2e-ren: man, 80 y, 60 kg, creatinine 2.0 → Cockcroft-Gault 25 mL/min (gabapentin 15–29 band, as "ren-gaba")
 */
const LEVELS = 2;
/** e2e-wr5: day 1 of warfarin five days before today (local dates as recorded), so the INR of day 5 is yesterday's */
const WR5_DAY1 = plusDays(now.toISOString().slice(0, 10), -5);
const DOSES = 3;
function resources(): FhirResource[] {
  const cr = (id: string, p: string, mgdl: number, date: string) => vital(id, p, '2160-0', 'Creatinine [Mass/volume] in Serum or Plasma', mgdl, 'mg/dL', 'mg/dL', date);
  const wt = (id: string, p: string, kg: number, date: string) => vital(id, p, '29463-7', 'Body weight', kg, 'kg', 'kg', date);
  return [
    patient('e2e-van', bornYearsAgo(60), 'male'),
    wt('e2e-van-wt', 'e2e-van', 80, daysAgo(1)),
    cr('e2e-van-cr', 'e2e-van', 1.0, daysAgo(1)),
    admin('e2e-van-d1', 'e2e-van', 1000, 40, 39),
    admin('e2e-van-d2', 'e2e-van', 1000, 28, 27),
    admin('e2e-van-d3', 'e2e-van', 1000, 16, 15),
    level('e2e-van-peak', 'e2e-van', '4089-9', 16, 14),
    level('e2e-van-trough', 'e2e-van', '4090-7', 2.5, 4.5),
    patient('e2e-van0', bornYearsAgo(60), 'male'),
    wt('e2e-van0-wt', 'e2e-van0', 80, daysAgo(1)),
    cr('e2e-van0-cr', 'e2e-van0', 1.0, daysAgo(1)),
    patient('e2e-ren', bornYearsAgo(80), 'male'),
    wt('e2e-ren-wt', 'e2e-ren', 60, daysAgo(2)),
    cr('e2e-ren-cr', 'e2e-ren', 2.0, daysAgo(2)),
    ...lenziniPatient('e2e-wr5', { day1: WR5_DAY1, birthDate: bornYearsAgo(66), doses: [5, 5, 5, 5], inrDay: 5, inr: 1.5 }),
  ];
}

let sb: SmartBrowser;
beforeAll(async () => {
  sb = await startSmartBrowser();
  await sb.env.fhir.seed(resources()); // the app reads the Patient; the service gets the rest as prefetch
}, 60000);
afterAll(async () => {
  await sb?.close();
});

async function openCard(patientId: string, order: MedicationRequest, width: number, topic?: string): Promise<{ page: Page; card: any }> {
  const hook = await sb.env.orderSelect(patientId, order, prefetchFrom(resources(), patientId));
  expect(hook.status).toBe(200);
  expect(checkCdsResponse(hook.json)).toEqual([]);
  const card = topic ? hook.json.cards.find((c: any) => c.source?.topic?.code === topic) : hook.json.cards[0];
  if (!card) throw new Error(`no ${topic} card; topics: ${hook.json.cards.map((c: any) => c.source?.topic?.code).join(', ')}`);
  const link = card.links.find((l: { type: string }) => l.type === 'smart');
  const page = await sb.newPage(width);
  await page.goto(sb.launchUrl(link, patientId));
  await page.waitForSelector('[data-testid=headline]', { timeout: 15000 });
  return { page, card };
}

/** One input row of the inputs table: label, value, date and source cells as text. */
async function inputRow(page: Page, label: RegExp): Promise<{ value: string; date: string; source: string }> {
  const rows = await page.locator('[data-testid=inputs] tbody tr').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
  const row = rows.find((r) => label.test(r[0] ?? ''));
  if (!row) throw new Error(`no input row ${label}; rows: ${rows.map((r) => r[0]).join(', ')}`);
  return { value: row[1]!, date: row[2]!, source: row[3]! };
}

test('vancomycin with levels and doses → concentration–time plot: curve, band, one marker per level, doses, axes with units, AUC24 and target (wide and 400 px)', async () => {
  for (const width of [1024, 400]) {
    const { page, card } = await openCard('e2e-van', draft(`e2e-v-${width}`, 'e2e-van', '11124', 'vancomycin 1 G Injection', 1000, { frequency: 1, period: 12, periodUnit: 'h' }, '47625008'), width);
    await sb.shoot(page, `smart-vancomycin-${width}px`);
    expect(card.summary).toMatch(/vancomycin/i);
    const plot = page.locator('[data-testid=time-plot]');
    await expect(plot.count()).resolves.toBe(1);
    const svg = plot.locator('svg[role=img]');
    await expect(svg.getAttribute('aria-label')).resolves.toMatch(/concentration.*mg\/L.*2 measured levels.*3 doses/is);
    // the model curve: one path, a real line (many points, no NaN)
    const curve = await svg.locator('path.curve').getAttribute('d');
    expect(curve).toMatch(/^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+){10,}$/);
    // the uncertainty band: a closed area (no NaN), and its meaning in the legend
    const band = await svg.locator('path.band').getAttribute('d');
    expect(band).toMatch(/^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+){10,} Z$/);
    // one marker per measured level, one per dose
    await expect(svg.locator('.mark.measured').count()).resolves.toBe(LEVELS);
    await expect(svg.locator('.dose-mark').count()).resolves.toBe(DOSES);
    // axes with units
    const axisLabels = await svg.locator('.axis-label').allTextContents();
    expect(axisLabels.join(' | ')).toMatch(/mg\/L/);
    expect(axisLabels.join(' | ')).toMatch(/\(h\)/);
    const ticks = await svg.locator('.tick').allTextContents();
    expect(ticks.length).toBeGreaterThanOrEqual(6);
    // numbers; the outermost tick of each axis with its unit (top of the concentration axis, end of the time axis)
    expect(ticks.every((t) => /^-?\d+(\.\d+)?( mg\/L| h)?$/.test(t))).toBe(true);
    expect(ticks.filter((t) => / mg\/L$/.test(t))).toHaveLength(1);
    expect(ticks.filter((t) => / h$/.test(t))).toHaveLength(1);
    const legend = await plot.locator('.legend').textContent();
    expect(legend).toMatch(/model/i);
    expect(legend).toMatch(/80%|10th–90th/);
    expect(legend).toMatch(/measured level/i);
    expect(legend).toMatch(/dose/i);
    // the levels and doses listed as text
    await expect(plot.locator('.levels li').count()).resolves.toBe(LEVELS + DOSES);
    // AUC24 and the target as text
    const tdm = await page.textContent('.tdm-section');
    expect(tdm).toMatch(/AUC24 [\d.]+ mg·h\/L/);
    expect(tdm).toMatch(/target 400–600 mg·h\/L/);
    // no NaN/undefined anywhere; the SVG stays inside the page (no horizontal scroll at 400 px)
    const html = await page.locator('main').innerHTML();
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
    const box = await svg.boundingBox();
    expect(box!.width).toBeGreaterThan(200);
    expect(box!.x + box!.width).toBeLessThanOrEqual(width);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(width);
    // the kidney inputs of the model's covariate
    const cr = await inputRow(page, /Serum creatinine/);
    expect(cr.value).toBe('1 mg/dL');
    expect(cr.date).toContain(daysAgo(1));
    expect(cr.source).toContain('Observation/e2e-van-cr');
    expect((await inputRow(page, /weight/i)).value).toBe('80 kg');
    const crcl = await inputRow(page, /Creatinine clearance/);
    expect(crcl.value).toMatch(/^[\d.]+ mL\/min$/);
    expect(crcl.source).toMatch(/Cockcroft-Gault/);
    const lvl = await inputRow(page, /Vancomycin level 1/);
    expect(lvl.source).toContain('Observation/e2e-van-peak');
    await page.close();
  }
  expect(sb.violations).toEqual([]);
});

test('vancomycin without doses or levels → the proposed start: loading and maintenance doses planned, no levels, no NaN (400 px)', async () => {
  const { page } = await openCard('e2e-van0', draft('e2e-v0', 'e2e-van0', '11124', 'vancomycin 1 G Injection', 1000, { frequency: 1, period: 12, periodUnit: 'h' }, '47625008'), 400);
  await sb.shoot(page, 'smart-vancomycin-start-400px', ['tdm']);
  const svg = page.locator('[data-testid=time-plot] svg[role=img]');
  await expect(svg.getAttribute('aria-label')).resolves.toMatch(/0 measured levels/);
  expect(await svg.locator('path.curve').getAttribute('d')).toMatch(/^M[\d.]+ [\d.]+( L[\d.]+ [\d.]+){10,}$/);
  await expect(svg.locator('path.band').count()).resolves.toBe(1);
  await expect(svg.locator('.mark.measured').count()).resolves.toBe(0);
  await expect(svg.locator('.dose-mark.planned').count()).resolves.toBeGreaterThanOrEqual(2);
  await expect(page.textContent('[data-testid=time-plot] .legend')).resolves.toMatch(/planned dose/);
  await expect(page.textContent('.tdm-section')).resolves.toMatch(/Loading dose: \d+ mg/);
  expect(await page.locator('main').innerHTML()).not.toMatch(/NaN|undefined|Infinity/);
  await page.close();
  expect(sb.violations).toEqual([]);
});

test('gabapentin at CrCl 25 mL/min → inputs: creatinine with unit, date and source, weight used, CrCl with its formula', async () => {
  const { page, card } = await openCard('e2e-ren', draft('e2e-g', 'e2e-ren', '25480', 'gabapentin 600 MG Oral Tablet', 600, { frequency: 3, period: 1, periodUnit: 'd' }, '26643006'), 400);
  await sb.shoot(page, 'smart-gabapentin-400px', ['dose', 'renal', 'inputs']);
  expect(card.summary).toMatch(/gabapentin/i);
  const cr = await inputRow(page, /Serum creatinine/);
  expect(cr.value).toBe('2 mg/dL');
  expect(cr.date).toContain(daysAgo(2));
  expect(cr.source).toContain('Observation/e2e-ren-cr');
  const wt = await inputRow(page, /Weight/);
  expect(wt.value).toBe('60 kg');
  expect(wt.source).toContain('Observation/e2e-ren-wt');
  const crcl = await inputRow(page, /Creatinine clearance/);
  expect(crcl.value).toBe('25 mL/min');
  expect(crcl.source).toMatch(/Cockcroft-Gault/);
  expect(crcl.date).toMatch(/computed|—/);
  // the kidney measure and band, stated with the formula and weight
  await expect(page.textContent('[data-testid=renal]')).resolves.toMatch(/Cockcroft-Gault.*25 mL\/min/s);
  const html = await page.locator('main').innerHTML();
  expect(html).not.toMatch(/NaN|undefined/);
  await page.close();
  expect(sb.violations).toEqual([]);
});

/** Signed bars of the factor chart: label → value text. */
async function factorBars(page: Page): Promise<Map<string, string>> {
  const labels = await page.locator('figure.factors svg .bar-label').allTextContents();
  const values = await page.locator('figure.factors svg .bar-value').allTextContents();
  return new Map(labels.map((l, i) => [l, values[i] ?? '']));
}

test('warfarin on day 5 with INR 1.5 → the Lenzini refinement: INR, doses given and genotypes with dates and sources, refined vs draft dose, Lenzini factors, evidence (400 px and wide)', async () => {
  const day = (n: number) => plusDays(WR5_DAY1, n - 1); // local calendar date of day n of therapy
  for (const width of [400, 1024]) {
    const { page, card } = await openCard('e2e-wr5', draftWarfarin(`e2e-wr5-${width}`, 'e2e-wr5', 7.5), width, 'warfarin-refine');
    await sb.shoot(page, `smart-warfarin-refine-${width}px`);
    expect(card.summary).toMatch(/^Warfarin [\d.]+ mg daily \([\d.]+ mg\/week\) refined from the day-5 INR of 1\.5 \(Lenzini 2010\)$/);
    const daily = /Warfarin ([\d.]+) mg daily/.exec(card.summary)![1]!;
    await expect(page.textContent('[data-testid=headline]')).resolves.toBe(card.summary);

    // the refined dose against the draft order (7.5 mg daily), described as a refinement; no interval for this method
    await expect(page.textContent('.dose-section h2')).resolves.toBe('Refined dose');
    await expect(page.textContent('[data-testid=dose]')).resolves.toContain(`${daily} mg once daily`);
    await expect(page.textContent('[data-testid=draft]')).resolves.toMatch(/^Draft order: 7\.5 mg 1× per day — the refined dose is \d+% lower per day\.$/);
    await expect(page.textContent('[data-testid=interval]')).resolves.toBe('No prediction interval: Lenzini 2010 warfarin dose refinement (pharmacogenetic, INR on day 4 or 5) gives a point estimate only.');
    const scale = await page.locator('figure.dose-scale svg desc').textContent();
    expect(scale).toMatch(/^no interval; Refined dose \(rounded\) [\d.]+ mg\/wk; .*Draft order 52\.5 mg\/wk; IWPC pharmacogenetic equation \(starting dose, without the INR response\) [\d.]+ mg\/wk$/);
    const scaleLabels = await page.locator('figure.dose-scale svg .bar-label').allTextContents();
    expect(scaleLabels).toEqual(expect.arrayContaining(['Refined dose (rounded)', 'Draft order', 'IWPC pharmacogenetic equation']));

    // the INR: unit-less ratio (no unit, no "INR" after the value), its date as recorded, its source
    const inr = await inputRow(page, /^INR \(day 5 of therapy\)$/);
    expect(inr.value).toBe('1.5');
    expect(inr.date).toBe(`${day(5)} 08:00 (UTC−05:00)`);
    expect(inr.source).toContain('Observation/e2e-wr5-inr');
    // the same check as the IWPC test's (there conditional), here with an INR input that must be present
    const inrRows = await page.locator('[data-testid=inputs] tbody tr[data-key*="inr" i]').evaluateAll((trs) => trs.map((tr) => Array.from(tr.children).map((c) => (c.textContent ?? '').trim())));
    expect(inrRows.map((r) => r[0])).toEqual(['INR (day 5 of therapy)', 'Target INR']);
    for (const [, value, date, source] of inrRows) {
      expect(value).toMatch(/^\d+(\.\d+)?$/);
      if (/Observation\//.test(source ?? '')) expect(date).toMatch(/^\d{4}-\d\d-\d\d/);
    }
    // one row per dose used, on the local calendar date the dose was given (20:00 UTC−05:00 is not the next day)
    await expect(page.locator('[data-testid=inputs] tbody tr[data-key^=doseMinus]').count()).resolves.toBe(3);
    for (const [d, k] of [[3, 2], [2, 3], [1, 4]] as const) {
      const row = await inputRow(page, new RegExp(`^Warfarin given on day ${d} \\(${k} days before the INR\\)$`));
      expect(row.value).toBe('5 mg');
      expect(row.date).toBe(`${day(d)} 20:00 (UTC−05:00)`);
      expect(row.source).toContain(`MedicationAdministration/e2e-wr5-dose-${d}`);
    }
    const day1 = await inputRow(page, /^Day 1 of therapy/);
    expect(day1.value).toBe(WR5_DAY1);
    expect(day1.date.startsWith(WR5_DAY1)).toBe(true);
    // genotypes: input rows and the gene chain
    const cyp = await inputRow(page, /^CYP2C9$/);
    expect([cyp.value, cyp.date]).toEqual(['*1/*1', '2025-03-01']);
    expect(cyp.source).toContain('Observation/e2e-wr5-cyp2c9');
    const vk = await inputRow(page, /^VKORC1 rs9923231/);
    expect([vk.value, vk.date]).toEqual(['A/G', '2025-03-01']);
    expect(vk.source).toContain('Observation/e2e-wr5-vkorc1');
    const genes = (await page.locator('[data-testid=gene]').allTextContents()).join(' | ');
    expect(genes).toMatch(/CYP2C9 result\s*\*1\/\*1/);
    expect(genes).toMatch(/VKORC1 result\s*A\/G.*−[\d.]+ mg\/wk in this dose/);

    // the factor chart: the Lenzini terms (INR raises, VKORC1 and age lower), measured from the Lenzini reference
    await expect(page.textContent('[data-testid=factor-method]')).resolves.toMatch(/^Terms of Lenzini 2010 warfarin dose refinement .*, measured from [\d.]+ mg\/wk: 60 years, INR 2\.0 on day 5/);
    const bars = await factorBars(page);
    expect(bars.get('INR 1.5 on day 5')).toMatch(/^\+[\d.]+ mg\/wk$/);
    expect(bars.get('VKORC1 -1639 A alleles: 1')).toMatch(/^−[\d.]+ mg\/wk$/);
    expect([...bars.keys()].find((l) => /^Age 6[56] y$/.test(l))).toBeDefined();
    expect([...bars.entries()].find(([l]) => /^Age/.test(l))![1]).toMatch(/^−[\d.]+ mg\/wk$/);
    expect([...bars.keys()].join(' | ')).not.toMatch(/Height|Weight|Race|Enzyme inducer/); // no IWPC terms

    // method and evidence: the Lenzini paper by its DOI
    await expect(page.textContent('.evidence-section strong')).resolves.toMatch(/^Lenzini 2010 warfarin dose refinement/);
    const lenzini = page.locator('.evidence-section a[href="https://doi.org/10.1038/clpt.2010.13"]');
    await expect(lenzini.count()).resolves.toBe(1);
    await expect(lenzini.textContent()).resolves.toMatch(/Lenzini/);

    const html = await page.locator('main').innerHTML();
    expect(html).not.toMatch(/NaN|undefined|Infinity/);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(width);
    await page.close();
  }
  expect(sb.violations).toEqual([]);
});
