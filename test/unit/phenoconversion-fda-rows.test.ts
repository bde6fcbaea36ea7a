// The rows added to knowledge/phenoconversion.json in version 2026-12-07.2 (FDA clinical-index drugs not yet in the
// table, each confirmed by the source its row cites): every drug through the real evaluation path (FHIR resources →
// facts → drug dictionary → CPIC engine with the table → cards), sent as brand text, as a local code's display and,
// for the negative case, as a code with no display (not recognised: the documented limit of name-only rows).
import type { FhirResource } from 'fhir/r4';
import { activeInteractions } from '../../src/dosing/pgx/phenoconversion.js';
import { visibleText } from '../support/markdown.js';
import { asBareLocalCode, asLocalCode, asRxnorm, asText, genotype, phenoTable, runOrder } from '../support/phenoconversion-cases.js';

const rowOf = (enzyme: string, drug: string) => phenoTable.rows.find((r) => r.enzyme === enzyme && r.drug === drug);

describe('abiraterone: moderate CYP2D6 inhibitor → activity score x 0.5 (row CYP2D6 abiraterone: Benoist 2016 dextromethorphan AUC x 2.9; Borges 2010)', () => {
  test.each<[string, FhirResource]>([
    ['US brand as text ("Zytiga")', asText('Zytiga 250 mg tablet')],
    ['ingredient as text', asText('abiraterone acetate 500 MG Oral Tablet')],
    ['US brand as the display of a local code ("Yonsa")', asLocalCode('YONSA 125 MG PO TABS', 'YON125')],
  ])('codeine, CYP2D6 *1/*1 (AS 2.0), abiraterone sent as %s → AS 1.0, CPIC codeine IM row PA166297596', (_label, med) => {
    const { main, cards } = runOrder('codeine', [genotype('CYP2D6', '*1/*1'), med]);
    expect(main.guideline?.recommendationId).toBe('PA166297596');
    const step = main.pgx!.phenoconversion![0]!;
    expect(step).toMatchObject({ gene: 'CYP2D6', drug: 'abiraterone', strength: 'moderate', effect: 'activity-factor', genotypeActivityScore: '2.0', resultingActivityScore: '1.0', resultingPhenotype: 'Intermediate Metabolizer' });
    expect(step.text).toContain('activity score x 0.5, rounded down to a 0.25 step');
    expect(step.sources.map((s) => s.url)).toContain('https://pmc.ncbi.nlm.nih.gov/articles/PMC5069300/');
    // the classes disagree (Cicali 2020: weak in the FDA table of its time): the note says so on the recommendation
    expect(main.notes.join(' ')).toMatch(/abiraterone \(CYP2D6\): .*sources disagree/);
    expect(visibleText(cards[0]!.detail!)).toContain('treated as CYP2D6 Intermediate Metabolizer (activity score 1.0)');
  });

  test('codeine, CYP2D6 *1/*4 (AS 1.0) with Zytiga → AS 0.5, CPIC codeine row PA166297594', () => {
    const { main } = runOrder('codeine', [genotype('CYP2D6', '*1/*4'), asText('ZYTIGA 500 MG TABLET')]);
    expect(main.pgx!.phenoconversion![0]).toMatchObject({ drug: 'abiraterone', genotypeActivityScore: '1.0', resultingActivityScore: '0.5' });
    expect(main.guideline?.recommendationId).toBe('PA166297594');
  });

  test('abiraterone sent only as a local code with no display or text is not recognised (name-only row: the documented limit) → NM row PA166297600, no card', () => {
    const { main, cards } = runOrder('codeine', [genotype('CYP2D6', '*1/*1'), asBareLocalCode('YON125')]);
    expect(main.guideline?.recommendationId).toBe('PA166297600');
    expect(main.pgx!.phenoconversion).toBeUndefined();
    expect(cards).toEqual([]);
  });
});

describe('CYP2C19 moderate inhibitor (moclobemide: Cho 2002, omeprazole AUC about x 2) and inducers (caution only, like rifampin), with clopidogrel', () => {
  // the CPIC clopidogrel Normal Metabolizer row is kept: no guideline gives a phenotype for these drugs
  test.each<[string, string, string, FhirResource, RegExp]>([
    ['moclobemide as text', 'moclobemide', 'moderate', asText('moclobemide 150 mg tablet'), /it may lower CYP2C19 activity \(no documented phenotype adjustment\)/],
    ['apalutamide as its US brand (Erleada label: strong CYP2C19 inducer)', 'apalutamide', 'inducer', asText('Erleada 60 mg tablet'), /CYP2C19 metabolism may be faster than the genotype predicts/],
    ['enzalutamide as a local code display "XTANDI" (Gibbons 2015: omeprazole AUC -70%)', 'enzalutamide', 'inducer', asLocalCode('XTANDI 40 MG PO CAPS', 'XTA40'), /CYP2C19 metabolism may be faster than the genotype predicts/],
    ['phenytoin by its RxNorm ingredient code 8183 (Clin Transl Sci 2022: moderate CYP2C19 inducer)', 'phenytoin', 'inducer', asRxnorm('phenytoin', '8183'), /CYP2C19 metabolism may be faster/],
    ['phenytoin as its US brand (Dilantin) text', 'phenytoin', 'inducer', asText('Dilantin 100 mg extended-release capsule'), /CYP2C19 metabolism may be faster/],
    ['fosphenytoin (prodrug of phenytoin) as a local code display "Cerebyx"', 'phenytoin', 'inducer', asLocalCode('CEREBYX 500 MG PE/10 ML IV SOLN', 'CER500'), /CYP2C19 metabolism may be faster/],
  ])('clopidogrel, CYP2C19 *1/*1, %s → NM row PA166297567 kept, a caution naming CYP2C19', (_label, drug, strength, med, why) => {
    const { main, cards } = runOrder('clopidogrel', [genotype('CYP2C19', '*1/*1'), med]);
    expect(main.guideline?.recommendationId).toBe('PA166297567');
    const step = main.pgx!.phenoconversion![0]!;
    expect(step).toMatchObject({ gene: 'CYP2C19', drug, strength, effect: 'caution', genotypePhenotype: 'Normal Metabolizer' });
    expect(step.resultingPhenotype).toBeUndefined();
    expect(step.text).toMatch(why);
    expect(cards).toHaveLength(1);
    expect(cards[0]!.summary).toBe(`Clopidogrel: CYP2C19 Normal Metabolizer, ${drug} active — see CPIC guidance (CPIC Strong)`);
    expect(visibleText(cards[0]!.detail!)).toMatch(new RegExp(`${drug} \\((moderate CYP2C19 inhibitor|CYP2C19 inducer), MedicationRequest/m\\d+\\) is active: .*use with caution`));
  });

  test('moclobemide sent only as a local code with no display is not recognised → no step, no card', () => {
    const { main, cards } = runOrder('clopidogrel', [genotype('CYP2C19', '*1/*1'), asBareLocalCode('MOC150')]);
    expect(main.guideline?.recommendationId).toBe('PA166297567');
    expect(main.pgx!.phenoconversion).toBeUndefined();
    expect(cards).toEqual([]);
  });
});

