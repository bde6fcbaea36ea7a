// Pharmacogenomic results from FHIR Observations: every IG example in ../shared/data/fhir-genomics plus
// hand-written variants of the patterns in ../shared/reference/fhir-pgx-coding.md (fixtures: test/support/genomics-observations.ts).
// This file: HLA allele presence tests, typings and haplotypes.
import type { Observation } from 'fhir/r4';
import { hlaCarrier, readGeneResults } from '../../src/fhir/genomics/index.js';
import { type CC, loinc, base, genotype, textValue, haplotype, only, ignoredReason } from '../support/genomics-observations.js';

// ------------------------------------------------------------------------------------------------------------
// HLA
// ------------------------------------------------------------------------------------------------------------

describe('HLA', () => {
  // Source: fhir-pgx-coding.md "HLA", GenotypeExample1 (ClinVar 14909), CPIC lookup keys "*57:01 positive|negative".
  test.each<[string, string, CC, string, boolean]>([
    ['ClinVar 14909 display', 'HLA-B', { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/clinvar', code: '14909', display: 'HLA-B*15:02' }] }, '*15:02', true],
    ['ClinVar 14909 without display', 'HLA-B', { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/clinvar', code: '14909' }] }, '*15:02', true],
    ['positive', 'HLA-B', textValue('HLA-B*15:02 positive'), '*15:02', true],
    ['negative', 'HLA-B', textValue('HLA-B*15:02 negative'), '*15:02', false],
    ['carrier', 'HLA-B', textValue('HLA-B*15:02 carrier'), '*15:02', true],
    ['non-carrier', 'HLA-B', textValue('HLA-B*15:02 non-carrier'), '*15:02', false],
    ['not detected', 'HLA-B', textValue('HLA-B*57:01 not detected'), '*57:01', false],
    ['negative first', 'HLA-B', textValue('Negative for HLA-B*57:01'), '*57:01', false],
    ['abacavir allele positive', 'HLA-B', textValue('HLA-B*57:01 Positive'), '*57:01', true],
    ['three fields cut to two', 'HLA-B', textValue('HLA-B*57:01:01 detected'), '*57:01', true],
    ['HLA-A carbamazepine allele', 'HLA-A', textValue('HLA-A*31:01 negative'), '*31:01', false],
  ])('%s', (_name, gene, value, allele, positive) => {
    const r = only(genotype(gene, value));
    expect(r).toMatchObject({ gene, hla: { allele, positive } });
    expect(hlaCarrier([r], gene, allele)).toBe(positive);
  });

  test.each<[string, CC, RegExp]>([
    ['both words', textValue('HLA-B*57:01 positive negative'), /both positive and negative/],
    ['another HLA gene', textValue('HLA-A*31:01 positive'), /another HLA gene/],
    ['no allele', textValue('HLA-B positive'), /no HLA allele/],
  ])('%s → ignored', (_name, value, reason) => {
    expect(ignoredReason(genotype('HLA-B', value))).toMatch(reason);
  });

  // Source: hand-written: allele named in the text, result in a coded answer (LOINC LA6576-8 / LA6577-6).
  test.each<[string, CC, boolean | RegExp]>([
    ['coded Negative + allele text', { ...loinc('LA6577-6', 'Negative'), text: 'HLA-B*57:01' }, false],
    ['Negative display only + allele text', { coding: [{ display: 'Negative' }], text: 'HLA-B*57:01' }, false],
    ['coded Positive + allele text', { ...loinc('LA6576-8', 'Positive'), text: 'HLA-B*57:01' }, true],
    ['coded Positive + text saying negative', { ...loinc('LA6576-8', 'Positive'), text: 'HLA-B*57:01 negative' }, /both positive and negative/],
  ])('%s', (_name, value, expected) => {
    const obs = genotype('HLA-B', value);
    if (typeof expected === 'boolean') expect(only(obs).hla).toEqual({ allele: '*57:01', positive: expected });
    else expect(ignoredReason(obs)).toMatch(expected);
  });

  test('typing: two alleles form a diplotype; carriage follows from it', () => {
    const r = only(genotype('HLA-B', textValue('HLA-B*57:01:01/*07:02')));
    expect(r.diplotype).toBe('*07:02/*57:01');
    expect(hlaCarrier([r], 'HLA-B', '*57:01')).toBe(true);
    expect(hlaCarrier([r], 'HLA-B', '*15:02')).toBe(false);
  });

  test('an expression-suffixed (null) allele never matches the two-field allele', () => {
    const r = only(genotype('HLA-B', textValue('HLA-B*57:01:01N positive')));
    expect(r.hla).toEqual({ allele: '*57:01:01N', positive: true });
    expect(hlaCarrier([r], 'HLA-B', '*57:01')).toBeUndefined();
  });

  test('a typing that contradicts a presence test is flagged and carriage is unknown', () => {
    const r = readGeneResults([
      genotype('HLA-B', textValue('HLA-B*57:01 negative'), { id: 'neg' }),
      genotype('HLA-B', textValue('HLA-B*57:01/*08:01'), { id: 'typing' }),
    ]);
    expect(r.results).toHaveLength(2);
    for (const x of r.results) expect(x.notes?.[0]).toMatch(/contradict each other about HLA-B\*57:01/);
    expect(hlaCarrier(r.results, 'HLA-B', '*57:01')).toBeUndefined();
  });

  test('presence test coded on Observation.code with a Positive answer', () => {
    const obs: Observation = { ...base({ text: 'HLA-B*57:01 [Presence] in Blood' }, { id: 'p' }), valueCodeableConcept: loinc('LA6576-8', 'Positive') };
    expect(only(obs)).toMatchObject({ gene: 'HLA-B', hla: { allele: '*57:01', positive: true } });
    const neg: Observation = { ...obs, valueCodeableConcept: loinc('LA6577-6', 'Negative') };
    expect(only(neg).hla).toEqual({ allele: '*57:01', positive: false });
  });

  test('HLA haplotype Observations: one is carriage, two are a typing', () => {
    const h = (a: string, id: string): Observation => ({ ...haplotype('HLA-B', a, { id, specimen: 'Specimen/s' }), valueCodeableConcept: textValue(`HLA-B${a}`) });
    expect(only(h('*58:01', 'a')).hla).toEqual({ allele: '*58:01', positive: true });
    expect(only([h('*58:01', 'a'), h('*07:02', 'b')]).diplotype).toBe('*07:02/*58:01');
  });
});
