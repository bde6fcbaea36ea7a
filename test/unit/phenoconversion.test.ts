// Drug-induced phenoconversion (knowledge/phenoconversion.json, src/dosing/pgx/phenoconversion.ts): clinical case
// tables, each with its source — the CPIC row the converted phenotype leads to, and the table row (FDA DDI table, CPIC
// guideline text, UF Health calculator) that converts it. Medications go through the real chain: FHIR resources →
// extractFacts (active only) → the drug dictionary → the engine and the evaluator → the card.
import { randomUUID } from 'node:crypto';
import type { FhirResource, MedicationRequest, MedicationStatement } from 'fhir/r4';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { evaluateDpwg } from '../../src/dosing/pgx/dpwg.js';
import { DEFAULT_PGX_SETTINGS, evaluatePgx, medicationUses } from '../../src/dosing/pgx/evaluator.js';
import { phenoconvert } from '../../src/dosing/pgx/phenoconversion.js';
import { defaultDpwgKnowledge } from '../../src/knowledge/dpwg.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
import { loadPhenoconversion } from '../../src/knowledge/phenoconversion.js';
import { visibleText } from '../support/markdown.js';
import { draft, factsOf, genotype, runOrder as run } from '../support/phenoconversion-cases.js';

const k = loadPgxKnowledge();
const table = loadPhenoconversion();
const drugs = DrugDictionary.load();
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const NOW = new Date('2026-11-25T12:00:00Z');
let n = 0;

/** A co-medication as an EHR sends it: an RxNorm code (ingredient or product) and its display. */
function request(drug: string, code: string, status: MedicationRequest['status'] = 'active'): MedicationRequest {
  return { resourceType: 'MedicationRequest', id: `m${++n}`, status, intent: 'order', subject: { reference: 'Patient/p1' }, authoredOn: '2026-10-01', medicationCodeableConcept: { coding: [{ system: RXNORM, code, display: drug }], text: drug } };
}
function statement(drug: string, code: string, status: MedicationStatement['status'] = 'active', end?: string): MedicationStatement {
  return {
    resourceType: 'MedicationStatement',
    id: `s${++n}`,
    status,
    subject: { reference: 'Patient/p1' },
    dateAsserted: '2026-09-01',
    ...(end ? { effectivePeriod: { start: '2026-01-01', end } } : {}),
    medicationCodeableConcept: { coding: [{ system: RXNORM, code, display: drug }], text: drug },
  };
}

/** a co-medication sent without an RxNorm code: text only, or a local code system with its display */
function uncoded(text: string, local?: string): MedicationRequest {
  return {
    resourceType: 'MedicationRequest',
    id: `m${++n}`,
    status: 'active',
    intent: 'order',
    subject: { reference: 'Patient/p1' },
    authoredOn: '2026-10-01',
    medicationCodeableConcept: local ? { coding: [{ system: 'urn:oid:1.2.840.114350.1.13.0.1.7.2.698288', code: local, display: text }] } : { text },
  };
}


// RxNorm codes: ingredient CUIs of ../shared/data/cpic/drugs.tsv; 993503 is a bupropion product code unknown to the
// drug dictionary (recognised by the table's name)
const PAROXETINE = ['paroxetine', '32937'] as const;
const FLUOXETINE = ['fluoxetine', '4493'] as const;

