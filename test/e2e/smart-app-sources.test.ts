// The SMART app shows every guideline source of a pharmacogenomic recommendation (issue 19 scope 2), in a real
// browser against the real service, FHIR and OAuth2 servers: the leading source's label (a DPWG-only record never
// says "CPIC"), each source's row with its strength (DPWG: not graded), finding, text and guideline, and the
// disagreement line.
// Sources: ../shared/data/dpwg/DPWG_voriconazole_and_CYP2C19.json (PA166299276, Poor Metabolizer: "Use 50% of the
// standard dose and monitor the plasma concentration.") against the CPIC voriconazole row PA166298819 (Moderate,
// "Choose an alternative agent …"); DPWG_metoprolol_and_CYP2D6.json (PA166302521, activity score 0.0: two "- " items);
// DPWG_efavirenz_and_CYP2B6.json (PA166299102, Poor Metabolizer: three lines, two starting "*Efavirenz", as kept in
// knowledge/dpwg-recommendations.json).
import { readFileSync } from 'node:fs';
import type { MedicationRequest } from 'fhir/r4';
import type { Page } from 'playwright-core';
import { checkCdsResponse } from '../../src/cds/protocol.js';
import { patient, pharmvarGenotype } from '../fixtures/synthetic-patients.js';
import { startSmartBrowser, type SmartBrowser } from '../support/smart-browser.js';

const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
let sb: SmartBrowser;

const seed = [
  patient('src-vori', '1976-08-08', 'female'),
  pharmvarGenotype('src-vori-2c19', 'src-vori', 'HGNC:2621', 'CYP2C19', '*2/*2', '2025-02-02'),
  patient('src-meto', '1961-03-03', 'male'),
  pharmvarGenotype('src-meto-2d6', 'src-meto', 'HGNC:2625', 'CYP2D6', '*4/*4', '2024-05-01'),
  patient('src-efv', '1985-05-05', 'male'),
  pharmvarGenotype('src-efv-2b6', 'src-efv', 'HGNC:2615', 'CYP2B6', '*6/*6', '2025-03-03'),
];

beforeAll(async () => {
  sb = await startSmartBrowser();
  await sb.env.fhir.seed(seed);
}, 60000);
afterAll(async () => {
  await sb?.close();
});

const unexpected = (b: SmartBrowser) => b.violations.filter((v) => !/Failed to load resource/.test(v));

function draft(id: string, patientId: string, code: string, display: string, doseMg: number): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id,
    status: 'draft',
    intent: 'order',
    subject: { reference: `Patient/${patientId}` },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code, display }], text: display },
    dosageInstruction: [{ text: `${doseMg} mg twice daily`, timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: doseMg, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] }],
  } as MedicationRequest;
}

/** The card's SMART link opened as an EHR would, at the given width, up to the Genes section. */
async function open(b: SmartBrowser, patientId: string, mr: MedicationRequest, width: number): Promise<Page> {
  const hook = await b.env.orderSelect(patientId, mr);
  expect(hook.status).toBe(200);
  expect(checkCdsResponse(hook.json)).toEqual([]);
  expect(hook.json.cards).toHaveLength(1);
  const page = await b.newPage(width);
  await page.goto(b.launchUrl(hook.json.cards[0].links[0], patientId));
  await page.waitForSelector('[data-testid=gene-recommendation]', { timeout: 15000 });
  return page;
}

/** Each source row as shown: source, leads mark, strength, finding, text, guideline line and link. */
async function rows(page: Page) {
  return page.locator('[data-testid=source-row]').evaluateAll((els) =>
    els.map((e) => ({
      source: e.getAttribute('data-source'),
      name: e.querySelector('[data-testid=source-name]')?.textContent,
      leads: e.querySelector('[data-testid=leads]')?.textContent ?? null,
      strength: e.querySelector('[data-testid=source-strength]')?.textContent,
      finding: e.querySelector('[data-testid=source-finding]')?.textContent,
      text: e.querySelector('[data-testid=source-text]')?.textContent,
      guideline: e.querySelector('.source-guideline')?.textContent,
      href: e.querySelector('.source-guideline a')?.getAttribute('href'),
    })),
  );
}

