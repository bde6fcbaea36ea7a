// CPIC guidance engine, evaluator and cards: clinical case tables with their source (the CPIC recommendation row).
import { randomUUID } from 'node:crypto';
import type { MedicationRequest, Observation } from 'fhir/r4';
import { classifyAction, doseFactorOf } from '../../scripts/build-knowledge.js';
import { renderCard, CardTemplates } from '../../src/cards/render.js';
import type { DraftOrder } from '../../src/cds/orders.js';
import { checkCdsResponse, type Card } from '../../src/cds/protocol.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { ConditionFact, PatientFacts } from '../../src/domain/facts.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { evaluatePgxGuidance, type MedicationUse } from '../../src/dosing/pgx/engine.js';
import { DEFAULT_PGX_SETTINGS, evaluatePgx, type PgxSettings } from '../../src/dosing/pgx/evaluator.js';
import { EvaluatorRegistry } from '../../src/dosing/registry.js';
import { registerPgxEvaluators } from '../../src/dosing/pgx/register.js';
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
import { visibleText } from '../support/markdown.js';

const k = loadPgxKnowledge();
const templates = CardTemplates.load();
const LOINC = 'http://loinc.org';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const NOW = new Date('2026-11-25T12:00:00Z');
const HGNC: Record<string, string> = { CYP2C19: 'HGNC:2621', CYP2D6: 'HGNC:2625', DPYD: 'HGNC:1806', SLCO1B1: 'HGNC:10959', 'HLA-B': 'HGNC:4932', 'HLA-A': 'HGNC:4931', CYP2C9: 'HGNC:2623', TPMT: 'HGNC:12014', NUDT15: 'HGNC:23063' };

let n = 0;
function obs(gene: string, text: string, code = '84413-4'): Observation {
  return {
    resourceType: 'Observation',
    id: `g${++n}`,
    status: 'final',
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: 'Patient/p1' },
    effectiveDateTime: '2025-03-01',
    valueCodeableConcept: { text },
    component: [{ code: { coding: [{ system: LOINC, code: '48018-6' }] }, valueCodeableConcept: { coding: [{ system: 'http://www.genenames.org', code: HGNC[gene]!, display: gene }] } }],
  };
}
const condition = (code: string, text: string): ConditionFact => ({ codes: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code }], text, source: { reference: `Condition/${code}` } });

function facts(observations: Observation[], extra: Partial<PatientFacts> = {}): PatientFacts {
  return { patientId: 'p1', genes: readGeneResults(observations).results, medications: [], conditions: [], unavailable: [], notes: [], ...extra };
}

