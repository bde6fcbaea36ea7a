// Pharmacogenomic results from FHIR Observations: every IG example in ../shared/data/fhir-genomics plus
// hand-written variants of the patterns in ../shared/reference/fhir-pgx-coding.md (fixtures: test/support/genomics-observations.ts).
// This file: Observation status and several results for one gene (duplicates, disagreements).
import type { Observation } from 'fhir/r4';
import { phenotypeForGene, readGeneResults, resultForGene } from '../../src/fhir/genomics/index.js';
import { loinc, base, genotype, pharmvar, textValue, only, ignoredReason } from '../support/genomics-observations.js';

// ------------------------------------------------------------------------------------------------------------
// Status, duplicates, disagreements
// ------------------------------------------------------------------------------------------------------------

describe('status', () => {
  // Source: brief: only final, amended and corrected are used; issue 14: a result on file that is not used is said.
  test.each(['entered-in-error', 'cancelled'] as const)('%s is not a result: ignored, not unread', (status) => {
    const r = readGeneResults([genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { status })]);
    expect(r.results).toEqual([]);
    expect(r.unread).toEqual([]);
    expect(r.ignored[0]?.reason).toBe(`status ${status}: not a result`);
  });
  test.each(['preliminary', 'registered', 'unknown'] as const)('%s is on file but not final: unread, with its gene', (status) => {
    const r = readGeneResults([genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { status })]);
    expect(r.results).toEqual([]);
    expect(r.unread).toEqual([{ genes: ['CYP2C9'], reason: `status ${status}: the result is on file but not final`, text: 'Genotype display name: CYP2C9*1/*3', source: { reference: 'Observation/x' } }]);
  });
  test.each(['final', 'amended', 'corrected'] as const)('%s is used', (status) => {
    expect(only(genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { status })).diplotype).toBe('*1/*3');
  });
  test('missing status is ignored', () => {
    const obs = genotype('CYP2C9', pharmvar('CYP2C9*1/*3')) as Partial<Observation>;
    delete obs.status;
    expect(ignoredReason(obs as Observation)).toBe('Observation has no status');
  });
});

describe('several results for one gene', () => {
  // Source: brief: prefer the newest final result and say so when they disagree.
  test('disagreeing results: the newest is used and the choice is noted', () => {
    const r = readGeneResults([
      genotype('CYP2C9', pharmvar('CYP2C9*1/*1'), { id: 'old', date: '2019-04-01' }),
      genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'new', date: '2024-03-01', status: 'corrected' }),
    ]);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toMatchObject({ diplotype: '*1/*3', source: { reference: 'Observation/new', date: '2024-03-01' } });
    expect(r.results[0]!.notes).toEqual([
      '2 results for CYP2C9 disagree; the newest (2024-03-01, Observation/new) was used; set aside: Observation/old (2019-04-01)',
    ]);
    expect(r.ignored).toEqual([{ reference: 'Observation/old', reason: 'superseded: disagrees with Observation/new, which was used' }]);
  });

  test('issued is used when there is no effective date; effectivePeriod counts', () => {
    const a = { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*1'), { id: 'a' }), issued: '2024-01-01T10:00:00Z' };
    const b = { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*2'), { id: 'b' }), effectivePeriod: { start: '2023-01-01', end: '2023-01-02' } };
    expect(only([a, b] as Observation[]).source.reference).toBe('Observation/a');
  });

  // Source: issue 14 item 4: current results that disagree are all kept, so that the card can say so and the engine
  // can take the more cautious one (it used to drop both, and the card then said "no result on file")
  test('disagreeing results of the same date: both are kept, each naming the other', () => {
    const r = readGeneResults([
      genotype('CYP2C9', pharmvar('CYP2C9*1/*1'), { id: 'a', date: '2024-03-01' }),
      genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'b', date: '2024-03-01' }),
    ]);
    expect(r.results.map((x) => [x.diplotype, x.notes])).toEqual([
      ['*1/*1', ['2 results for CYP2C9 disagree and none is newer (Observation/a, Observation/b)']],
      ['*1/*3', ['2 results for CYP2C9 disagree and none is newer (Observation/a, Observation/b)']],
    ]);
    expect(r.unread).toEqual([]);
  });

  test('an undated result that disagrees cannot be ordered: both are kept', () => {
    const r = readGeneResults([
      genotype('CYP2C9', pharmvar('CYP2C9*1/*1'), { id: 'a', date: '2024-03-01' }),
      genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'b' }),
    ]);
    expect(r.results.map((x) => x.diplotype)).toEqual(['*1/*1', '*1/*3']);
  });

  test('an older result that disagrees with two current ones is superseded', () => {
    const r = readGeneResults([
      genotype('CYP2C9', pharmvar('CYP2C9*1/*1'), { id: 'a', date: '2024-03-01' }),
      genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'b', date: '2024-03-01' }),
      genotype('CYP2C9', pharmvar('CYP2C9*2/*2'), { id: 'c', date: '2019-03-01' }),
    ]);
    expect(r.results.map((x) => x.diplotype)).toEqual(['*1/*1', '*1/*3']);
    expect(r.ignored).toEqual([{ reference: 'Observation/c', reason: 'superseded: older than Observation/a, Observation/b' }]);
  });

  test('agreeing results: the newest is used and the others are named', () => {
    const r = only([
      genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'a', date: '2020-01-01' }),
      genotype('CYP2C9', textValue('CYP2C9 *3/*1'), { id: 'b', date: '2021-01-01' }),
    ]);
    expect(r.source.reference).toBe('Observation/b');
    expect(r.notes).toEqual(['1 other result(s) for CYP2C9 agree: Observation/a']);
  });

  // Source: issue 14 item 4: a newer result of any kind supersedes an older one of another kind for the same gene
  test('results of different kinds are all kept; the newest is the current one', () => {
    const r = readGeneResults([
      genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'g', date: '2020-01-01' }),
      { ...base(loinc('79716-7'), { id: 'p', date: '2024-01-01' }), valueCodeableConcept: loinc('LA10317-8') },
    ]);
    expect(r.results.map((x) => x.diplotype ?? x.phenotype)).toEqual(['*1/*3', 'Intermediate Metabolizer']);
    expect(resultForGene(r.results, 'cyp2c9')?.phenotype).toBe('Intermediate Metabolizer');
    expect(phenotypeForGene(r.results, 'CYP2C9', '11289')?.phenotype).toBe('Intermediate Metabolizer');
  });

  test('the same Observation supplied twice is read once', () => {
    const g = genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'same' });
    const r = readGeneResults([g, structuredClone(g)]);
    expect(r.results).toHaveLength(1);
    expect(r.ignored).toEqual([{ reference: 'Observation/same', reason: 'the same Observation was supplied twice; the first copy was read' }]);
  });
});
