// The SMART app's glucose plot for a basal insulin titration (issue 18 item 5), in a real browser (Chromium) against
// the real service, FHIR and OAuth2 servers: a week of CGM readings (HL7 CGM IG sensor readings, test/fixtures/cgm.ts)
// on a glargine draft → the fasting value per day as points, the 80–130 mg/dL goal shaded (ADA Standards of Care
// section 6), the 70 and 54 mg/dL lines and the lows (Battelino 2019), the step in words (ADA section 9: +2 units
// without hypoglycaemia; −20% for a level 2 low), the time below range against < 4% / < 1%, the mmol/L value as sent,
// and the same numbers as a table equal to what the recommendation API served. A titration refused for sparse data
// shows the reason, not an empty plot.
import type { FhirResource } from 'fhir/r4';
import type { Page } from 'playwright-core';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { basalOrder, cgmTrace, device, utcTraceFor, withTimeZone } from '../fixtures/cgm.js';
import { patient } from '../fixtures/synthetic-patients.js';
import { startSmartBrowser, type SmartBrowser } from '../support/smart-browser.js';

let sb: SmartBrowser;
const now = new Date();
const TODAY = now.toISOString().slice(0, 10);
const week = (p: string, fasting: number, o: Partial<Parameters<typeof cgmTrace>[2]> = {}) =>
  cgmTrace(`${p}-g`, p, { fasting: Array(7).fill(fasting), lastDate: TODAY, until: now, intervalMin: 60, other: 160, offset: '-05:00', ...o });

/**
 * - glu-raise: CGM (Dexcom G7) in mmol/L (LOINC 105272-9), fasting 9.2 mmol/L (165.7 mg/dL) every day → raise 20 → 22
 * - glu-low:   CGM in mg/dL, fasting 150, a level 2 low (50, 48 mg/dL for 2 h) yesterday at 02:00 → lower 20%: 16
 * - glu-sparse: two days of readings → fewer than 3 fasting values → refused
 * - glu-tz:    readings sent in UTC, 172 mg/dL 04:00–08:00 Chicago time (120 otherwise), the Patient's FHIR timezone
 *              extension America/Chicago → the fasting values at 04:00 Chicago time → raise
 */
const resources = (): FhirResource[] => [
  patient('glu-raise', '1964-04-04', 'female'),
  device('glu-raise-cgm', 'glu-raise', 'Continuous glucose monitor', 'Dexcom G7'),
  ...week('glu-raise', 165, { unit: 'mmol/L', device: 'glu-raise-cgm' }),
  patient('glu-low', '1950-02-02', 'male'),
  ...week('glu-low', 150, { lows: [{ day: 5, at: '02:00', values: [50, 48] }] }),
  patient('glu-sparse', '1970-07-07', 'female'),
  ...cgmTrace('glu-sparse-g', 'glu-sparse', { fasting: [170, 170], lastDate: TODAY, until: now, intervalMin: 60, other: 160, offset: '-05:00' }),
  withTimeZone(patient('glu-tz', '1961-01-01', 'male'), 'America/Chicago'),
  ...utcTraceFor('glu-tz-g', 'glu-tz', 'America/Chicago', { fasting: 172, other: 120, days: 7, until: now }),
];

beforeAll(async () => {
  sb = await startSmartBrowser({ timezoneId: 'America/New_York', locale: 'en-US' });
  await sb.env.fhir.seed(resources());
}, 60000);
afterAll(async () => {
  await sb?.close();
});
const unexpected = () => sb.violations.filter((v) => !/Failed to load resource/.test(v));

/** Opens the card's link; returns the page and the recommendation the app received from the API. */
async function open(patientId: string, width: number): Promise<{ page: Page; rec: Recommendation }> {
  const hook = await sb.env.orderSelect(patientId, basalOrder(`${patientId}-o`, patientId, 20, { status: 'draft' }));
  expect(hook.status).toBe(200);
  expect(checkCdsResponse(hook.json)).toEqual([]);
  const card = hook.json.cards[0];
  const page = await sb.newPage(width);
  const served = page.waitForResponse((r) => /\/api\/recommendations\/[0-9a-f-]{36}$/.test(r.url()) && r.status() === 200);
  await page.goto(sb.launchUrl(card.links[0], patientId));
  const rec = ((await (await served).json()) as { recommendation: Recommendation }).recommendation;
  await page.waitForSelector('.glucose-section', { timeout: 15000 });
  return { page, rec };
}

/** The plot's value axis: ticks' data-value and y; value → y. */
async function valueAxis(page: Page) {
  const ticks = await page.locator('figure.glucose-plot svg text.tick:not(.date-tick)').evaluateAll((ts) => ts.map((t) => ({ v: Number(t.getAttribute('data-value')), text: t.textContent ?? '', y: Number(t.getAttribute('y')) - 4 })));
  const [a, b] = [ticks[0]!, ticks[ticks.length - 1]!];
  return { ticks, yOf: (v: number) => a.y + ((v - a.v) / (b.v - a.v)) * (b.y - a.y) };
}