function draft(drug: string, rxcui: string, doseMg?: number): DraftOrder {
  const resource: MedicationRequest = {
    resourceType: 'MedicationRequest',
    id: 'mr1',
    status: 'draft',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    medicationCodeableConcept: { coding: [{ system: RXNORM, code: rxcui, display: drug }], text: drug },
    ...(doseMg
      ? { dosageInstruction: [{ text: `${doseMg} mg twice daily`, timing: { repeat: { frequency: 2, period: 1, periodUnit: 'd' } }, doseAndRate: [{ doseQuantity: { value: doseMg, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' } }] }] }
      : {}),
  };
  return { ref: 'MedicationRequest/mr1', resource, drugs: [{ ingredient: drug, rxcui, matchedBy: 'ingredient-code' }], ...(doseMg ? { currentDose: { value: doseMg, unit: 'mg', frequencyPerDay: 2 } } : {}) };
}

function run(drug: string, f: PatientFacts, o: { dose?: number; meds?: MedicationUse[]; settings?: Partial<PgxSettings> } = {}): { recs: Recommendation[]; cards: Card[] } {
  const rx = k.drugs[drug]!.rxcui!;
  const order = draft(drug, rx, o.dose);
  const recs = evaluatePgx(k, f, order, { ingredient: drug, rxcui: rx }, o.meds ?? [], { settings: { ...DEFAULT_PGX_SETTINGS, ...o.settings }, newId: randomUUID, now: NOW });
  const cards = recs.map((r) => renderCard(r, order, { templates, newId: randomUUID })).flatMap((c) => (c ? [c.card] : []));
  expect(checkCdsResponse({ cards })).toEqual([]);
  return { recs, cards };
}

describe('CPIC cases (source: the CPIC recommendation row named in each case)', () => {
  test('clopidogrel, CYP2C19 *2/*2, no indication on file → ACS/PCI row PA166297572: avoid, prasugrel or ticagrelor (critical)', () => {
    const { recs, cards } = run('clopidogrel', facts([obs('CYP2C19', 'CYP2C19 *2/*2')]));
    expect(recs).toHaveLength(1);
    expect(recs[0]!.guideline?.recommendationId).toBe('PA166297572');
    expect(recs[0]!.severity).toBe('critical');
    expect(recs[0]!.guideline?.populationReason).toMatch(/ACS\/PCI row was used/);
    const card = cards[0]!;
    expect(card.indicator).toBe('critical');
    expect(card.summary).toBe('Clopidogrel: CYP2C19 Poor Metabolizer — avoid (CPIC Strong)');
    expect(visibleText(card.detail!)).toContain('*2/*2'); // as rendered (the Markdown escapes the asterisks)
    expect(card.detail).toContain('Use prasugrel or ticagrelor at standard dose if no contraindication.');
    expect(card.source.url).toBe('https://cpicpgx.org/guidelines/guideline-for-clopidogrel-and-cyp2c19/');
    expect(card.suggestions!.map((s) => s.label)).toEqual(['Replace clopidogrel with prasugrel', 'Replace clopidogrel with ticagrelor']);
    const [del, create] = card.suggestions![1]!.actions!;
    expect(del).toMatchObject({ type: 'delete', resourceId: 'MedicationRequest/mr1' });
    expect(create!.type).toBe('create');
    expect(create!.resource).toEqual({
      resourceType: 'MedicationRequest',
      status: 'draft',
      intent: 'order',
      subject: { reference: 'Patient/p1' },
      medicationCodeableConcept: { coding: [{ system: RXNORM, code: '1116632', display: 'ticagrelor' }], text: 'ticagrelor' },
    });
    expect(card.overrideReasons!.map((o) => o.code)).toEqual(expect.arrayContaining(['already-tolerated', 'genotype-disputed', 'benefit-outweighs-risk']));
  });

  test('clopidogrel *2/*2 after an ischaemic stroke (I63.9) → NVI row PA166297590 (Moderate), prasugrel not offered', () => {
    const { recs, cards } = run('clopidogrel', facts([obs('CYP2C19', '*2/*2')], { conditions: [condition('I63.9', 'Cerebral infarction')] }));
    expect(recs[0]!.guideline).toMatchObject({ recommendationId: 'PA166297590', population: 'NVI', classification: 'Moderate' });
    // CPIC's NVI row names ticagrelor (and ticlopidine) in its other considerations; prasugrel is contraindicated
    expect(cards[0]!.suggestions!.map((s) => s.label)).toEqual(['Replace clopidogrel with ticagrelor']);
  });

  test('clopidogrel CYP2C19 *1/*2 with an NSTEMI (I21.4) → ACS/PCI IM row PA166297570: avoid standard dose', () => {
    const { recs } = run('clopidogrel', facts([obs('CYP2C19', '*1/*2')], { conditions: [condition('I21.4', 'NSTEMI')] }));
    expect(recs[0]!.guideline).toMatchObject({ recommendationId: 'PA166297570', population: 'CVI ACS PCI' });
    expect(recs[0]!.guideline?.populationReason).toMatch(/NSTEMI/);
  });

  test('clopidogrel normal metabolizer (*1/*1) → PA166297567 "use at standard dose": no card, kept as info', () => {
    const { recs, cards } = run('clopidogrel', facts([obs('CYP2C19', '*1/*1')]));
    expect(recs[0]!.kind).toBe('info');
    expect(recs[0]!.guideline?.recommendationId).toBe('PA166297567');
    expect(cards).toEqual([]);
    // configurable: informational cards on
    const shown = run('clopidogrel', facts([obs('CYP2C19', '*1/*1')]), { settings: { informationalCards: true } });
    expect(shown.cards[0]!.indicator).toBe('info');
    expect(shown.cards[0]!.summary).toMatch(/no change needed/);
  });

  test.each([
    ['*1/*1xN', '≥3.0'],
    ['*1/*2x2', '3.0'],
    ['*2x2/*1', '3.0'],
  ])('codeine, CYP2D6 %s (activity score %s, ultrarapid) → avoid (PA166297607 family, critical)', (diplo, score) => {
    const { recs, cards } = run('codeine', facts([obs('CYP2D6', diplo)]));
    expect(recs[0]!.genes![0]!.phenotype).toBe(`Ultrarapid Metabolizer (activity score ${score})`);
    expect(recs[0]!.pgx?.action).toBe('avoid');
    expect(cards[0]!.indicator).toBe('critical');
    expect(cards[0]!.detail).toContain('Avoid codeine use because of potential for serious toxicity.');
    expect(cards[0]!.suggestions![0]!.actions).toEqual([{ type: 'delete', description: 'Remove the draft codeine order (MedicationRequest/mr1)', resourceId: 'MedicationRequest/mr1' }]);
  });

  test('abacavir, HLA-B*57:01 positive → PA166296759-style "Abacavir is not recommended" (critical)', () => {
    const { recs, cards } = run('abacavir', facts([obs('HLA-B', 'HLA-B*57:01 positive')]));
    expect(k.texts[k.recommendations.find((r) => r.id === recs[0]!.guideline!.recommendationId)!.text]).toBe('Abacavir is not recommended');
    expect(cards[0]!.indicator).toBe('critical');
    expect(cards[0]!.summary).toBe('Abacavir: HLA-B *57:01 positive — avoid (CPIC Strong)');
  });

  test('abacavir, HLA-B*57:01 negative → standard dosing, no card', () => {
    expect(run('abacavir', facts([obs('HLA-B', 'HLA-B*57:01 negative')])).cards).toEqual([]);
  });

  test('carbamazepine, HLA-B*15:02 positive, HLA-A not tested, carbamazepine-naive → avoid (critical); after >3 months of use → caution', () => {
    const f = facts([obs('HLA-B', 'HLA-B*15:02 positive')]);
    const naive = run('carbamazepine', f, { settings: { suggestTestFor: 'none' } });
    expect(naive.recs[0]!.guideline).toMatchObject({ population: 'CBZ naive' });
    expect(naive.recs[0]!.genes!.map((g) => [g.gene, g.result])).toEqual([
      ['HLA-A', 'No result on file'],
      ['HLA-B', 'HLA-B*15:02 positive'],
    ]);
    expect(naive.cards[0]!.indicator).toBe('critical');
    expect(naive.cards[0]!.detail).toContain('do not use carbamazepine');
    const longUse = run('carbamazepine', f, { meds: [{ ingredients: ['carbamazepine'], date: '2026-01-10', source: { reference: 'MedicationRequest/cbz-old' } }], settings: { suggestTestFor: 'none' } });
    expect(longUse.recs[0]!.guideline).toMatchObject({ population: 'CBZ use >3mos' });
    expect(longUse.recs[0]!.pgx?.action).toBe('caution');
    expect(longUse.cards[0]!.indicator).toBe('info');
  });

  test('capecitabine, DPYD c.1905+1G>A heterozygous (activity score 1.0) → PA166297901 reduce starting dose by 50%: update to half the draft dose', () => {
    const { recs, cards } = run('capecitabine', facts([obs('DPYD', 'c.1905+1G>A/Reference')]), { dose: 1000 });
    expect(recs[0]!.guideline?.recommendationId).toBe('PA166297901');
    expect(recs[0]!.doseAdjustment).toEqual({ factor: 0.5, phrase: 'Reduce starting dose by 50%', from: { value: 1000, unit: 'mg' }, to: { value: 500, unit: 'mg' } });
    const card = cards[0]!;
    expect(card.indicator).toBe('warning');
    expect(card.summary).toBe('Capecitabine: DPYD Intermediate Metabolizer (activity score 1.0) — reduce the dose by 50% (CPIC Strong)');
    const upd = card.suggestions![0]!.actions![0]!;
    expect(upd.type).toBe('update');
    const mr = upd.resource as MedicationRequest;
    expect(mr.id).toBe('mr1');
    expect(mr.dosageInstruction![0]!.doseAndRate![0]!.doseQuantity).toEqual({ value: 500, unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' });
    expect(mr.dosageInstruction![0]!.timing).toEqual({ repeat: { frequency: 2, period: 1, periodUnit: 'd' } });
  });

  test('capecitabine without a dose on the draft → the text, no update', () => {
    const { cards } = run('capecitabine', facts([obs('DPYD', 'c.1905+1G>A/Reference')]));
    expect(cards[0]!.suggestions).toBeUndefined();
    expect(cards[0]!.detail).toMatch(/no dose in mg, so no adjusted dose/);
  });

  test('simvastatin, SLCO1B1 *5/*5 (poor function) → PA166298505 alternative statin (warning); *1/*5 → alternative or ≤20 mg', () => {
    const poor = run('simvastatin', facts([obs('SLCO1B1', '*5/*5')]));
    expect(poor.recs[0]!.guideline?.recommendationId).toBe('PA166298505');
    expect(poor.cards[0]!.indicator).toBe('warning');
    expect(poor.cards[0]!.summary).toBe('Simvastatin: SLCO1B1 Poor Function — consider an alternative (CPIC Strong)');
    const dec = run('simvastatin', facts([obs('SLCO1B1', '*1/*5')]));
    expect(dec.recs[0]!.guideline?.recommendationId).toBe('PA166298504');
    expect(visibleText(dec.cards[0]!.detail!)).toContain('limit dose to <20mg/day');
  });

  test('a lab phenotype alone is used when no diplotype is on file (CYP2C19 "Poor metabolizer" → clopidogrel avoid)', () => {
    const { recs } = run('clopidogrel', facts([obs('CYP2C19', 'Poor metabolizer', '53040-2')]));
    expect(recs[0]!.guideline?.recommendationId).toBe('PA166297572');
  });

  // Source: issue 14 item 4 (current results that disagree: the card says so, names both, the cautious row is used);
  // CPIC clopidogrel rows PA166297567 (NM: standard) and PA166297570 (IM, ACS/PCI: alternative)
  test('diplotype and lab phenotype of the same date disagree → the more cautious row, a warning naming both', () => {
    const { recs, cards } = run('clopidogrel', facts([obs('CYP2C19', '*1/*1'), obs('CYP2C19', 'Intermediate metabolizer', '53040-2')]));
    expect(recs[0]!.guideline?.recommendationId).toBe('PA166297570');
    expect(recs[0]!.pgx?.disagreements?.[0]?.text).toMatch(/^The CYP2C19 results on file disagree: Observation\/g\d+ \(2025-03-01\) says \*1\/\*1 \(Normal Metabolizer\); Observation\/g\d+ \(2025-03-01\) says .*Intermediate Metabolizer.*more cautious/);
    expect(cards[0]!.summary).toBe("Clopidogrel: CYP2C19 results disagree; cautious reading CYP2C19 Intermediate Metabolizer — avoid (CPIC Strong)");
    expect(cards[0]!.detail).toContain('**Results disagree.**');
  });

  test('an allele missing from the CPIC table → Indeterminate → "No recommendation", no card', () => {
    const { recs, cards } = run('clopidogrel', facts([obs('CYP2C19', '*1/*99')]));
    expect(recs[0]!.pgx?.action).toBe('none');
    expect(recs[0]!.notes.join(' ')).toMatch(/not in the CPIC allele table/);
    expect(cards).toEqual([]);
  });

  test('DPYD phenotype alone ("Poor Metabolizer" = score 0 or 0.5, different rows) → the most protective row, ambiguity stated', () => {
    const out = evaluatePgxGuidance(k, { drug: 'fluorouracil', genes: readGeneResults([obs('DPYD', 'Poor metabolizer', '53040-2')]).results, conditions: [], medications: [], now: NOW });
    expect(out.status).toBe('matched');
    if (out.status !== 'matched') return;
    expect(out.row.action).toBe('avoid');
    expect(out.notes.join(' ')).toMatch(/most protective/);
  });

  test('thiopurine cards carry the staleness warning (recommendations predate the CPIC 2025-2026 update)', () => {
    const { cards } = run('azathioprine', facts([obs('TPMT', '*3A/*3A'), obs('NUDT15', '*1/*1')]));
    expect(cards[0]!.detail).toMatch(/predate the CPIC 2025-2026 thiopurine guideline update/);
  });
});

describe('missing genotype', () => {
  test('no SLCO1B1 result, simvastatin (Strong actionable rows) → info card suggesting the test with a ServiceRequest', () => {
    const { recs, cards } = run('simvastatin', facts([]));
    expect(recs.map((r) => r.kind)).toEqual(['test-suggested']);
    expect(cards[0]!.indicator).toBe('info');
    expect(cards[0]!.summary).toBe('Simvastatin: no SLCO1B1 result on file — consider genotyping (CPIC)');
    const a = cards[0]!.suggestions![0]!.actions![0]!;
    expect(a.type).toBe('create');
    expect(a.resource).toMatchObject({ resourceType: 'ServiceRequest', status: 'draft', intent: 'order', subject: { reference: 'Patient/p1' }, code: { text: 'SLCO1B1 genotyping' } });
  });
  test('configurable: suggestTestFor "none" → nothing', () => {
    expect(run('simvastatin', facts([]), { settings: { suggestTestFor: 'none' } }).recs).toEqual([]);
  });
  test('"strong" skips drugs whose actionable rows are at most Moderate/Optional (e.g. ondansetron? no: Moderate) but "all" includes them', () => {
    const strongest = Object.values(k.drugs).find((d) => Object.values(d.testStrength).length > 0 && !Object.values(d.testStrength).includes('Strong'))!;
    expect(run(strongest.name, facts([])).recs.filter((r) => r.kind === 'test-suggested')).toEqual([]);
    expect(run(strongest.name, facts([]), { settings: { suggestTestFor: 'all' } }).recs.some((r) => r.kind === 'test-suggested')).toBe(true);
  });
});

describe('recommendation text → action and dose factor (scripts/build-knowledge.ts)', () => {
  const row = (text: string, flags: [boolean, boolean, boolean] = [false, false, false], classification = 'Strong') => ({
    classification,
    recommendation: text,
    dosing_information: flags[0],
    alternate_drug_available: flags[1],
    other_prescribing_guidance: flags[2],
  });
  test.each([
    ['Abacavir is not recommended', 'avoid'],
    ['Avoid clopidogrel if possible. Use prasugrel or ticagrelor at standard dose if no contraindication.', 'avoid'],
    ['If patient is carbamazepine-naïve, do not use carbamazepine.', 'avoid'],
    ['Avoid moderate and strong CYP2D6 inhibitors. Initiate therapy with recommended standard of care dosing (tamoxifen 20 mg/day).', 'standard'],
    ['There is no need to avoid prescribing of atazanavir based on UGT1A1 genetic test result.', 'standard'],
    ['Select alternative drug not predominantly metabolized by CYP2D6 (i.e., granisetron).', 'alternative'],
    ['Reduce starting dose by 50% followed by titration of dose based on toxicity.', 'dose'],
    ['Initiate therapy with recommended starting dose.', 'standard'],
    ['Use codeine label recommended age- or weight-specific dosing. If no response and opioid use is warranted, consider a non-tramadol opioid.', 'standard'],
    ['Prescribe desired starting dose and adjust doses of pravastatin based on disease-specific guidelines. Prescriber should be aware of possible increased risk for myopathy with pravastatin especially with doses >40mg per day.', 'caution'],
    ['Use at standard doses with caution and with close monitoring for anemia', 'caution'],
    ['No recommendation', 'none'],
  ])('%s → %s', (text, action) => {
    expect(classifyAction(row(text))).toBe(action);
  });
  test.each([
    ['Reduce starting dose by 50% followed by titration', 0.5],
    ['Consider a 25% reduction of recommended starting dose. Utilize therapeutic drug monitoring.', 0.75],
    ['Reduce starting doses to 25% of normal dose and adjust doses of thioguanine', 0.25],
    ['Increase starting daily dose by 100%. Daily dose may be given in divided doses.', 2],
    ['Start with reduced starting doses (30%-80% of normal dose) if normal starting dose is 2-3 mg/kg/day', undefined],
    ['For first dose, use typical initial or loading dose. For subsequent doses use approximately 50% less than typical maintenance dose.', undefined],
    ['Increase starting dose 1.5 to 2 times recommended starting dose.', undefined],
    ['Initiate therapy with 25-50% of the lowest recommended starting dose.', undefined],
    ['Consider a lower starting dose, slower titration schedule and 50% reduction of standard maintenance dose', undefined],
  ])('dose factor of "%s" = %s', (text, factor) => {
    expect(doseFactorOf(text)?.factor).toBe(factor);
  });
});

describe('integration points', () => {
  test('the PGx evaluator is registered for every CPIC drug but never for warfarin', () => {
    const reg = registerPgxEvaluators(new EvaluatorRegistry(), { pgx: k });
    expect(Object.keys(k.drugs)).toHaveLength(78);
    for (const d of Object.keys(k.drugs)) expect(reg.has(d)).toBe(true);
    expect(reg.has('warfarin')).toBe(false);
    expect(k.drugs['warfarin']).toBeUndefined();
  });
  test('DrugDictionary recognises CPIC drugs by ingredient code, name and brand, and keeps warfarin products', () => {
    const dict = DrugDictionary.load();
    expect(dict.identify(['32968'], undefined)).toEqual([{ ingredient: 'clopidogrel', rxcui: '32968', matchedBy: 'ingredient-code' }]);
    expect(dict.identify(['309362'], 'Plavix 75 MG Oral Tablet')).toEqual([{ ingredient: 'clopidogrel', rxcui: '32968', matchedBy: 'product-code' }]);
    expect(dict.identify(['999999997'], 'Plavix 75 MG Oral Tablet')).toEqual([{ ingredient: 'clopidogrel', rxcui: '32968', matchedBy: 'text' }]);
    expect(dict.identify([], 'capecitabine 500 MG Oral Tablet')[0]?.ingredient).toBe('capecitabine');
    expect(dict.identify(['855332'], undefined)).toEqual([{ ingredient: 'warfarin', rxcui: '11289', matchedBy: 'product-code' }]);
    expect(dict.identify(['2002'], undefined)[0]?.ingredient).toBe('carbamazepine');
    for (const d of Object.values(k.drugs)) expect(dict.identify([], d.name).map((x) => x.ingredient)).toContain(d.name);
  });
  test('knowledge loads fast (guarded by the benchmark; printed here)', () => {
    const t0 = performance.now();
    loadPgxKnowledge();
    console.log(`PGx knowledge load: ${(performance.now() - t0).toFixed(1)} ms`);
  });
});
