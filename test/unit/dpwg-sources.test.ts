// CPIC and DPWG side by side: which row leads (config pgx.sources), the one-line disagreement, DPWG-only drugs, no card
// when both say no action, DPWG's own forms (VKORC1, exact diplotype rows, CYP3A4 not interpretable), and the cards.
// Sources: knowledge/pgx-recommendations.json (CPIC rows, via PharmCAT) and ../shared/data/dpwg/DPWG_*.json (row ids
// named in each case); the README of ../shared/data/dpwg for the voriconazole disagreement.
import { randomUUID } from 'node:crypto';
import type { MedicationRequest } from 'fhir/r4';
import { CardTemplates, renderCard, type RenderContext } from '../../src/cards/render.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import type { GeneResult, PatientFacts } from '../../src/domain/facts.js';
import type { DraftOrder } from '../../src/domain/order.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { evaluateDpwg } from '../../src/dosing/pgx/dpwg.js';
import { DEFAULT_PGX_SETTINGS, evaluatePgx } from '../../src/dosing/pgx/evaluator.js';
import { combineSources, type PgxSource } from '../../src/dosing/pgx/sources.js';
import { loadDpwgKnowledge } from '../../src/knowledge/dpwg.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';

const k = loadPgxKnowledge();
const dk = loadDpwgKnowledge(undefined, k);
const ctx: RenderContext = { templates: CardTemplates.load(), newId: () => randomUUID() };
const NOW = new Date('2026-11-25T12:00:00Z');
const src = (ref: string) => ({ reference: ref, date: '2025-06-01' });

