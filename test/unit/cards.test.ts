// Recommendation → CDS Hooks card (src/cards/render.ts) with the templates in cards/.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { MedicationRequest } from 'fhir/r4';
import fc from 'fast-check';
import { cell, decimal } from '../../src/cards/markdown.js';
import { CardTemplates, fillTemplate, isActionable, renderCard, withProposedDose, type RenderContext } from '../../src/cards/render.js';
import type { DraftOrder } from '../../src/cds/orders.js';
import { checkCdsResponse, findEmptyValues, type Card } from '../../src/cds/protocol.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { GeneResult, PatientFacts } from '../../src/domain/facts.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { DEFAULT_PGX_SETTINGS, evaluatePgx } from '../../src/dosing/pgx/evaluator.js';
import { evaluateWarfarin } from '../../src/dosing/warfarin/evaluator.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
import { loadPopulationWords, populationWords } from '../../src/knowledge/populations.js';
import { nodesOf, visibleText } from '../support/markdown.js';

const UCUM = 'http://unitsofmeasure.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const templates = CardTemplates.load();
const dict = DrugDictionary.load();
const ctx: RenderContext = { templates, newId: () => randomUUID() };

// ---- builders ----
const src = (reference: string, date?: string) => ({ reference, ...(date ? { date } : {}), via: 'prefetch' as const });
function facts(o: { genes?: GeneResult[]; omitHeight?: boolean; weightRef?: string; noteWeight?: boolean } = {}): PatientFacts {
  return {
    patientId: 'p1',
    ageYears: { value: 66, source: src('Patient/p1') },
    ...(o.omitHeight ? {} : { height: { value: { value: 178, unit: 'cm' }, source: src('Observation/ht', '2026-09-15T10:00:00Z') } }),
    weight: { value: { value: 80, unit: 'kg' }, source: src(o.weightRef ?? 'Observation/wt', '2026-09-15') },
    race: { value: 'White', source: src('Patient/p1') },
    genes: o.genes ?? [
      { gene: 'CYP2C9', diplotype: '*1/*3', text: 'CYP2C9 *1/*3', source: src('Observation/cyp', '2025-03-01') },
      { gene: 'VKORC1', variant: { rsid: 'rs9923231', genotype: 'A/G', strand: 'gene' }, text: 'VKORC1 rs9923231 C/T', source: src('Observation/vk', '2025-03-01') },
    ],
    medications: [],
    conditions: [],
    unavailable: [],
    notes: [],
  };
}

/** A draft as an EHR sends it, with fields the suggestion must carry over unchanged. */
function draft(id: string | undefined, doseMg?: number, perDay = 1): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    ...(id ? { id } : {}),
    meta: { versionId: '3' },
    extension: [{ url: 'http://ehr.example.org/fhir/StructureDefinition/order-session', valueString: 'sess-1' }],
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    encounter: { reference: 'Encounter/e1' },
    requester: { reference: 'Practitioner/u1' },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: '855332', display: 'warfarin sodium 5 MG Oral Tablet' }], text: 'warfarin 5 mg tablet' },
    note: [{ text: 'Target INR 2-3; AF' }],
    dispenseRequest: { quantity: { value: 30, unit: 'tablet' }, expectedSupplyDuration: { value: 30, unit: 'days', system: UCUM, code: 'd' } },
    ...(doseMg !== undefined
      ? {
          dosageInstruction: [
            {
              sequence: 1,
              text: `${doseMg} mg`,
              route: { coding: [{ system: 'http://snomed.info/sct', code: '26643006', display: 'Oral route' }] },
              timing: { repeat: { frequency: perDay, period: 1, periodUnit: 'd', boundsPeriod: { start: '2026-11-25' } } },
              doseAndRate: [{ type: { text: 'ordered' }, doseQuantity: { value: doseMg, unit: 'mg', system: UCUM, code: 'mg' } }],
            },
          ],
        }
      : {}),
  };
}
function draftOrder(mr: MedicationRequest, currentDose?: DraftOrder['currentDose']): DraftOrder {
  return { ...(mr.id ? { ref: `MedicationRequest/${mr.id}` } : {}), resource: mr, drugs: [{ ingredient: 'warfarin', rxcui: '11289', matchedBy: 'product-code' }], ...(currentDose ? { currentDose } : {}) };
}
const evaluate = (f: PatientFacts, o: DraftOrder): Recommendation => evaluateWarfarin(f, o, dict, { roundingMgPerDay: 0.5, newId: () => randomUUID() });
const render = (r: Recommendation, o: DraftOrder | undefined): Card => {
  const rc = renderCard(r, o, ctx);
  expect(rc).toBeDefined();
  expect(rc!.recommendationId).toBe(r.id);
  return rc!.card;
};