describe('strong CYP2D6 inhibitors: activity score x 0 → Poor Metabolizer (FDA DDI table; CPIC codeine 2021)', () => {
  test.each([
    // [interacting drug as sent, code, CPIC codeine row for the converted score]
    ['paroxetine', '32937'],
    ['fluoxetine', '4493'],
    ['bupropion hydrochloride 150 MG Extended Release Oral Tablet', '993503'],
    ['quinidine', '9068'],
    ['terbinafine', '37801'],
  ])('codeine for CYP2D6 *1/*1 (Normal Metabolizer, AS 2.0) with %s → PA166297602 avoid codeine (CPIC PM row)', (name, code) => {
    const { main, cards } = run('codeine', [genotype('CYP2D6', '*1/*1'), request(name, code)]);
    expect(main.guideline?.recommendationId).toBe('PA166297602');
    expect(main.pgx?.action).toBe('avoid');
    expect(main.severity).toBe('critical');
    const step = main.pgx!.phenoconversion![0]!;
    expect(step).toMatchObject({ gene: 'CYP2D6', strength: 'strong', effect: 'activity-factor', genotype: '*1/*1', genotypePhenotype: 'Normal Metabolizer', genotypeActivityScore: '2.0', resultingPhenotype: 'Poor Metabolizer', resultingActivityScore: '0.0' });
    expect(step.sources.map((s) => s.url)).toContain('https://www.fda.gov/drugs/drug-interactions-labeling/healthcare-professionals-fdas-examples-drugs-interact-cyp-enzymes-and-transporter-systems');
    // the card: genotype, genotype phenotype, the drug that changes it and the resulting phenotype
    const card = cards[0]!;
    expect(card.summary).toMatch(/^Codeine: CYP2D6 Poor Metabolizer \(activity score 0\.0\) with (paroxetine|fluoxetine|bupropion|quinidine|terbinafine) — avoid/);
    const text = visibleText(card.detail!);
    expect(text).toContain('Interacting drug (phenoconversion).');
    expect(text).toContain(`CYP2D6 *1/*1, Normal Metabolizer (activity score 2.0) from the genotype is treated as CYP2D6 Poor Metabolizer (activity score 0.0)`);
    expect(text).toMatch(/(paroxetine|fluoxetine|bupropion|quinidine|terbinafine) \(strong CYP2D6 inhibitor, MedicationRequest\/m\d+\) is active/);
    // the inputs the SMART app shows: the genotype's own reading, and the step with its medication
    expect(main.inputs.find((i) => i.key === 'gene:CYP2D6')?.value).toBe('*1/*1, Normal Metabolizer, activity score 2.0')
    // the inputs the SMART app shows carry the step with its medication
    expect(main.inputs.find((i) => i.key.startsWith('phenoconversion:CYP2D6'))).toMatchObject({ value: expect.stringContaining('Normal Metabolizer → Poor Metabolizer (activity score 0.0)'), source: { reference: expect.stringMatching(/^MedicationRequest\//) } });
  });

  test('terbinafine: sources disagree (strong vs moderate); the stronger class is used and the note says so', () => {
    const { main } = run('codeine', [genotype('CYP2D6', '*1/*1'), request('terbinafine', '37801')]);
    expect(main.notes.join(' ')).toMatch(/terbinafine \(CYP2D6\): sources disagree/);
  });

  test('UM (CYP2D6 *1/*2x2, AS 3.0: CPIC avoid codeine for toxicity) with paroxetine → PM row PA166297602 (diminished analgesia)', () => {
    const before = run('codeine', [genotype('CYP2D6', '*1/*2x2')]).main;
    expect(before.pgx?.action).toBe('avoid');
    expect(before.guideline?.recommendationId).not.toBe('PA166297602');
    const { main } = run('codeine', [genotype('CYP2D6', '*1/*2x2'), request(...PAROXETINE)]);
    expect(main.guideline?.recommendationId).toBe('PA166297602');
    expect(main.pgx!.phenoconversion![0]).toMatchObject({ genotypePhenotype: 'Ultrarapid Metabolizer', genotypeActivityScore: '3.0', resultingActivityScore: '0.0' });
  });

  test('as a MedicationStatement (active) too', () => {
    const { main } = run('codeine', [genotype('CYP2D6', '*1/*1'), statement(...PAROXETINE)]);
    expect(main.guideline?.recommendationId).toBe('PA166297602');
    expect(main.pgx!.phenoconversion![0]!.medication.reference).toMatch(/^MedicationStatement\//);
  });

  test('without the table the genotype alone decides (NM: PA166297600, no card) — the conversion is the table', () => {
    const { main, cards } = run('codeine', [genotype('CYP2D6', '*1/*1'), request(...PAROXETINE)], null);
    expect(main.guideline?.recommendationId).toBe('PA166297600');
    expect(cards).toEqual([]);
  });
});

describe('moderate CYP2D6 inhibitors: activity score x 0.5, rounded down to a 0.25 step (Borges 2010; UF Health calculator)', () => {
  test.each([
    // [genotype, genotype AS (CPIC allele values: *4 0, *17 0.5, *1 1), interacting drug, code, converted AS, CPIC codeine row, phenotype]
    ['*1/*1', '2.0', 'duloxetine', '72625', '1.0', 'PA166297596', 'Intermediate Metabolizer'],
    ['*1/*4', '1.0', 'duloxetine', '72625', '0.5', 'PA166297594', 'Intermediate Metabolizer'],
    ['*1/*17', '1.5', 'fluvoxamine', '42355', '0.75', 'PA166297595', 'Intermediate Metabolizer'],
    ['*4/*17', '0.5', 'duloxetine', '72625', '0.25', undefined, 'Intermediate Metabolizer'],
  ])('codeine, CYP2D6 %s (AS %s) with %s (%s) → AS %s', (dip, as, name, code, to, rowId, phenotype) => {
    const { main, cards } = run('codeine', [genotype('CYP2D6', dip), request(name, code)]);
    const step = main.pgx!.phenoconversion![0]!;
    expect(step).toMatchObject({ strength: 'moderate', genotypeActivityScore: as, resultingActivityScore: to, resultingPhenotype: phenotype });
    expect(step.text).toContain('activity score x 0.5, rounded down to a 0.25 step');
    if (rowId) expect(main.guideline?.recommendationId).toBe(rowId);
    // the CPIC IM rows are "standard" (label dosing): the interacting drug still makes a card (a caution)
    expect(cards.length).toBeGreaterThan(0);
    expect(visibleText(cards[0]!.detail!)).toContain(`treated as CYP2D6 ${phenotype} (activity score ${to})`);
  });

  test.each([
    // matched by name (no local RxNorm code): moderate CYP2D6 inhibitors in the FDA table, as EHRs send them uncoded
    ['mirabegron', 'Myrbetriq 25 mg extended-release tablet'],
    ['cinacalcet', 'Sensipar 30 mg tablet'],
  ])('codeine, CYP2D6 *1/*1 (AS 2.0) with %s sent as text ("%s") → AS 1.0, IM row PA166297596', (drug, text) => {
    const { main } = run('codeine', [genotype('CYP2D6', '*1/*1'), uncoded(text)]);
    expect(main.pgx!.phenoconversion![0]).toMatchObject({ drug, strength: 'moderate', genotypeActivityScore: '2.0', resultingActivityScore: '1.0', resultingPhenotype: 'Intermediate Metabolizer' });
    expect(main.guideline?.recommendationId).toBe('PA166297596');
  });
});

describe('CYP2C19 (no activity score): strong inhibitor → Poor Metabolizer; moderate and inducers: a caution only', () => {
  test('clopidogrel, CYP2C19 *1/*1, fluvoxamine (strong CYP2C19, FDA) → PM row PA166297572 avoid clopidogrel', () => {
    const { main } = run('clopidogrel', [genotype('CYP2C19', '*1/*1'), request('fluvoxamine', '42355')]);
    expect(main.guideline?.recommendationId).toBe('PA166297572');
    expect(main.pgx!.phenoconversion![0]).toMatchObject({ gene: 'CYP2C19', effect: 'poor-metabolizer', genotypePhenotype: 'Normal Metabolizer', resultingPhenotype: 'Poor Metabolizer' });
  });

  test.each<[string, MedicationRequest]>([
    ['text only, brand name', uncoded('Diflucan 150 mg tablet')],
    ['a local code with its display', uncoded('FLUCONAZOLE 200 MG PO TABS', 'FLU200')],
    // 197698: an RxNorm product code openFDA lists for Diflucan; the product is not in the local tables, its display is read
    ['an RxNorm product code with its display', request('fluconazole (Diflucan)', '197698')],
  ])('clopidogrel, CYP2C19 *1/*1, fluconazole (strong CYP2C19, FDA; matched by name: %s) → PM row PA166297572', (_label, med) => {
    const { main } = run('clopidogrel', [genotype('CYP2C19', '*1/*1'), med]);
    expect(main.guideline?.recommendationId).toBe('PA166297572');
    expect(main.pgx!.phenoconversion![0]).toMatchObject({ gene: 'CYP2C19', drug: 'fluconazole', strength: 'strong', effect: 'poor-metabolizer', resultingPhenotype: 'Poor Metabolizer' });
  });

  test('fluconazole sent as an RxNorm code with no text or display is not recognised (a known limit: no local code to check)', () => {
    const med: MedicationRequest = { ...request('x', '197698'), medicationCodeableConcept: { coding: [{ system: RXNORM, code: '197698' }] } };
    const { main } = run('clopidogrel', [genotype('CYP2C19', '*1/*1'), med]);
    expect(main.guideline?.recommendationId).toBe('PA166297567');
    expect(main.pgx!.phenoconversion ?? []).toEqual([]);
  });

  test.each([
    ['omeprazole (moderate CYP2C19; clopidogrel label: avoid)', 'omeprazole', '7646', 'moderate'],
    ['rifampin (strong CYP2C19 inducer, FDA)', 'rifampin', '9384', 'inducer'],
  ])('clopidogrel, CYP2C19 *1/*1, %s → the NM row PA166297567 is kept, with a caution card', (_label, name, code, strength) => {
    const { main, cards } = run('clopidogrel', [genotype('CYP2C19', '*1/*1'), request(name, code)]);
    expect(main.guideline?.recommendationId).toBe('PA166297567');
    expect(main.pgx!.phenoconversion![0]).toMatchObject({ drug: name, strength, effect: 'caution', genotypePhenotype: 'Normal Metabolizer' });
    expect(main.pgx!.phenoconversion![0]!.resultingPhenotype).toBeUndefined();
    expect(cards).toHaveLength(1);
    expect(cards[0]!.indicator).toBe('info');
    expect(cards[0]!.summary).toBe(`Clopidogrel: CYP2C19 Normal Metabolizer, ${name} active — see CPIC guidance (CPIC Strong)`);
    expect(visibleText(cards[0]!.detail!)).toMatch(new RegExp(`${name} \\(.*CYP2C19.*\\) is active: .*use with caution`));
  });
});

describe('only active interacting drugs count', () => {
  test.each<[string, FhirResource]>([
    ['MedicationStatement completed', statement(...PAROXETINE, 'completed')],
    ['MedicationStatement stopped', statement(...PAROXETINE, 'stopped')],
    ['MedicationStatement entered-in-error', statement(...PAROXETINE, 'entered-in-error')],
    ['MedicationRequest stopped', request(...PAROXETINE, 'stopped')],
    ['MedicationRequest completed', request(...PAROXETINE, 'completed')],
    ['MedicationStatement active but its effective period ended 2026-10-31', statement(...PAROXETINE, 'active', '2026-10-31')],
  ])('%s → no conversion: codeine *1/*1 stays NM (PA166297600, no card)', (_label, med) => {
    const { main, cards } = run('codeine', [genotype('CYP2D6', '*1/*1'), med]);
    expect(main.guideline?.recommendationId).toBe('PA166297600');
    expect(main.pgx!.phenoconversion).toBeUndefined();
    expect(cards).toEqual([]);
  });

  test('an effective period that ends after today still counts', () => {
    const { main } = run('codeine', [genotype('CYP2D6', '*1/*1'), statement(...PAROXETINE, 'active', '2027-01-31')]);
    expect(main.guideline?.recommendationId).toBe('PA166297602');
  });
});

describe('an inhibitor never converts its own metabolism', () => {
  test('paroxetine ordered, CYP2D6 *1/*1, paroxetine already on file → the NM paroxetine row PA166298349', () => {
    const { main } = run('paroxetine', [genotype('CYP2D6', '*1/*1'), request(...PAROXETINE)]);
    expect(main.guideline?.recommendationId).toBe('PA166298349');
    expect(main.pgx!.phenoconversion).toBeUndefined();
  });

  test('paroxetine ordered with fluoxetine on file → fluoxetine converts: the PM paroxetine row PA166298357', () => {
    const { main } = run('paroxetine', [genotype('CYP2D6', '*1/*1'), request(...FLUOXETINE)]);
    expect(main.guideline?.recommendationId).toBe('PA166298357');
    expect(main.pgx!.phenoconversion!.map((s) => s.drug)).toEqual(['fluoxetine']);
  });
});

describe('no genotype on file, but the interacting drug decides (strong inhibitor: Poor Metabolizer whatever the genotype)', () => {
  test('tamoxifen with paroxetine, no CYP2D6 result → PM row PA166298530 (alternative hormonal therapy), a warning', () => {
    const { main, cards } = run('tamoxifen', [request(...PAROXETINE)]);
    expect(main.guideline?.recommendationId).toBe('PA166298530');
    expect(main.severity).toBe('warning');
    expect(main.pgx!.phenoconversion![0]).toMatchObject({ resultingPhenotype: 'Poor Metabolizer' });
    expect(main.pgx!.phenoconversion![0]!.genotypePhenotype).toBeUndefined();
    const card = cards.find((c) => c.summary.startsWith('Tamoxifen: CYP2D6 Poor Metabolizer'))!;
    expect(card.indicator).toBe('warning');
    expect(visibleText(card.detail!)).toContain('the patient behaves as a CYP2D6 Poor Metabolizer (activity score 0.0) whatever the genotype (no CYP2D6 result on file)');
  });

  test('codeine with paroxetine, no CYP2D6 result → PA166297602 avoid codeine, capped at a warning (no test result decides)', () => {
    const { main } = run('codeine', [request(...PAROXETINE)]);
    expect(main.guideline?.recommendationId).toBe('PA166297602');
    expect(main.severity).toBe('warning');
  });

  test('codeine with duloxetine (moderate), no CYP2D6 result → no conversion can be computed: a caution step, no PM row', () => {
    const { recs } = run('codeine', [request('duloxetine', '72625')]);
    const steps = recs.flatMap((r) => r.pgx?.phenoconversion ?? []);
    expect(steps.length).toBeGreaterThan(0);
    expect(steps[0]).toMatchObject({ drug: 'duloxetine', effect: 'caution' });
    expect(recs.some((r) => r.guideline?.recommendationId === 'PA166297602')).toBe(false);
  });
});

describe('never silent: medications that could not be read', () => {
  test('codeine *1/*1, the MedicationRequest search failed → the row is the genotype\'s, and a note says interacting drugs were not checked', () => {
    const rx = k.drugs['codeine']!.rxcui!;
    const f = { ...factsOf([genotype('CYP2D6', '*1/*1')]), unavailable: ['medicationRequests: FHIR server error 500'] };
    const recs = evaluatePgx(k, f, draft('codeine', rx), { ingredient: 'codeine', rxcui: rx }, [], { settings: DEFAULT_PGX_SETTINGS, newId: randomUUID, now: NOW, phenoconversion: table });
    expect(recs[0]!.guideline?.recommendationId).toBe('PA166297600');
    expect(recs[0]!.notes).toContain('the active medications could not be read: interacting drugs that change the phenotype (phenoconversion) were not checked');
  });
});

describe('DPWG evaluation uses the converted phenotype too', () => {
  test('codeine DPWG, CYP2D6 *1/*1 with paroxetine → the DPWG PM row (not the NM one), with the step', () => {
    const dk = defaultDpwgKnowledge();
    const f = factsOf([genotype('CYP2D6', '*1/*1'), request(...PAROXETINE)]);
    const o = { settings: DEFAULT_PGX_SETTINGS, newId: randomUUID, now: NOW };
    const order = draft('codeine', '2670');
    const plain = evaluateDpwg(dk, f, order, { ingredient: 'codeine', rxcui: '2670' }, medicationUses(f, drugs), o);
    const converted = evaluateDpwg(dk, f, order, { ingredient: 'codeine', rxcui: '2670' }, medicationUses(f, drugs), { ...o, phenoconversion: table });
    const row = (rs: Recommendation[]) => rs.find((r) => r.pgx && !['test', 'unreadable'].includes(r.pgx.action));
    expect(row(plain)?.genes?.[0]?.phenotype).toMatch(/^Normal Metabolizer/);
    expect(row(converted)?.genes?.[0]?.phenotype).toBe('Poor Metabolizer (activity score 0.0) with paroxetine');
    expect(row(converted)?.pgx?.action).not.toBe(row(plain)?.pgx?.action);
    expect(row(converted)?.pgx?.phenoconversion?.[0]?.drug).toBe('paroxetine');
  });
});

describe('phenoconvert (pure): several interacting drugs, unknown values', () => {
  const allowed = new Set(['0.0', '0.25', '0.5', '0.75', '1.0', '1.25', '1.5', '2.0', '≥3.0']);
  const med = (drug: string) => ({ ingredients: [drug], source: { reference: `MedicationRequest/${drug}` } });
  const input = (medications: ReturnType<typeof med>[]) => ({
    lookup: { gene: 'CYP2D6', keys: ['2.0'], phenotype: 'Normal Metabolizer', activityScore: '2.0', basis: 'diplotype' },
    method: 'activity',
    allowed,
    scorePhenotypes: k.genes['CYP2D6']!.scorePhenotypes ?? [],
    orderedDrug: 'codeine',
    medications,
    now: NOW,
  });

  test('strong and moderate together → the strong one converts (AS 0.0), the moderate one is listed as also active', () => {
    const r = phenoconvert(table, input([med('duloxetine'), med('paroxetine')]));
    expect(r).toMatchObject({ keys: ['0.0'], activityScore: '0.0', phenotype: 'Poor Metabolizer', by: 'paroxetine' });
    expect(r.steps.map((s) => [s.drug, s.resultingPhenotype])).toEqual([
      ['paroxetine', 'Poor Metabolizer'],
      ['duloxetine', undefined],
    ]);
    expect(r.steps[1]!.text).toContain('the effect of paroxetine, as strong or stronger, is used');
  });

  test('an Indeterminate CYP2D6 result (no activity score) with a moderate inhibitor → a caution that says why, no keys', () => {
    const r = phenoconvert(table, { ...input([med('duloxetine')]), lookup: { gene: 'CYP2D6', keys: ['n/a'], phenotype: 'Indeterminate', basis: 'diplotype' } });
    expect(r.keys).toBeUndefined();
    expect(r.steps[0]!.effect).toBe('caution');
    expect(r.steps[0]!.text).toContain('the genotype gives no CYP2D6 activity score to adjust (Indeterminate)');
  });

  test('an Indeterminate CYP2D6 result with a strong inhibitor → Poor Metabolizer (whatever the genotype)', () => {
    const r = phenoconvert(table, { ...input([med('bupropion')]), lookup: { gene: 'CYP2D6', keys: ['n/a'], phenotype: 'Indeterminate', basis: 'diplotype' } });
    expect(r).toMatchObject({ keys: ['0.0'], phenotype: 'Poor Metabolizer', by: 'bupropion' });
  });

  test('a stated phenotype only (CYP2D6 Normal Metabolizer: AS 1.25–2.25) with duloxetine → every score halved, all Intermediate', () => {
    const nm = { gene: 'CYP2D6', keys: ['1.25', '1.5', '2.0'], phenotype: 'Normal Metabolizer', basis: 'phenotype' };
    const r = phenoconvert(table, { ...input([med('duloxetine')]), lookup: nm });
    // 1.25 x 0.5 = 0.625 → 0.5; 1.5 → 0.75; 2.0 → 1.0 (CPIC: 0.25–1.0 Intermediate Metabolizer)
    expect(r.keys).toEqual(['0.5', '0.75', '1.0']);
    expect(r.phenotype).toBe('Intermediate Metabolizer');
    expect(r.activityScore).toBeUndefined();
  });

  test('no interacting drug → nothing changes', () => {
    expect(phenoconvert(table, input([med('metformin')]))).toEqual({ steps: [] });
  });

  test('a gene outside the table (CYP3A5) is never converted', () => {
    expect(phenoconvert(table, { ...input([med('paroxetine')]), lookup: { gene: 'CYP3A5', keys: ['Normal Metabolizer'], basis: 'diplotype' } })).toEqual({ steps: [] });
  });
});
