// The SMART app for recommendations computed from time-dependent data, in a real browser: a vancomycin patient with
// administrations and levels (the concentration–time plot) and a gabapentin order at a low creatinine clearance
// (the kidney inputs). Real hook calls (prefetch built by prefetchFrom, as in test/integration/*), the card's SMART
// link launched through the real OAuth2 server, the app reading the real FHIR server; screenshots in test-artifacts/.
import type { FhirResource, MedicationAdministration, MedicationRequest, Observation } from 'fhir/r4';
import type { Page } from 'playwright-core';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { patient, prefetchFrom, vital } from '../fixtures/synthetic-patients.js';
import { startSmartBrowser, type SmartBrowser } from '../support/smart-browser.js';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';
const now = new Date();
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3600000).toISOString();
const daysAgo = (d: number) => new Date(now.getTime() - d * 86400000).toISOString().slice(0, 10);
const bornYearsAgo = (years: number) => `${now.getUTCFullYear() - years}-01-01`;

function admin(id: string, patientId: string, mg: number, startH: number, endH: number): MedicationAdministration {
  return {
    resourceType: 'MedicationAdministration',
    id,
    status: 'completed',
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '11124', display: 'vancomycin' }], text: 'vancomycin' },
    subject: { reference: `Patient/${patientId}` },
    effectivePeriod: { start: hoursAgo(startH), end: hoursAgo(endH) },
    dosage: { dose: { value: mg, unit: 'mg', system: UCUM, code: 'mg' } },
  };
}
function level(id: string, patientId: string, loinc: string, mgL: number, hAgo: number): Observation {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: LOINC, code: loinc, display: 'Vancomycin level' }] },
    subject: { reference: `Patient/${patientId}` },
    effectiveDateTime: hoursAgo(hAgo),
    valueQuantity: { value: mgL, unit: 'ug/mL', system: UCUM, code: 'ug/mL' },
  };
}
function draft(id: string, patientId: string, rxcui: string, text: string, mg: number, timing: { frequency: number; period: number; periodUnit: 'h' | 'd' }, route: string): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: rxcui, display: text }], text },
    dosageInstruction: [{ text: `${mg} mg`, route: { coding: [{ system: 'http://snomed.info/sct', code: route }] }, timing: { repeat: timing }, doseAndRate: [{ doseQuantity: { value: mg, unit: 'mg', system: UCUM, code: 'mg' } }] }],
  };
}

/**
 * - e2e-van: man, 60 y, 80 kg, creatinine 1.0; vancomycin 1000 mg q12h × 3 (40/28/16 h ago), peak 16 mg/L 14 h ago,
 *   trough 2.5 mg/L 4.5 h ago (the patient of test/integration/vancomycin.test.ts, "van-bayes")
 * - e2e-van0: the same covariates, no doses and no levels (first regimen: the plot of the proposed start)
 * - e2e-ren: man, 80 y, 60 kg, creatinine 2.0 → Cockcroft-Gault 25 mL/min (gabapentin 15–29 band, as "ren-gaba")
 */
const LEVELS = 2;
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

async function openCard(patientId: string, order: MedicationRequest, width: number): Promise<{ page: Page; card: any }> {
  const hook = await sb.env.orderSelect(patientId, order, prefetchFrom(resources(), patientId));
  expect(hook.status).toBe(200);
  expect(checkCdsResponse(hook.json)).toEqual([]);
  const card = hook.json.cards[0];
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
    expect(ticks.every((t) => /^-?\d+(\.\d+)?$/.test(t))).toBe(true);
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