describe('fillTemplate', () => {
  // Source: CDS Hooks 2.0.1 JSON rule spirit (no empty content) and the card templates' contract in render.ts.
  test.each<[string, string, Record<string, string | undefined>, string]>([
    ['all placeholders filled', 'Dose {{dose}} mg ({{weekly}} mg/wk)', { dose: '5', weekly: '35' }, 'Dose 5 mg (35 mg/wk)'],
    ['line with every placeholder empty is dropped', 'A\n{{x}}\nB', {}, 'A\nB'],
    ['empty string counts as empty', 'A\n- {{x}} / {{y}}\nB', { x: '', y: undefined }, 'A\nB'],
    ['line with one of two placeholders filled is kept', 'A {{x}}{{y}}', { x: '1' }, 'A 1'],
    ['lines without placeholders are kept', 'Title\n\nText', {}, 'Title\n\nText'],
    ['runs of blank lines collapse to one', 'A\n\n{{x}}\n\n\n{{y}}\n\nB', {}, 'A\n\nB'],
    ['leading/trailing blank lines trimmed', '{{x}}\nA\n{{y}}', {}, 'A'],
    ['values are inserted once (no re-expansion of "{{…}}" in data)', 'N: {{x}}', { x: '{{y}}', y: 'secret' }, 'N: {{y}}'],
    ['"$&" in a value is literal', 'V {{x}}', { x: 'a$&b' }, 'V a$&b'],
    ['unknown placeholder next to a filled one → empty string', '{{x}}-{{nope}}', { x: '1' }, '1-'],
  ])('%s', (_n, tpl, vars, out) => {
    expect(fillTemplate(tpl, vars)).toBe(out);
  });
});