describe('CYP2C9 inducers (carbamazepine: Clin Transl Sci 2022; enzalutamide: Gibbons 2015, S-warfarin AUC -56%) with celecoxib: the genotype row is kept, with a caution', () => {
  const baseline = runOrder('celecoxib', [genotype('CYP2C9', '*1/*1')]).main.guideline?.recommendationId;

  test.each<[string, string, FhirResource]>([
    ['carbamazepine by its RxNorm ingredient code 2002', 'carbamazepine', asRxnorm('carbamazepine', '2002')],
    ['carbamazepine as its US brand text ("Tegretol-XR")', 'carbamazepine', asText('TEGRETOL-XR 200 MG extended-release tablet')],
    ['enzalutamide as its US brand text ("Xtandi")', 'enzalutamide', asText('Xtandi 80 mg tablet')],
  ])('celecoxib, CYP2C9 *1/*1, %s → the same CPIC row as without it, and the inducer caution', (_label, drug, med) => {
    expect(baseline).toBeDefined();
    const { main, cards } = runOrder('celecoxib', [genotype('CYP2C9', '*1/*1'), med]);
    expect(main.guideline?.recommendationId).toBe(baseline);
    expect(main.pgx!.phenoconversion![0]).toMatchObject({ gene: 'CYP2C9', drug, strength: 'inducer', effect: 'caution', genotypePhenotype: 'Normal Metabolizer' });
    expect(main.pgx!.phenoconversion![0]!.text).toContain('CYP2C9 metabolism may be faster than the genotype predicts');
    expect(cards.some((c) => c.summary.includes(`${drug} active`))).toBe(true);
  });
});

describe('name matching is whole-word (src/dosing/pgx/phenoconversion.ts mentions): a synonym inside another word does not match', () => {
  const NOW = new Date('2026-11-25T12:00:00Z');
  const meds = (text: string) => [{ ingredients: [], text, source: { reference: 'MedicationRequest/x' } }];
  test.each([
    // [gene, medication text, the table row expected (drug) or none]
    ['CYP2C9', 'TEGRETOL-XR 200 MG', 'carbamazepine'],
    ['CYP2C9', 'oxcarbazepine 300 mg tablet', undefined], // not carbamazepine, and not in the table
    ['CYP2C19', 'fosphenytoin 50 mg PE/mL', 'phenytoin'], // its own synonym, not "phenytoin" inside the word
    ['CYP2C19', 'xtandi', 'enzalutamide'],
    ['CYP2C19', 'extandium', undefined], // "xtandi" inside another word
    ['CYP2D6', 'Zytigacare patient support leaflet', undefined], // "zytiga" inside another word
    ['CYP2D6', 'zytiga/prednisone', 'abiraterone'],
  ])('%s: "%s" → %s', (gene, text, drug) => {
    expect(activeInteractions(phenoTable, gene, 'none', meds(text), NOW).map((a) => a.row.drug)).toEqual(drug ? [drug] : []);
  });
});

describe('drugs not in the table (not confirmed through the reference search: docs/pgx.md, Limits) change nothing', () => {
  test.each<[string, string, string, string, FhirResource]>([
    ['felbamate (Felbatol): CYP2C19 and CYP2C9 class not confirmed', 'felbamate', 'clopidogrel', 'CYP2C19', asText('Felbatol 600 mg tablet')],
    ['efavirenz (Sustiva): omeprazole AUC -47% is the FDA weak range; moderate not confirmed', 'efavirenz', 'clopidogrel', 'CYP2C19', asText('Sustiva 600 mg tablet')],
    ['aprepitant (Emend): CYP2C9 induction shown, class not confirmed', 'aprepitant', 'celecoxib', 'CYP2C9', asText('Emend 125 mg capsule')],
    ['lorcaserin: withdrawn from the US market in 2020; current FDA listing not confirmed', 'lorcaserin', 'codeine', 'CYP2D6', asText('lorcaserin 10 mg tablet')],
  ])('%s → no row, no step', (_label, drug, ordered, gene, med) => {
    expect(rowOf(gene, drug)).toBeUndefined();
    const { main } = runOrder(ordered, [genotype(gene, '*1/*1'), med]);
    expect(main.pgx!.phenoconversion).toBeUndefined();
  });
});