test('a week of CGM in mmol/L above the goal: fasting points per day, goal band, 70/54 lines, "Raise 20 → 22 units", TBR against its targets, mmol/L as sent; the table equals the API', async () => {
  for (const width of [1024, 400]) {
    const { page, rec } = await open('glu-raise', width);
    const d = rec.insulin!;
    expect(d.step).toBe('raise');
    expect(d.fasting.length).toBe(3); // the days of the 3-day look-back with a fasting value
    // the plot: one point per fasting day, at the value the API gave, where the axis puts it
    const axis = await valueAxis(page);
    expect(axis.ticks.at(-1)!.text).toMatch(/^\d+ mg\/dL$/);
    const points = await page.locator('figure.glucose-plot svg.chart circle.mark.fasting').evaluateAll((cs) => cs.map((c) => ({ mg: c.getAttribute('data-mgdl'), date: c.getAttribute('data-date'), cy: Number(c.getAttribute('cy')), title: c.querySelector('title')?.textContent ?? '' })));
    expect(points.map((p) => [p.date, p.mg])).toEqual(d.fasting.map((f) => [f.localDate, String(Math.round(f.mgDl))]));
    for (const p of points) {
      expect(Math.abs(p.cy - axis.yOf(Number(p.mg)))).toBeLessThan(1.5);
      expect(p.title).toMatch(/\(sent as 9\.2 mmol\/L\)$/);
    }
    // the date axis: one tick per fasting value, its local date
    await expect(page.locator('figure.glucose-plot text.date-tick').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-value')))).resolves.toEqual(d.fasting.map((f) => f.localDate));
    // the goal band from 80 to 130 mg/dL, the 70 and 54 lines where the axis says
    const band = page.locator('figure.glucose-plot svg.chart rect.target');
    await expect(band.getAttribute('data-low')).resolves.toBe('80');
    await expect(band.getAttribute('data-high')).resolves.toBe('130');
    const bandY = Number(await band.getAttribute('y'));
    const bandH = Number(await band.getAttribute('height'));
    expect(Math.abs(bandY - axis.yOf(130))).toBeLessThan(1);
    expect(Math.abs(bandY + bandH - axis.yOf(80))).toBeLessThan(1);
    for (const v of [70, 54]) expect(Math.abs(Number(await page.locator(`figure.glucose-plot svg.chart line.threshold[data-value="${v}"]`).getAttribute('y1')) - axis.yOf(v))).toBeLessThan(1);
    await expect(page.locator('figure.glucose-plot svg.chart .mark.low').count()).resolves.toBe(0);
    // accessible: an SVG with a title and a description naming the values
    const svg = page.locator('figure.glucose-plot svg.chart');
    await expect(svg.getAttribute('role')).resolves.toBe('img');
    await expect(svg.locator('title').first().textContent()).resolves.toBe('Fasting glucose per day (mg/dL), target 80–130 mg/dL');
    await expect(svg.locator('desc').textContent()).resolves.toContain(`3 fasting values: ${d.fasting.map((f) => `${f.localDate} ${Math.round(f.mgDl)} mg/dL`).join(', ')}`);
    // the step in words, the dose
    await expect(page.textContent('[data-testid=glucose-step]')).resolves.toBe(`Raise 20 → 22 units: mean fasting ${Math.round(d.meanFastingMgDl)} mg/dL above 80–130 mg/dL with no low.`);
    await expect(page.textContent('[data-testid=dose]')).resolves.toMatch(/^22 U once daily/);
    // TBR against the consensus targets, the API's figures
    const tbr = await page.textContent('[data-testid=tbr]');
    expect(tbr).toContain(`${d.tbr!.below70}% below 70 mg/dL — consensus target < 4% (target met)`);
    expect(tbr).toContain(`${d.tbr!.below54}% below 54 mg/dL — consensus target < 1% (target met)`);
    expect(tbr).toContain(`${d.tbr!.readings} readings`);
    // the table: the same numbers as the API, the mmol/L as sent, the device
    const rows = await page.locator('[data-testid=glucose-table] tr[data-testid=fasting-row]').evaluateAll((rs) => rs.map((r) => ({ date: r.getAttribute('data-date'), time: r.querySelector('td.time')!.textContent, mg: r.querySelector('td.value')!.getAttribute('data-mgdl'), sent: r.querySelector('td.sent')!.textContent, source: r.querySelector('td.source')!.textContent })));
    expect(rows).toEqual(d.fasting.map((f) => ({ date: f.localDate, time: f.localTime, mg: String(Math.round(f.mgDl)), sent: `sent as ${f.sent.value} mmol/L`, source: `${f.source.reference} (CGM (Dexcom G7))` })));
    await expect(page.textContent('[data-testid=mean-fasting]')).resolves.toBe(`${Math.round(d.meanFastingMgDl)} mg/dL`);
    await expect(page.textContent('[data-testid=glucose-zone]')).resolves.toMatch(/^Local times as each reading's device recorded them/);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(width);
    await sb.shoot(page, `smart-glucose-raise-${width}px`, ['glucose', 'inputs']);
    await page.close();
  }
  expect(unexpected()).toEqual([]);
}, 90000);

test('a level 2 low last night: the low marked on the plot and in the table, "Lower 20 → 16 units"', async () => {
  const { page, rec } = await open('glu-low', 400);
  const d = rec.insulin!;
  expect(d.step).toBe('lower');
  expect(d.lows.length).toBeGreaterThan(0);
  const lows = await page.locator('figure.glucose-plot svg.chart path.mark.low').evaluateAll((ps) => ps.map((p) => ({ cls: p.getAttribute('class'), mg: p.getAttribute('data-mgdl') })));
  expect(lows).toEqual(d.lows.map((l) => ({ cls: `mark low level${l.level}`, mg: String(Math.round(l.lowestMgDl)) })));
  expect(lows.some((l) => l.cls === 'mark low level2' && l.mg === '48')).toBe(true);
  await expect(page.locator('figure.glucose-plot svg.chart circle.mark.fasting').count()).resolves.toBe(d.fasting.length);
  // one night's low (50, 48 mg/dL for 2 h): one episode below 70 and the same one below 54 (Battelino 2019 levels)
  expect(d.lows.map((l) => l.level).sort()).toEqual([1, 2]);
  await expect(page.textContent('[data-testid=glucose-step]')).resolves.toBe('Lower 20 → 16 units: hypoglycaemia in the last 3 days — 1 episode below 70 mg/dL, 1 below 54 mg/dL; lowest 48 mg/dL.');
  const lowRows = await page.locator('[data-testid=glucose-table] tr[data-testid=low-row] td.value').evaluateAll((ts) => ts.map((t) => t.getAttribute('data-mgdl')));
  expect(lowRows).toEqual(d.lows.map((l) => String(Math.round(l.lowestMgDl))));
  // the low's time in the offset its readings were sent in (02:00 at UTC−05:00), not the UTC clock
  const lowTimes = await page.locator('[data-testid=glucose-table] tr[data-testid=low-row] td.time').allTextContents();
  for (const t of lowTimes) expect(t).toMatch(/^\d{4}-\d\d-\d\d 02:00 \(UTC−05:00\)$/);
  // a level 2 low is also a level 1 episode; the consensus TBR line says whether the target is met
  await expect(page.textContent('[data-testid=tbr]')).resolves.toContain(`${d.tbr!.below54}% below 54 mg/dL — consensus target < 1% (${d.tbr!.below54 < 1 ? 'target met' : 'target not met'})`);
  await sb.shoot(page, 'smart-glucose-low-400px', ['glucose']);
  await page.close();
  expect(unexpected()).toEqual([]);
}, 60000);

test('too sparse (two days of readings): the reason is shown, no plot', async () => {
  const { page, rec } = await open('glu-sparse', 400);
  expect(rec.kind).toBe('missing-data');
  expect(rec.insulin).toBeUndefined();
  const text = await page.textContent('[data-testid=glucose-refused]');
  expect(text).toBe(`No titration step proposed: ${rec.missing[0]}.`);
  expect(text).toMatch(/only [0-2] fasting glucose value\(s\) .* at least 3 are needed/);
  await expect(page.locator('figure.glucose-plot').count()).resolves.toBe(0);
  await expect(page.locator('[data-testid=glucose-table]').count()).resolves.toBe(0);
  await sb.shoot(page, 'smart-glucose-refused-400px', ['glucose', 'inputs']);
  await page.close();
  expect(unexpected()).toEqual([]);
}, 60000);

test('readings sent in UTC for a patient in America/Chicago: the fasting values at 04:00 Chicago time, the zone named on the plot, beside it and in the inputs', async () => {
  const { page, rec } = await open('glu-tz', 400);
  const d = rec.insulin!;
  expect(d.step).toBe('raise');
  expect(d.timeZone).toMatchObject({ zone: 'America/Chicago', from: 'patient' });
  const times = await page.locator('[data-testid=glucose-table] tr[data-testid=fasting-row] td.time').allTextContents();
  expect(times).toEqual(d.fasting.map(() => '04:00'));
  await expect(page.locator('figure.glucose-plot svg.chart circle.mark.fasting').evaluateAll((cs) => cs.map((c) => c.getAttribute('data-mgdl')))).resolves.toEqual(d.fasting.map(() => '172'));
  await expect(page.textContent('[data-testid=glucose-zone]')).resolves.toMatch(/^Local times: America\/Chicago \(the patient's time zone\) for readings sent in UTC/);
  await expect(page.textContent('figure.glucose-plot svg.chart text.axis-label')).resolves.toBe('date of the fasting reading (MM-DD, America/Chicago)');
  const zoneRow = page.locator('[data-testid=inputs] tbody tr[data-key=timeZone]');
  await expect(zoneRow.locator('td.value').textContent()).resolves.toBe('America/Chicago');
  await expect(zoneRow.locator('td.source').textContent()).resolves.toMatch(/Patient\/glu-tz.*the patient's time zone \(FHIR timezone extension\)/);
  await sb.shoot(page, 'smart-glucose-timezone-400px', ['glucose', 'inputs']);
  await page.close();
  expect(unexpected()).toEqual([]);
}, 60000);