describe('renderCard: warfarin dose recommendation', () => {
  // Source: CDS Hooks 2.0.1 Card attributes (uuid, summary < 140 chars, indicator, source.label/url/topic,
  // suggestions with uuid, selectionBehavior, update actions carrying the full resource) — reference/cds-hooks-2.0.md.
  const mr = draft('103', 10);
  const order = draftOrder(mr, { value: 10, unit: 'mg', frequencyPerDay: 1 });
  const r = evaluate(facts(), order);
  const card = render(r, order);

  test('uuid on card and suggestion, distinct', () => {
    expect(card.uuid).toMatch(UUID);
    expect(card.suggestions?.[0]?.uuid).toMatch(UUID);
    expect(card.suggestions![0]!.uuid).not.toBe(card.uuid);
  });
  test('summary is the headline, < 140 chars; indicator from the severity', () => {
    expect(card.summary).toBe(r.headline);
    expect(card.summary.length).toBeLessThan(140);
    expect(card.indicator).toBe('warning'); // 10 mg/day drafted vs ~4–5 mg/day proposed
  });
  test('source label, url and topic', () => {
    expect(card.source.label).toBe('Personalized Dosing Service');
    expect(card.source.url).toBe('https://doi.org/10.1056/NEJMoa0809329');
    expect(card.source.topic).toEqual({ system: 'urn:pgx-dosing-cds:card-topic', code: 'warfarin-dose', display: 'Warfarin personalized starting dose' });
  });
  test('override reasons are Codings with display', () => {
    expect(card.overrideReasons?.length).toBeGreaterThan(0);
    for (const o of card.overrideReasons!) expect(o).toEqual({ system: 'urn:pgx-dosing-cds:override-reason', code: expect.any(String), display: expect.any(String) });
  });
  test('detail Markdown has the inputs table rows with sources', () => {
    const d = card.detail!;
    expect(d).toContain('| Input | Value | Source |');
    expect(d).toContain('| Age | 66 years | Patient/p1 |');
    expect(d).toContain('| Height | 178 cm | Observation/ht, 2026-09-15 |');
    expect(d).toContain('| Weight | 80 kg | Observation/wt, 2026-09-15 |');
    // allele names are data: their Markdown characters escaped (they render as "*1/*3", "-1639G>A")
    expect(d).toContain('| CYP2C9 | \\*1/\\*3 | Observation/cyp, 2025-03-01 |');
    expect(d).toContain('| VKORC1 rs9923231 (-1639G\\>A) | A/G | Observation/vk, 2025-03-01 |');
    expect(d).toMatch(/\| Amiodarone \| not taking \| no active order or statement found \|/);
    expect(d).toContain('The draft order currently says 10 mg 1× per day.');
    expect(d).toContain(`**Suggested starting dose: ${r.proposedDose!.perDose.value} mg once daily`);
    expect(d).toContain('(https://doi.org/10.1056/NEJMoa0809329)');
  });
  test('detail has no "undefined", "null", "NaN" or unfilled placeholders', () => {
    expect(card.detail).not.toMatch(/undefined|null|NaN|\{\{|\}\}/);
    expect(card.summary).not.toMatch(/undefined|null|NaN|\{\{/);
    expect(card.suggestions![0]!.label).not.toMatch(/undefined|null|NaN|\{\{/);
  });
  test('every table row has exactly three cells', () => {
    const rows = card.detail!.split('\n').filter((l) => l.startsWith('|'));
    expect(rows.length).toBeGreaterThanOrEqual(2 + r.inputs.length);
    // a pipe from data is escaped (\\|, a literal pipe in a GFM cell), never a cell separator
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(3);
  });
  test('one recommended update suggestion, selectionBehavior at-most-one', () => {
    expect(card.selectionBehavior).toBe('at-most-one');
    expect(card.suggestions).toHaveLength(1);
    const s = card.suggestions![0]!;
    expect(s.isRecommended).toBe(true);
    expect(s.label).toBe(`Change to warfarin ${r.proposedDose!.perDose.value} mg once daily`);
    expect(s.actions).toHaveLength(1);
    expect(s.actions![0]!.type).toBe('update');
    expect(s.actions![0]!.description).toContain('MedicationRequest/103');
  });
  test('the update carries the FULL draft with only the dose changed', () => {
    const res = card.suggestions![0]!.actions![0]!.resource as MedicationRequest;
    const di = res.dosageInstruction![0]!;
    expect(di.doseAndRate![0]!.doseQuantity).toEqual({ value: r.proposedDose!.perDose.value, unit: 'mg', system: UCUM, code: 'mg' });
    expect(di.timing?.repeat).toMatchObject({ frequency: 1, period: 1, periodUnit: 'd' });
    expect(di.text).toBe(`${r.proposedDose!.perDose.value} mg once daily`);
    // everything else as sent
    const { dosageInstruction: _a, dispenseRequest: dispenseOut, ...restOut } = res;
    const { dosageInstruction: _b, dispenseRequest: dispenseIn, ...restIn } = mr;
    expect(restOut).toEqual(restIn);
    expect(res.note).toEqual([{ text: 'Target INR 2-3; AF' }]);
    // the draft's "30 tablets" counted tablets of a product whose strength is not known here: it cannot be recomputed
    // for the new dose, so it is dropped (the pharmacy asks), and the days of supply are kept (src/cards/dispense.ts)
    const { quantity: _q, ...dispenseRest } = dispenseIn!;
    expect(dispenseOut).toEqual(dispenseRest);
    expect(res.extension).toEqual(mr.extension);
    expect(di.route).toEqual(mr.dosageInstruction![0]!.route);
    expect(di.sequence).toBe(1);
    expect(di.timing?.repeat?.boundsPeriod).toEqual({ start: '2026-11-25' });
    expect(di.doseAndRate![0]!.type).toEqual({ text: 'ordered' });
    // the draft sent by the EHR is not mutated, and the action shares no object with it (later edits cannot leak)
    expect(mr.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity!.value).toBe(10);
    expect(di.route).not.toBe(mr.dosageInstruction![0]!.route);
    expect(res.note).not.toBe(mr.note);
    expect(res.extension).not.toBe(mr.extension);
    expect(res.dispenseRequest).not.toBe(mr.dispenseRequest);
  });
  test('checkCdsResponse finds nothing', () => {
    expect(checkCdsResponse({ cards: [card] })).toEqual([]);
  });
});

describe('withProposedDose', () => {
  // Source: FHIR R4 Dosage: doseAndRate[0].doseQuantity (UCUM mg) and timing.repeat (frequency 1 per 1 d).
  const r = evaluate(facts(), draftOrder(draft('1')));
  test.each<[string, MedicationRequest]>([
    ['draft without dosageInstruction', draft('1')],
    ['draft with a dose range', { ...draft('1'), dosageInstruction: [{ doseAndRate: [{ doseRange: { low: { value: 2, unit: 'mg' }, high: { value: 10, unit: 'mg' } } }] }] }],
    ['draft with twice-daily tablets', { ...draft('1'), dosageInstruction: [{ timing: { code: { text: 'BID' }, repeat: { frequency: 2, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: 1, unit: 'tablet', system: UCUM, code: '{tbl}' } }] }] }],
    ['draft with a second (sequence 2) instruction', { ...draft('1', 10), dosageInstruction: [draft('1', 10).dosageInstruction![0]!, { sequence: 2, text: 'then as directed' }] }],
  ])('%s', (_n, mr) => {
    const out = withProposedDose({ ref: "MedicationRequest/1", resource: mr, drugs: [] }, r);
    const di = out.dosageInstruction![0]!;
    expect(di.doseAndRate![0]!.doseQuantity).toEqual({ value: r.proposedDose!.perDose.value, unit: 'mg', system: UCUM, code: 'mg' });
    expect(di.doseAndRate![0]!.doseRange).toBeUndefined();
    expect(di.timing?.repeat).toMatchObject({ frequency: 1, period: 1, periodUnit: 'd' });
    expect(di.timing?.code).toBeUndefined();
    // the proposal is one regimen: other instructions of the draft are not carried into a one-click update
    expect(out.dosageInstruction).toHaveLength(1);
    expect(findEmptyValues(out)).toEqual([]);
  });

  // BUG (src/cards/render.ts withProposedDose: `repeat: { ...(first.timing?.repeat ?? {}), ...dose.timing }`): only
  // frequency/period/periodUnit are overwritten, so per-administration fields of the old regimen survive. A draft
  // "5 mg BID" with repeat.when ["MORN","EVE"] (or timeOfDay ["08:00","20:00"]) becomes "once daily" *with two
  // administration times* — an internally inconsistent order the clinician signs with one click.
  // Expected: when/timeOfDay/frequencyMax/periodMax/dayOfWeek are dropped (or the suggestion is not offered).
  test('a twice-daily regimen with administration times does not keep them once daily', () => {
    const mr: MedicationRequest = {
      ...draft('1'),
      dosageInstruction: [
        { timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd', when: ['MORN', 'EVE'], timeOfDay: ['08:00:00', '20:00:00'] } }, doseAndRate: [{ doseQuantity: { value: 5, unit: 'mg', system: UCUM, code: 'mg' } }] },
      ],
    };
    const rep = withProposedDose({ ref: "MedicationRequest/1", resource: mr, drugs: [] }, r).dosageInstruction![0]!.timing!.repeat!;
    expect(rep.frequency).toBe(1);
    expect((rep.when?.length ?? 0) + (rep.timeOfDay?.length ?? 0)).toBeLessThanOrEqual(1);
  });
});

describe('when a card gets a suggestion, or is not shown at all', () => {
  // Source: CDS Hooks 2.0.1: an update action needs the resource id; render.ts isActionable: a draft that already has
  // the proposed daily dose needs no interruption.
  test('no suggestion when the draft has no id (informational card only)', () => {
    const o = draftOrder(draft(undefined, 10), { value: 10, unit: 'mg', frequencyPerDay: 1 });
    const card = render(evaluate(facts(), o), o);
    expect(card.suggestions).toBeUndefined();
    expect(card.selectionBehavior).toBeUndefined();
    expect(checkCdsResponse({ cards: [card] })).toEqual([]);
  });

  test.each<[string, (p: number) => DraftOrder['currentDose'], boolean]>([
    ['same daily dose once daily → not actionable', (p) => ({ value: p, unit: 'mg', frequencyPerDay: 1 }), false],
    ['same daily dose as two halves → not actionable', (p) => ({ value: p / 2, unit: 'mg', frequencyPerDay: 2 }), false],
    ['different daily dose → actionable', (p) => ({ value: p + 1, unit: 'mg', frequencyPerDay: 1 }), true],
    ['dose without frequency → actionable', (p) => ({ value: p, unit: 'mg' }), true],
    ['no dose → actionable', () => undefined, true],
  ])('%s', (_n, current, actionable) => {
    const proposal = evaluate(facts(), draftOrder(draft('1'))).proposedDose!.perDose.value;
    const o = draftOrder(draft('1'), current(proposal));
    const r = evaluate(facts(), o);
    expect(isActionable(r, o)).toBe(actionable);
    expect(renderCard(r, o, ctx) !== undefined).toBe(actionable);
  });

  // BUG (latent; src/cards/render.ts isActionable: `... * (periodUnit === 'd' ? 1 / period : 1)`): for a proposal
  // whose timing is in hours or weeks (allowed by ProposedDose.timing: 'd' | 'h' | 'wk') the period is ignored, so
  // "5 mg every 12 h" counts as 5 mg/day. A draft of 5 mg once daily then looks identical and the card is SUPPRESSED
  // although the proposal is 10 mg/day. Warfarin always proposes 1/1 d, so no current evaluator triggers it.
  // Expected: proposedDaily = value × frequency × (24 / period for h, 1 / period for d, 1 / (7 × period) for wk).
  test('a q12h proposal vs a once-daily draft of the same unit dose is actionable (10 vs 5 mg/day)', () => {
    const o = draftOrder(draft('1', 5), { value: 5, unit: 'mg', frequencyPerDay: 1 });
    const r = evaluate(facts(), o);
    r.proposedDose = { ...r.proposedDose!, perDose: { value: 5, unit: 'mg' }, frequencyText: 'every 12 hours', timing: { frequency: 1, period: 12, periodUnit: 'h' } };
    expect(isActionable(r, o)).toBe(true);
  });

  test('kind "info" is never actionable', () => {
    const r = { ...evaluate(facts(), draftOrder(draft('1'))), kind: 'info' as const };
    expect(isActionable(r, undefined)).toBe(false);
  });
});

describe('hostile or awkward data in the card', () => {
  // Source: GitHub-flavoured Markdown tables: "|" separates cells and a newline ends the row; CDS Hooks summary
  // must stay < 140 characters.
  test('values with "|" and newlines do not break the Markdown table', () => {
    const o = draftOrder(draft('103'));
    const r = evaluate(facts({ weightRef: 'Observation/w|1\n| injected | row |', genes: [{ gene: 'CYP2C9', diplotype: '*1/*5', text: 'CYP2C9 *1/*5 | see\r\nreport', source: src('Observation/cyp') }] }), o);
    r.notes.push('note with | pipe\nand a second line');
    const card = render(r, o);
    const rows = card.detail!.split('\n').filter((l) => l.startsWith('|'));
    expect(rows).toHaveLength(2 + r.inputs.length);
    // a pipe from data is escaped (\\|, a literal pipe in a GFM cell), never a cell separator
    for (const row of rows) expect(row.split(/(?<!\\)\|/).length - 2).toBe(3);
    expect(card.detail).not.toMatch(/^\| injected/m);
    const noteLine = card.detail!.split('\n').find((l) => l.startsWith('- note with'));
    expect(noteLine).toBe('- note with \\| pipe and a second line'); // one line, the pipe kept (escaped)
    expect(checkCdsResponse({ cards: [card] })).toEqual([]);
  });

  test('a very long headline gives a summary < 140 chars', () => {
    const o = draftOrder(draft('103'));
    const r = evaluate(facts(), o);
    r.headline = `Warfarin ${'very '.repeat(60)}long headline`;
    const card = render(r, o);
    expect(card.summary.length).toBeLessThan(140);
    expect(card.summary.length).toBeGreaterThan(0);
    expect(checkCdsResponse({ cards: [card] })).toEqual([]);
  });
});

describe('every rendered card passes the CDS Hooks checklist', () => {
  // Source: CDS Hooks 2.0.1 card rules as implemented by checkCdsResponse (reference/cds-hooks-2.0.md).
  const cases: [string, PatientFacts, DraftOrder][] = [
    ['genotyped, draft 10 mg/day', facts(), draftOrder(draft('103', 10), { value: 10, unit: 'mg', frequencyPerDay: 1 })],
    ['genotyped, draft without dose', facts(), draftOrder(draft('103'))],
    ['no genotype', facts({ genes: [] }), draftOrder(draft('103'))],
    ['rare CYP2C9 allele', facts({ genes: [{ gene: 'CYP2C9', diplotype: '*1/*5', text: 'CYP2C9 *1/*5', source: src('Observation/c') }] }), draftOrder(draft('103'))],
    ['missing height', facts({ omitHeight: true }), draftOrder(draft('103'))],
    ['missing height, no draft id', facts({ omitHeight: true }), draftOrder(draft(undefined))],
  ];
  test.each(cases)('%s', (_n, f, o) => {
    const r = evaluate(f, o);
    const card = render(r, o);
    expect(checkCdsResponse({ cards: [card] })).toEqual([]);
    expect(JSON.stringify(card)).not.toMatch(/undefined|NaN|\{\{/);
    expect(card.detail).not.toMatch(/\bnull\b/);
    if (r.kind === 'missing-data') {
      expect(card.source.topic?.code).toBe('missing-data');
      expect(card.suggestions).toBeUndefined();
      expect(card.detail).toContain('body height');
      expect(card.indicator).toBe('info');
    }
  });

  test('two cards rendered for one response have distinct uuids', () => {
    const o = draftOrder(draft('103', 10), { value: 10, unit: 'mg', frequencyPerDay: 1 });
    const r = evaluate(facts(), o);
    expect(checkCdsResponse({ cards: [render(r, o), render(r, o)] })).toEqual([]);
  });

  // BUG (minor; src/cards/render.ts, `intervalLine`: `fmtNum(dose?.estimate?.value ?? NaN)`): a Recommendation with
  // `interval` but without `proposedDose.estimate` (both optional in src/domain/recommendation.ts) renders
  // "(estimate NaN )" into the card detail. Today only the model path sets `interval` and it always sets `estimate`,
  // so this needs a hand-built or future evaluator to trigger. Expected: the "(estimate …)" part omitted.
  test('a hand-built recommendation with an interval but no estimate renders no "NaN"', () => {
    const o = draftOrder(draft('103'));
    const r = evaluate(facts(), o);
    r.interval = { low: { value: 25, unit: 'mg/wk' }, high: { value: 40, unit: 'mg/wk' }, level: 0.8 };
    delete r.proposedDose!.estimate;
    const card = render(r, o);
    expect(card.detail).toContain('80% prediction interval');
    expect(card.detail).not.toMatch(/NaN/);
  });
});

describe('Markdown helpers: the fast paths print exactly what the plain definitions print', () => {
  // decimal(v, d) is defined as Number(v.toFixed(d)).toString(); cell(v) as pipes/line breaks → space, whitespace
  // collapsed, trimmed, clipped. Both skip work on the common case; these properties hold them to the definitions.
  const plainDecimal = (v: number, d: number) => Number(v.toFixed(d)).toString();
  const plainCell = (v: unknown, max = 300) => String(v).replace(/[|\r\n]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
  test.each<[number, number, string]>([
    [2.5, 1, '2.5'], [2.25, 1, '2.3'], [7.0000001, 2, '7'], [-0.0001, 2, '0'], [1e21, 1, '1e+21'], [0.1 + 0.2, 2, '0.3'], [17.5, 0, '18'], [-3.14159, 3, '-3.142'],
  ])('decimal(%p, %p) = %p', (v, d, out) => {
    expect(decimal(v, d)).toBe(out);
    expect(decimal(v, d)).toBe(plainDecimal(v, d));
  });
  test('decimal equals Number(v.toFixed(d)).toString() for any finite number and 0–6 digits', () => {
    fc.assert(fc.property(fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 }), fc.integer({ min: 0, max: 6 }), (v, d) => decimal(v, d) === plainDecimal(v, d)), { numRuns: 20000 });
    fc.assert(fc.property(fc.integer({ min: -10_000_000, max: 10_000_000 }), fc.integer({ min: 0, max: 4 }), fc.integer({ min: 0, max: 4 }), (n, scale, d) => {
      const v = n / 10 ** scale;
      return decimal(v, d) === plainDecimal(v, d);
    }), { numRuns: 20000 });
  });
  test('cell equals the plain definition for any text, including pipes, tabs, line breaks and unicode spaces', () => {
    const ws = fc.constantFrom(' ', '  ', '\t', '\n', '\r\n', '|', '\u00a0', '\u2003', 'a', 'B', '7', '*', '/');
    fc.assert(fc.property(fc.array(ws, { maxLength: 40 }).map((a) => a.join('')), fc.integer({ min: 1, max: 50 }), (s, max) => cell(s, max) === plainCell(s, max)), { numRuns: 20000 });
    fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => cell(s) === plainCell(s)), { numRuns: 5000 });
    expect(cell('CYP2C9 | *1/*3\n')).toBe('CYP2C9 *1/*3');
    expect(cell(2.5)).toBe('2.5');
  });
});

describe('PGx card: the guideline population in the guideline\'s words, the CPIC code in parentheses', () => {
  // Source: CPIC clopidogrel 2022 update, Tables 2 and 3 (populations), worded in knowledge/cpic-populations.json; the
  // population rules of knowledge/pgx-recommendations.json (clopidogrel) pick the row from the conditions on file.
  const pgx = loadPgxKnowledge();
  const words = loadPopulationWords();
  const clopidogrel = (condition?: { code: string; text: string }): Card => {
    const f = facts({ genes: [{ gene: 'CYP2C19', diplotype: '*2/*2', text: 'CYP2C19 *2/*2', source: src('Observation/c19', '2025-03-01') }] });
    if (condition) f.conditions = [{ codes: [{ system: 'http://snomed.info/sct', code: condition.code, display: condition.text }], text: condition.text, source: src('Condition/c1', '2026-10-01') }];
    const mr: MedicationRequest = { resourceType: 'MedicationRequest', id: 'clop', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, medicationCodeableConcept: { coding: [{ system: RXNORM, code: '32968', display: 'clopidogrel' }] } };
    const o: DraftOrder = { ref: 'MedicationRequest/clop', resource: mr, drugs: [{ ingredient: 'clopidogrel', rxcui: '32968', matchedBy: 'ingredient-code' }] };
    const recs = evaluatePgx(pgx, f, o, { ingredient: 'clopidogrel', rxcui: '32968' }, [], { settings: DEFAULT_PGX_SETTINGS, newId: () => randomUUID(), now: new Date('2026-11-25T12:00:00Z') });
    const r = recs.find((x) => x.guideline?.recommendationId !== 'none')!;
    return render(r, o);
  };
  test.each<[string, { code: string; text: string } | undefined, string, RegExp]>([
    ['NSTEMI on file → ACS/PCI', { code: '22298006', text: 'Non-ST elevation myocardial infarction' }, 'CVI ACS PCI', /^cardiovascular indications: acute coronary syndrome and\/or percutaneous coronary intervention/],
    ['ischaemic stroke on file → neurovascular', { code: '230690007', text: 'Ischemic stroke' }, 'NVI', /^neurovascular indications/],
    ['stable coronary disease → non-ACS non-PCI', { code: '53741008', text: 'Coronary arteriosclerosis' }, 'CVI non-ACS non-PCI', /^cardiovascular indications other than acute coronary syndrome/],
    ['nothing on file → the default ACS/PCI row, with its reason', undefined, 'CVI ACS PCI', /^cardiovascular indications: acute coronary syndrome/],
  ])('%s', (_n, condition, code, wordsStart) => {
    const card = clopidogrel(condition);
    const w = words[code] ?? `no words for ${code}`;
    expect(w).toMatch(wordsStart);
    // rendered by CommonMark: the words, then the code in parentheses, in bold; then the reason
    expect(visibleText(card.detail ?? '')).toContain(`Guideline population: ${w} (${code}) — `);
    expect(nodesOf(card.detail ?? '', ['strong']).map((n) => n.text)).toContain(`${w} (${code})`);
    expect(checkCdsResponse({ cards: [card] })).toEqual([]);
  });

  test('an unknown population code has no words (the card shows the code as sent); "general" neither (the whole population)', () => {
    expect(populationWords('not-a-population')).toBeUndefined();
    expect(populationWords('general')).toBeUndefined();
    expect(populationWords('CBZ naive')).toBe('carbamazepine-naive patients');
  });

  test.each([
    ['no populations map', '{"description": "x"}', /"populations" must be an object/],
    ['a code without words', '{"populations": {"adults": 1}}', /population adults must have words/],
  ])('a broken knowledge/cpic-populations.json fails loudly at load: %s', (_n, json, err) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pops-'));
    try {
      writeFileSync(path.join(dir, 'p.json'), json);
      expect(() => loadPopulationWords(path.join(dir, 'p.json'))).toThrow(err);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