function gene(g: string, r: Partial<GeneResult>): GeneResult {
  return { gene: g, text: `${g} ${r.diplotype ?? r.phenotype ?? ''}`, source: src(`Observation/${g}`), ...r };
}
function facts(genes: GeneResult[]): PatientFacts {
  return { patientId: 'p1', genes, medications: [], conditions: [], unavailable: [], notes: [], ageYears: { value: 50, source: src('Patient/p1') } } as PatientFacts;
}
function draft(drug: string, doseMg?: number): DraftOrder {
  const resource = {
    resourceType: 'MedicationRequest',
    id: 'd1',
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { text: drug },
    ...(doseMg ? { dosageInstruction: [{ doseAndRate: [{ doseQuantity: { value: doseMg, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] }] } : {}),
  } as MedicationRequest;
  return { ref: 'MedicationRequest/d1', resource, drugs: [], ...(doseMg ? { currentDose: { value: doseMg, unit: 'mg' } } : {}) } as DraftOrder;
}

function evaluate(drug: string, genes: GeneResult[], order: readonly PgxSource[] = ['cpic', 'dpwg'], doseMg?: number): Recommendation[] {
  const f = facts(genes);
  const o = { settings: { ...DEFAULT_PGX_SETTINGS, sources: [...order] }, newId: () => randomUUID(), now: NOW };
  const d = draft(drug, doseMg);
  const rx = k.drugs[drug]?.rxcui ?? dk.file.drugs[drug]?.rxcui ?? '';
  const by: Partial<Record<PgxSource, Recommendation[]>> = {};
  if (order.includes('cpic') && k.drugs[drug]) by.cpic = evaluatePgx(k, f, d, { ingredient: drug, rxcui: rx }, [], o);
  if (order.includes('dpwg') && dk.byDrug.has(drug)) by.dpwg = evaluateDpwg(dk, f, d, { ingredient: drug, rxcui: rx }, [], o);
  return combineSources(by, order);
}
const cardOf = (r: Recommendation | undefined, doseMg?: number) => (r ? renderCard(r, draft(r.drug.name, doseMg), ctx)?.card : undefined);

describe('voriconazole, CYP2C19 *2/*2 (Poor Metabolizer): CPIC "choose an alternative", DPWG PA166299276 "use 50% of the standard dose"', () => {
  const genes = [gene('CYP2C19', { diplotype: '*2/*2' })];
  test('CPIC leads (default): both rows on the record, one disagreement line, the CPIC suggestion', () => {
    const [r, ...rest] = evaluate('voriconazole', genes);
    expect(rest).toEqual([]);
    expect(r!.pgx!.action).toBe('alternative');
    expect(r!.pgx!.source).toBeUndefined();
    expect(r!.pgx!.sources!.map((s) => [s.source, s.leading, s.action, s.strength])).toEqual([
      ['CPIC', true, 'alternative', 'Moderate'],
      ['DPWG', false, 'dose', 'N/A'],
    ]);
    expect(r!.pgx!.sources![1]!.recommendationText).toBe('Use 50% of the standard dose and monitor the plasma concentration.');
    expect(r!.pgx!.sources![1]!.recommendationId).toBe('PA166299276');
    expect(r!.pgx!.sources![1]!.guideline).toEqual({ id: 'PA166104990', name: 'DPWG Guideline for voriconazole and CYP2C19', url: 'https://www.pharmgkb.org/guidelineAnnotation/PA166104990', version: 'DPWG guideline version 28 via PharmCAT, data date 2024-03-25', dataDate: '2024-03-25' });
    expect(r!.pgx!.sourceDisagreement).toBe('CPIC: choose an alternative; DPWG: adjust the dose — the sources disagree; the suggestion follows CPIC (configuration pgx.sources).');
    const c = cardOf(r, 200)!;
    expect(c.summary).toBe('Voriconazole: CYP2C19 Poor Metabolizer — consider an alternative (CPIC Moderate)');
    expect(c.detail).toContain('**Guideline sources disagree.** CPIC: choose an alternative; DPWG: adjust the dose');
    expect(c.detail).toContain('| DPWG | Use 50% of the standard dose and monitor the plasma concentration. | N/A | [DPWG Guideline for voriconazole and CYP2C19](https://www.pharmgkb.org/guidelineAnnotation/PA166104990) — DPWG guideline version 28 via PharmCAT, data date 2024-03-25 |');
    expect(c.detail).toMatch(/\| CPIC \(leads\) \| shown above \| Moderate \| \[/);
    expect(c.detail).toContain('DPWG recommendation PA166299276 (Dutch Pharmacogenetics Working Group, KNMP');
    expect(c.detail).toMatch(/CPIC recommendation PA\d+\. CPIC content is CC0/);
    expect((c.suggestions ?? []).some((s) => /Reduce/.test(s.label))).toBe(false);
  });
  test('DPWG leads (pgx.sources dpwg,cpic): the DPWG 50% dose is the suggestion, CPIC shown beside it', () => {
    const [r] = evaluate('voriconazole', genes, ['dpwg', 'cpic'], 200);
    expect(r!.pgx!.action).toBe('dose');
    expect(r!.pgx!.source).toBe('DPWG');
    expect(r!.doseAdjustment).toMatchObject({ factor: 0.5, from: { value: 200, unit: 'mg' }, to: { value: 100, unit: 'mg' } });
    expect(r!.pgx!.sourceDisagreement).toBe('DPWG: adjust the dose; CPIC: choose an alternative — the sources disagree; the suggestion follows DPWG (configuration pgx.sources).');
    const c = cardOf(r, 200)!;
    expect(c.summary).toBe('Voriconazole: CYP2C19 Poor Metabolizer — reduce the dose by 50% (DPWG)');
    expect(c.detail).toContain('DPWG recommendation for voriconazole (strength: **N/A** — DPWG does not grade its recommendations):');
    expect(c.suggestions!.map((s) => s.label)).toEqual(['Reduce voriconazole to 100 mg per dose']);
  });
  test('CPIC only (pgx.sources cpic): no DPWG row anywhere', () => {
    const [r] = evaluate('voriconazole', genes, ['cpic']);
    expect(r!.pgx!.sources).toBeUndefined();
    expect(r!.pgx!.sourceDisagreement).toBeUndefined();
    expect(cardOf(r)!.detail).not.toContain('DPWG');
  });
});

describe('DPWG-only drugs get a DPWG card', () => {
  test('metoprolol, CYP2D6 *4/*4 (activity score 0.0) → DPWG PA166302521 (no more than 25% of the standard dose when a gradual heart-rate reduction is wanted)', () => {
    const recs = evaluate('metoprolol', [gene('CYP2D6', { diplotype: '*4/*4' })]);
    expect(recs).toHaveLength(1);
    const r = recs[0]!;
    expect(r.guideline!.recommendationId).toBe('PA166302521');
    expect(r.pgx!.source).toBe('DPWG');
    expect(r.pgx!.showCard).toBe(true);
    expect(r.method.id).toBe('dpwg-pgx');
    expect(r.evidence[0]).toEqual({ citation: 'DPWG: DPWG Guideline for metoprolol and CYP2D6, guideline version 35 (PharmGKB PA166104995, data 2024-03-25)', url: 'https://www.pharmgkb.org/guidelineAnnotation/PA166104995', strength: 'N/A' });
    const c = cardOf(r)!;
    expect(c.summary).toBe('Metoprolol: CYP2D6 Poor Metabolizer (activity score 0.0) — adjust the dose (DPWG)');
    expect(c.detail).toContain('- Use smaller steps in dose titration and/or prescribe no more than 25% of the standard dose.');
    expect(c.detail).toContain('| CYP2D6 | \\*4/\\*4 | Poor Metabolizer (activity score 0.0) |');
    expect(c.detail).toContain('Source: [DPWG Guideline for metoprolol and CYP2D6](https://www.pharmgkb.org/guidelineAnnotation/PA166104995) — DPWG guideline version 35 via PharmCAT, data date 2024-03-25.');
    expect(c.detail).not.toMatch(/CPIC/);
  });
  test('metoprolol with pgx.sources cpic → nothing (CPIC has no metoprolol guideline)', () => {
    expect(evaluate('metoprolol', [gene('CYP2D6', { diplotype: '*4/*4' })], ['cpic'])).toEqual([]);
  });
  test.each([
    // [drug, gene result, DPWG row, action]
    ['acenocoumarol', gene('VKORC1', { variant: { rsid: 'rs9923231', genotype: 'A/A', strand: 'gene' }, text: 'VKORC1 -1639 A/A' }), 'PA166299301', 'dose'],
    ['phenytoin', gene('CYP2C9', { diplotype: '*2/*2' }), 'PA166299254', 'dose'],
    ['phenytoin', gene('CYP2C9', { diplotype: '*1/*3' }), 'PA166299252', 'dose'],
    ['irinotecan', gene('UGT1A1', { diplotype: '*28/*28' }), 'PA166303201', 'dose'],
    ['haloperidol', gene('CYP2D6', { diplotype: '*4/*4' }), undefined, undefined],
  ])('%s with %j → DPWG row %s', (drug, g, id, action) => {
    const recs = dk.byDrug.get(drug)!.length ? evaluateDpwg(dk, facts([g]), draft(drug), { ingredient: drug, rxcui: '' }, [], { settings: DEFAULT_PGX_SETTINGS, newId: () => randomUUID(), now: NOW }) : [];
    const r = recs.find((x) => x.pgx && x.pgx.action !== 'test' && x.pgx.action !== 'unreadable');
    if (id) {
      expect(r?.guideline?.recommendationId).toBe(id);
      expect(r?.pgx?.action).toBe(action);
    } else expect(r?.pgx?.source).toBe('DPWG');
  });
  test('phenytoin CYP2C9 *2/*2: the exact-genotype row (50%) is used, not the Intermediate Metabolizer row (75%), and the card says so', () => {
    const recs = evaluateDpwg(dk, facts([gene('CYP2C9', { diplotype: '*2/*2' })]), draft('phenytoin'), { ingredient: 'phenytoin', rxcui: '8183' }, [], { settings: DEFAULT_PGX_SETTINGS, newId: () => randomUUID(), now: NOW });
    const r = recs.find((x) => x.guideline?.recommendationId === 'PA166299254')!;
    expect(r.doseAdjustment?.factor).toBe(0.5);
    expect(r.notes.join(' ')).toContain('DPWG has a recommendation for CYP2C9 *2/*2 itself; it is used instead of the Intermediate Metabolizer row');
  });
  test('quetiapine with a CYP3A4 result: not interpretable (no CYP3A4 phenotype table), said on a card, never guessed', () => {
    const recs = evaluate('quetiapine', [gene('CYP3A4', { diplotype: '*1/*22' })]);
    expect(recs.map((r) => r.pgx!.action)).toEqual(['unreadable']);
    const c = cardOf(recs[0])!;
    expect(c.summary).toBe('Quetiapine: a CYP3A4 result is on file but could not be interpreted — review it before prescribing');
    expect(c.detail).toContain('no phenotype table in ../shared/data/cpic');
    expect(c.detail).toContain("DPWG's recommendations for quetiapine depend on **CYP3A4**");
    expect(c.detail).not.toContain('no CPIC table');
    // no CYP3A4 result: nothing to say (DPWG rows carry no test suggestion)
    expect(evaluate('quetiapine', [])).toEqual([]);
  });
});

describe('no card when both say no action; agreement is not a disagreement', () => {
  test('clopidogrel, CYP2C19 *1/*1: CPIC standard dosing, DPWG PA166299210 "no recommendation" → kept for the SMART app, no card', () => {
    const [r, ...rest] = evaluate('clopidogrel', [gene('CYP2C19', { diplotype: '*1/*1' })]);
    expect(rest).toEqual([]);
    expect(r!.pgx!.sources!.map((s) => [s.source, s.action])).toEqual([
      ['CPIC', 'standard'],
      ['DPWG', 'none'],
    ]);
    expect(r!.pgx!.sourceDisagreement).toBeUndefined();
    expect(r!.pgx!.showCard).toBe(false);
    expect(cardOf(r)).toBeUndefined();
  });
  test('codeine, CYP2D6 *4/*4: CPIC avoid, DPWG PA166302161 choose an alternative → same direction, no disagreement line', () => {
    const [r] = evaluate('codeine', [gene('CYP2D6', { diplotype: '*4/*4' })]);
    expect(r!.pgx!.sources!.map((s) => [s.source, s.action, s.recommendationId.startsWith('PA')])).toEqual([
      ['CPIC', 'avoid', true],
      ['DPWG', 'alternative', true],
    ]);
    expect(r!.pgx!.sourceDisagreement).toBeUndefined();
    expect(cardOf(r)!.detail).not.toContain('Guideline sources disagree');
  });
});

describe('configuration pgx.sources (env PGX_SOURCES)', () => {
  test.each([
    ['cpic,dpwg', ['cpic', 'dpwg']],
    ['dpwg, cpic', ['dpwg', 'cpic']],
    ['dpwg', ['dpwg']],
  ])('PGX_SOURCES=%s → %j', (v, expected) => {
    expect(loadConfig({ PGX_SOURCES: v }).pgx.sources).toEqual(expected);
  });
  test('default config: absent (both, CPIC first)', () => {
    expect(loadConfig({}).pgx.sources).toBeUndefined();
  });
  test.each(['fda', 'cpic,cpic'])('PGX_SOURCES=%s is refused with the variable named', (v) => {
    expect(() => loadConfig({ PGX_SOURCES: v })).toThrow(ConfigError);
    expect(() => loadConfig({ PGX_SOURCES: v })).toThrow(/pgx\.sources.*PGX_SOURCES/);
  });
});

describe('DPWG text on a card is Markdown-escaped (literal()), list items kept as a list', () => {
  test('efavirenz, CYP2B6 *6/*6 (Poor Metabolizer), DPWG leading: "*Efavirenz in MONOpreparation" keeps its asterisk as text', () => {
    const [r] = evaluate('efavirenz', [gene('CYP2B6', { diplotype: '*6/*6' })], ['dpwg', 'cpic']);
    expect(r!.guideline!.recommendationId).toBe('PA166299102');
    const c = cardOf(r)!;
    expect(c.detail).toContain('\\*Efavirenz in MONOpreparation, children LIGHTER THAN 40 KG');
    expect(c.detail).not.toMatch(/(^|[^\\])\*Efavirenz/);
  });
  test.each([
    ['1. Start', '1\\. Start'],
    ['# heading', '\\# heading'],
    ['-1639 AA', '\\-1639 AA'],
    ['= equals', '\\= equals'],
    ['+ plus', '\\+ plus'],
  ])('a DPWG line starting with %j is shown as text: %j', (line, shown) => {
    const base = evaluate('metoprolol', [gene('CYP2D6', { diplotype: '*4/*4' })])[0]!;
    const r = { ...base, pgx: { ...base.pgx!, recommendationText: `Intro\n${line}` } };
    expect(cardOf(r)!.detail).toContain(`\n\n${shown}\n\n`);
  });
});

describe('a drug with two DPWG guidelines (one per gene)', () => {
  test('clomipramine, CYP2D6 *4/*4 + CYP2C19 *1/*1, DPWG only: the CYP2D6 row (asks for a change) leads, the CYP2C19 "no recommendation" row is beside it', () => {
    const recs = evaluate('clomipramine', [gene('CYP2D6', { diplotype: '*4/*4' }), gene('CYP2C19', { diplotype: '*1/*1' })], ['dpwg']);
    expect(recs).toHaveLength(1);
    const r = recs[0]!;
    const rows = r.pgx!.sources!.map((s) => [s.source, s.guideline.name, s.action]);
    expect(rows[0]).toEqual(['DPWG', 'DPWG Guideline for clomipramine and CYP2D6', r.pgx!.action]);
    expect(rows[1]).toEqual(['DPWG', 'DPWG Guideline for clomipramine and CYP2C19', 'none']);
    expect(['avoid', 'alternative', 'dose']).toContain(r.pgx!.action);
    expect(r.pgx!.showCard).toBe(true);
    // two genes of one source are not a disagreement between sources
    expect(r.pgx!.sourceDisagreement).toBeUndefined();
  });
});