const VORI_CPIC = /^Choose an alternative agent that is not dependent on CYP2C19 metabolism as primary therapy in lieu of voriconazole\. .*Other considerations: Further dose adjustments/;
const VORI_DPWG = 'Use 50% of the standard dose and monitor the plasma concentration.';
const DISAGREE = 'Guideline sources disagree. CPIC: choose an alternative; DPWG: adjust the dose — the sources disagree; the suggestion follows CPIC (configuration pgx.sources).';

test('voriconazole, CYP2C19 *2/*2: both rows (CPIC leads by default, Moderate; DPWG not graded, 50%), the disagreement line first', async () => {
  for (const width of [1024, 400]) {
    const page = await open(sb, 'src-vori', draft(`vori-${width}`, 'src-vori', '121243', 'voriconazole 200 MG Oral Tablet', 200), width);
    const rec = page.locator('[data-testid=gene-recommendation]');
    const sources = rec.locator('[data-testid=sources]');
    // the disagreement line is the first thing of the sources block, and visible
    await expect(sources.locator(':scope > *').first().getAttribute('data-testid')).resolves.toBe('source-disagreement');
    await expect(sources.locator('[data-testid=source-disagreement]').textContent()).resolves.toBe(DISAGREE);
    await expect(sources.locator('[data-testid=source-disagreement]').isVisible()).resolves.toBe(true);
    const shown = await rows(page);
    expect(shown).toHaveLength(2);
    const [cpic, dpwg] = shown;
    expect(cpic).toMatchObject({ source: 'CPIC', name: 'CPIC', leads: 'leads', strength: 'Moderate', finding: ' · CYP2C19 Poor Metabolizer', href: 'https://cpicpgx.org/guidelines/guideline-for-voriconazole-and-cyp2c19/' });
    expect(cpic!.text).toMatch(VORI_CPIC);
    expect(cpic!.guideline).toBe('CYP2C19 and Voriconazole (CPIC recommendations via PharmCAT, data version 2024-03-25-16-13) · row PA166298819 · guideline');
    expect(dpwg).toMatchObject({ source: 'DPWG', name: 'DPWG', leads: null, strength: 'not graded', finding: ' · CYP2C19 Poor Metabolizer', text: VORI_DPWG, href: 'https://www.pharmgkb.org/guidelineAnnotation/PA166104990' });
    // the row heads read "CPIC: Moderate leads" and "DPWG: not graded"
    await expect(page.locator('[data-testid=source-row] .source-head').allTextContents()).resolves.toEqual(['CPIC: Moderate leads · CYP2C19 Poor Metabolizer', 'DPWG: not graded · CYP2C19 Poor Metabolizer']);
    expect(dpwg!.guideline).toBe('DPWG Guideline for voriconazole and CYP2C19 (DPWG guideline version 28 via PharmCAT, data date 2024-03-25) · row PA166299276 · guideline');
    // one leading row; no single-source "CPIC: …" label beside the rows; DPWG's attribution said
    await expect(rec.locator('[data-testid=rec-source]').count()).resolves.toBe(0);
    await expect(rec.locator('[data-testid=dpwg-note]').textContent()).resolves.toMatch(/Dutch practice and need clinical review/);
    await expect(page.textContent('main')).resolves.not.toMatch(/\bN\/A\b/);
    await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(width);
    await sb.shoot(page, `smart-sources-voriconazole-${width}px`, ['genes']);
    await page.close();
  }
  expect(unexpected(sb)).toEqual([]);
}, 60000);

