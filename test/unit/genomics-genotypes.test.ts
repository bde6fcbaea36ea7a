// Pharmacogenomic results from FHIR Observations: every IG example in ../shared/data/fhir-genomics plus
// hand-written variants of the patterns in ../shared/reference/fhir-pgx-coding.md (fixtures: test/support/genomics-observations.ts).
// This file: star-allele genotypes and haplotypes.
import type { Observation } from 'fhir/r4';
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import {
  ex,
  HGNC,
  type CC,
  loinc,
  geneComponent,
  genotype,
  pharmvar,
  textValue,
  haplotype,
  only,
  ignoredReason,
} from '../support/genomics-observations.js';

// ------------------------------------------------------------------------------------------------------------
// Star-allele genotypes and haplotypes
// ------------------------------------------------------------------------------------------------------------

describe('star-allele genotypes', () => {
  // Source: fhir-pgx-coding.md "Genotype" (PharmVar / ClinVar / text-only values) and CPIC diplotype notation
  // (../shared/data/cpic/diplotype_phenotypes.tsv: "*1/*1x2", "*1/*1x≥3", "*80+*37/*80+*37").
  test.each<[string, string, CC, string]>([
    ['PharmVar code', 'CYP2C9', pharmvar('CYP2C9*1/*3'), '*1/*3'],
    ['PharmVar code, alleles out of order', 'CYP2C9', pharmvar('CYP2C9*3/*1'), '*1/*3'],
    ['IG style: gene as code, diplotype in display', 'CYP2C9', pharmvar('CYP2C9', 'CYP2C9 *3/*1'), '*1/*3'],
    ['text only', 'CYP2C9', textValue('CYP2C9 *1/*3'), '*1/*3'],
    ['text without gene, spaces', 'CYP2C9', textValue(' *2 / *3 '), '*2/*3'],
    ['gene repeated on both alleles', 'CYP2C9', textValue('CYP2C9*3/CYP2C9*1'), '*1/*3'],
    ['numeric, not lexical, order', 'CYP2C19', textValue('CYP2C19 *17/*2'), '*2/*17'],
    ['ClinVar with display', 'CYP2C19', { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/clinvar', code: '638797', display: 'CYP2C19*2/*2' }] }, '*2/*2'],
    ['ClinVar 638797 without display (IG example code)', 'CYP2C19', { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/clinvar', code: '638797' }] }, '*2/*2'],
    ['suballele letters', 'TPMT', textValue('TPMT *3A/*1'), '*1/*3A'],
    ['duplication kept verbatim', 'CYP2D6', textValue('CYP2D6 *1/*2xN'), '*1/*2xN'],
    ['duplication moved with its allele', 'CYP2D6', textValue('CYP2D6*2x2/*1'), '*1/*2x2'],
    ['CPIC ≥ notation', 'CYP2D6', textValue('*1/*1x≥3'), '*1/*1x≥3'],
    ['tandem kept verbatim', 'CYP2D6', textValue('CYP2D6 *36+*10/*10'), '*10/*36+*10'],
    ['DPYD named alleles, Reference first, as CPIC names them', 'DPYD', textValue('DPYD c.1905+1G>A/Reference'), 'Reference/c.1905+1G>A (*2A)'],
  ])('%s', (_name, gene, value, diplotype) => {
    expect(only(genotype(gene, value))).toMatchObject({ gene, diplotype });
  });

  test.each<[string, string, string]>([
    ['http://www.genenames.org', 'HGNC:2623', 'IG system'],
    ['http://www.genenames.org/geneId', 'HGNC:2623', 'genomics-operations system'],
    ['http://www.genenames.org', '2623', 'bare number'],
  ])('HGNC system %s code %s (%s)', (system, code) => {
    const obs = genotype(undefined, pharmvar('CYP2C9*1/*2'));
    obs.component = [{ code: loinc('48018-6'), valueCodeableConcept: { coding: [{ system, code }] } }];
    expect(only(obs)).toMatchObject({ gene: 'CYP2C9', diplotype: '*1/*2' });
  });

  test('gene given only in the value text', () => {
    expect(only(genotype(undefined, textValue('CYP2C9*1/*2')))).toMatchObject({ gene: 'CYP2C9', diplotype: '*1/*2' });
  });

  test('whitespace of any kind in systems, codes and values is collapsed', () => {
    const obs = genotype('CYP2C9', pharmvar('\tCYP2C9\u00a0 *3/*1 '));
    obs.code = { coding: [{ system: ' HTTPS://LOINC.org/ ', code: '84413-4\n' }] };
    expect(only(obs)).toMatchObject({ gene: 'CYP2C9', diplotype: '*1/*3', text: 'CYP2C9 *3/*1' });
  });

  // Source: hand-written failure modes; each must be ignored, never guessed.
  test.each<[string, Observation, RegExp]>([
    ['value names another gene', genotype('CYP2C9', textValue('CYP2C19 *1/*2')), /names CYP2C19 but the Observation is about CYP2C9/],
    ['codings and text disagree', genotype('CYP2C9', { ...pharmvar('CYP2C9*1/*3'), text: 'CYP2C9 *1/*2' }), /disagree/],
    ['HGNC id and display disagree', { ...genotype(undefined, pharmvar('CYP2C9*1/*3')), component: [{ code: loinc('48018-6'), valueCodeableConcept: { coding: [{ system: HGNC, code: 'HGNC:2623', display: 'CYP2C19' }] } }] }, /does not match its display/],
    ['three alleles', genotype('CYP2C9', textValue('*1/*2/*3')), /more than two alleles/],
    ['single allele in a genotype', genotype('CYP2C9', pharmvar('CYP2C9*3')), /single star allele/],
    ['gene only', genotype('CYP2C9', pharmvar('CYP2C9')), /coding carries no genotype/],
    ['no value', { ...genotype('CYP2C9', textValue('x')), valueCodeableConcept: undefined }, /no value/],
    ['no gene anywhere', genotype(undefined, textValue('*1/*3')), /gene could not be determined/],
    ['trailing words', genotype('CYP2C9', textValue('*1/*3 intermediate')), /not a star-allele genotype/],
    ['two gene components', { ...genotype('CYP2C9', textValue('*1/*3')), component: [geneComponent('CYP2C9'), geneComponent('CYP2C19')] }, /several genes/],
  ])('%s → ignored', (_name, obs, reason) => {
    expect(ignoredReason(obs)).toMatch(reason);
  });
});

describe('haplotypes', () => {
  // Source: fhir-pgx-coding.md "Haplotype" + the IG's haplotype-2-pgx-example (gene as code, allele as display).
  test('two haplotypes of one specimen form a sorted diplotype', () => {
    const r = only([haplotype('CYP2C9', '*3', { id: 'h1', specimen: 'Specimen/s1' }), haplotype('CYP2C9', '*1', { id: 'h2', specimen: 'Specimen/s1' })]);
    expect(r).toMatchObject({ gene: 'CYP2C9', diplotype: '*1/*3', source: { reference: 'Observation/h1' } });
    expect(r.notes).toEqual(['diplotype assembled from the haplotype Observations Observation/h1 and Observation/h2']);
    expect(r.haplotype).toBeUndefined();
  });

  test('two haplotypes of one date (no specimen) form a diplotype', () => {
    expect(only([haplotype('CYP2C9', '*2', { id: 'a', date: '2023-05-01' }), haplotype('CYP2C9', '*2', { id: 'b', date: '2023-05-01' })])).toMatchObject({ diplotype: '*2/*2' });
  });

  test('the IG haplotype with its partner', () => {
    const h1 = { ...ex('stu3_haplotype'), id: 'haplotype-1-pgx-example', valueCodeableConcept: pharmvar('CYP2C9', 'CYP2C9 *1') } as Observation;
    expect(only([h1, ex('stu3_haplotype')])).toMatchObject({ gene: 'CYP2C9', diplotype: '*1/*4' });
  });

  test('haplotypes of different dates and no specimen stay single', () => {
    const r = readGeneResults([haplotype('CYP2C9', '*2', { id: 'a', date: '2023-05-01' }), haplotype('CYP2C9', '*3', { id: 'b', date: '2024-05-01' })]);
    expect(r.results.map((x) => x.haplotype)).toEqual(['*2', '*3']);
    expect(r.results.every((x) => x.diplotype === undefined)).toBe(true);
  });

  test('haplotypes without specimen or date are never paired', () => {
    const r = readGeneResults([haplotype('CYP2C9', '*2', { id: 'a' }), haplotype('CYP2C9', '*3', { id: 'b' })]);
    expect(r.results.map((x) => x.haplotype)).toEqual(['*2', '*3']);
  });

  test('three haplotypes of one specimen are not combined', () => {
    const hs = ['*1', '*2', '*3'].map((a, i) => haplotype('CYP2D6', a, { id: `h${i}`, specimen: 'Specimen/s' }));
    expect(ignoredReason(hs)).toMatch(/3 haplotypes of CYP2D6/);
  });

  test('haplotype Observation carrying a diplotype is ignored', () => {
    expect(ignoredReason({ ...haplotype('CYP2C9', '*1'), valueCodeableConcept: textValue('CYP2C9 *1/*3') })).toMatch(/does not carry one allele/);
  });

  test('assembled diplotype and a genotype Observation that agree', () => {
    const r = readGeneResults([
      genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'g', date: '2023-01-01' }),
      haplotype('CYP2C9', '*3', { id: 'h1', date: '2023-01-01' }),
      haplotype('CYP2C9', '*1', { id: 'h2', date: '2023-01-01' }),
    ]);
    expect(r.results).toHaveLength(1);
    expect(r.results[0]).toMatchObject({ diplotype: '*1/*3', source: { reference: 'Observation/g' } });
  });
});