test('metoprolol (DPWG only), CYP2D6 *4/*4: "DPWG: not graded", its "- " items as a list, the DPWG guideline; no "CPIC" anywhere', async () => {
  const page = await open(sb, 'src-meto', draft('meto-1', 'src-meto', '6918', 'metoprolol tartrate 50 MG Oral Tablet', 50), 400);
  const rec = page.locator('[data-testid=gene-recommendation]');
  await expect(rec.locator('[data-testid=rec-source]').textContent()).resolves.toBe('DPWG: not graded');
  await expect(rec.locator('[data-testid=sources]').count()).resolves.toBe(0); // one source: no rows table
  const text = rec.locator('[data-testid=rec-text]');
  // the DPWG text's lines: two headings as paragraphs, each followed by its "- " item as a list item
  await expect(text.locator(':scope > *').evaluateAll((els) => els.map((e) => [e.tagName, e.textContent]))).resolves.toEqual([
    ['P', 'If a GRADUAL REDUCTION in HEART RATE is desired, or in the event of SYMPTOMATIC BRADYCARDIA:'],
    ['UL', 'Use smaller steps in dose titration and/or prescribe no more than 25% of the standard dose.'],
    ['P', 'OTHER CASES:'],
    ['UL', 'No action required.'],
  ]);
  await expect(text.locator('ul > li').count()).resolves.toBe(2);
  await expect(text.textContent()).resolves.not.toMatch(/^- |\n- /);
  const line = await rec.locator('p', { has: page.locator('[data-testid=rec-source]') }).textContent();
  expect(line).toBe('DPWG: not graded · DPWG Guideline for metoprolol and CYP2D6 (DPWG guideline version 35 via PharmCAT, data date 2024-03-25) · row PA166302521 · guideline');
  await expect(rec.locator('a').getAttribute('href')).resolves.toBe('https://www.pharmgkb.org/guidelineAnnotation/PA166104995');
  await expect(page.textContent('main')).resolves.not.toContain('CPIC');
  await expect(page.textContent('main')).resolves.not.toMatch(/\bN\/A\b/);
  await expect(page.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(400);
  await sb.shoot(page, 'smart-sources-metoprolol-400px', ['genes']);
  await page.close();
  expect(unexpected(sb)).toEqual([]);
}, 60000);

test('efavirenz, CYP2B6 *6/*6: the DPWG row\'s text whole, its "*Efavirenz …" lines as plain paragraphs (no list, no emphasis)', async () => {
  const dpwg = JSON.parse(readFileSync('knowledge/dpwg-recommendations.json', 'utf8')) as { recommendations: { id: string; text: number }[]; texts: string[] };
  const text = dpwg.texts[dpwg.recommendations.find((r) => r.id === 'PA166299102')!.text]!;
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  expect(lines.filter((l) => l.startsWith('*Efavirenz'))).toHaveLength(2);
  const page = await open(sb, 'src-efv', draft('efv-1', 'src-efv', '195085', 'efavirenz 600 MG Oral Tablet', 600), 400);
  const row = page.locator('[data-testid=source-row][data-source=DPWG] [data-testid=source-text]');
  await expect(row.locator(':scope > *').evaluateAll((els) => els.map((e) => [e.tagName, e.textContent]))).resolves.toEqual(lines.map((l) => ['P', l.replace(/\s+/g, ' ')]));
  await expect(row.locator('ul, li, em, strong').count()).resolves.toBe(0);
  await expect(page.locator('[data-testid=source-row][data-source=CPIC] [data-testid=leads]').count()).resolves.toBe(1);
  await expect(page.locator('[data-testid=source-disagreement]').count()).resolves.toBe(0); // both adjust the dose
  await page.close();
  expect(unexpected(sb)).toEqual([]);
}, 60000);

test('voriconazole with pgx.sources ["dpwg", "cpic"]: the DPWG row leads and the disagreement line says the suggestion follows DPWG', async () => {
  const dpwgFirst = await startSmartBrowser({ overrides: { 'pgx.sources': ['dpwg', 'cpic'] } });
  try {
    await dpwgFirst.env.fhir.seed(seed);
    const page = await open(dpwgFirst, 'src-vori', draft('vori-d', 'src-vori', '121243', 'voriconazole 200 MG Oral Tablet', 200), 400);
    const shown = await rows(page);
    expect(shown.map((r) => [r.source, r.leads, r.strength])).toEqual([
      ['DPWG', 'leads', 'not graded'],
      ['CPIC', null, 'Moderate'],
    ]);
    await expect(page.textContent('[data-testid=source-disagreement]')).resolves.toBe('Guideline sources disagree. DPWG: adjust the dose; CPIC: choose an alternative — the sources disagree; the suggestion follows DPWG (configuration pgx.sources).');
    await page.close();
    expect(unexpected(dpwgFirst)).toEqual([]);
  } finally {
    await dpwgFirst.close();
  }
}, 90000);
