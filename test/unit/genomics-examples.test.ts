// Pharmacogenomic results from FHIR Observations: every IG example in ../shared/data/fhir-genomics plus
// hand-written variants of the patterns in ../shared/reference/fhir-pgx-coding.md (fixtures: test/support/genomics-observations.ts).
// This file: each IG example on its own and all together, and the reader's options and helpers.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Observation } from 'fhir/r4';
import type { GeneResult } from '../../src/domain/facts.js';
import {
  hgncId,
  hgncSymbol,
  hlaCarrier,
  observationsFromBundle,
  phenotypeForGene,
  readGeneResults,
  resultForGene,
  resultsForGene,
} from '../../src/fhir/genomics/index.js';
import { exampleFiles, EX, ex, allExamples, genotype, pharmvar } from '../support/genomics-observations.js';

// ------------------------------------------------------------------------------------------------------------
// Every IG example
// ------------------------------------------------------------------------------------------------------------

describe('IG examples (../shared/data/fhir-genomics)', () => {
  test('every example file is covered by a case below', () => {
    expect(exampleFiles).toHaveLength(13);
  });

  // Each example read on its own. Source: the file named in the first column (see that folder's README).
  test.each<[string, Partial<GeneResult> | null, RegExp | null]>([
    ['corrected_variant_VKORC1_rs9923231.json', { gene: 'VKORC1', variant: { rsid: 'rs9923231', genotype: 'A/G', strand: 'gene' } }, null],
    ['r4core_phenotype_CYP2C9_79716-7.json', { gene: 'CYP2C9', phenotype: 'Normal Metabolizer' }, null],
    // derivedFrom Observation/genotype-pgx-example is not in the input, and the resource names no gene
    ['stu1_medication-metabolism_mercaptopurine_53040-2.json', null, /gene could not be determined/],
    ['stu2_therapeutic-implication_clopidogrel_TxImp01.json', null, /gene could not be determined/],
    ['stu3_genotype_CYP2C19_Pgx-geno-1001.json', { gene: 'CYP2C19', diplotype: '*2/*2', text: 'CYP2C19*2/*2' }, null],
    ['stu3_genotype_CYP2C9_pharmvar_genotype-pgx-example.json', { gene: 'CYP2C9', diplotype: '*4/*35B', text: 'CYP2C9 *4/*35B' }, null],
    ['stu3_genotype_HLA-B_1502_GenotypeExample1.json', { gene: 'HLA-B', hla: { allele: '*15:02', positive: true } }, null],
    ['stu3_genotype_VKORC1_rs9923231_Pgx-geno-1003.json', { gene: 'VKORC1', variant: { rsid: 'rs9923231', genotype: 'A/G', strand: 'gene' }, text: 'VKORC1 rs9923231 C/T' }, null],
    // a single haplotype is what it is, not a diplotype
    ['stu3_haplotype_CYP2C9_star4_haplotype-2-pgx-example.json', { gene: 'CYP2C9', haplotype: '*4', text: 'CYP2C9 *4' }, null],
    ['stu3_task_medication-recommendation_MedicationRecommendationExample1.json', null, /not an Observation \(Task\)/],
    ['stu3_therapeutic-implication_carbamazepine_HLA-B_TherapeuticImplicationExample1.json', null, /gene could not be determined/],
    ['stu3_therapeutic-implication_clopidogrel_TxImp01.json', null, /gene could not be determined/],
    // derived from CYP2C9 (display of the unresolved Pgx-geno-1002) and VKORC1: not attributable to one gene
    ['stu3_therapeutic-implication_warfarin_TxImp06.json', null, /several genes \(CYP2C9, VKORC1\)/],
  ])('%s alone', (file, expected, reason) => {
    const r = readGeneResults([structuredClone(EX[file]) as unknown as Observation], { via: 'prefetch' });
    if (expected) {
      expect(r.results).toHaveLength(1);
      expect(r.results[0]).toMatchObject(expected);
      expect(r.results[0]!.source.via).toBe('prefetch');
      expect(r.results[0]!.source.reference).toBe(`Observation/${(EX[file] as { id: string }).id}`);
      expect(r.ignored).toEqual([]);
    } else {
      expect(r.results).toEqual([]);
      expect(r.ignored[0]!.reason).toMatch(reason!);
    }
  });

  test('all examples together: implications get their gene through derivedFrom', () => {
    const r = readGeneResults(allExamples(), { via: 'query' });
    const summary = r.results.map((x) => [x.gene, x.diplotype ?? x.haplotype ?? x.hla?.allele ?? x.variant?.genotype ?? x.phenotype, x.drugRxNorm ?? '', x.source.reference]);
    expect(summary).toEqual([
      ['CYP2C19', '*2/*2', '', 'Observation/Pgx-geno-1001'],
      // STU3 TxImp01 and STU2 TxImp01-stu2 agree (same date): one is used, the other is named
      ['CYP2C19', 'Poor Metabolizer', '32968', 'Observation/TxImp01'],
      ['CYP2C9', '*4/*35B', '', 'Observation/genotype-pgx-example'],
      ['CYP2C9', '*4', '', 'Observation/haplotype-2-pgx-example'],
      ['CYP2C9', 'Normal Metabolizer', '', 'Observation/example-phenotype'],
      // STU1: the IG links its mercaptopurine example to the CYP2C9 genotype example through derivedFrom
      ['CYP2C9', 'Rapid Metabolizer', '103', 'Observation/med-impact-pgx-example'],
      ['HLA-B', '*15:02', '', 'Observation/GenotypeExample1'],
      ['HLA-B', 'High Risk', '2002', 'Observation/TherapeuticImplicationExample1'],
      ['VKORC1', 'A/G', '', 'Observation/Pgx-geno-1003'],
    ]);
    expect(r.results.every((x) => x.source.via === 'query')).toBe(true);
    expect(resultsForGene(r.results, 'CYP2C19')[1]!.notes).toEqual(['1 other result(s) for CYP2C19 agree: Observation/TxImp01-stu2']);
    // the VKORC1 genotype text and the corrected variant Observation agree
    expect(resultForGene(r.results, 'VKORC1')!.notes).toEqual(['1 other result(s) for VKORC1 agree: Observation/vkorc1-rs9923231-het']);
    expect(r.ignored.map((i) => i.reference).sort()).toEqual(['(item 10)', 'Observation/TxImp01-stu2', 'Observation/TxImp06', 'Observation/vkorc1-rs9923231-het']);
  });

  test('STU2 implication (component predicted-therapeutic-implication) with its genotype', () => {
    const r = readGeneResults([ex('stu2_'), ex('stu3_genotype_CYP2C19')]);
    expect(phenotypeForGene(r.results, 'CYP2C19', '32968')).toMatchObject({ phenotype: 'Poor Metabolizer', source: { reference: 'Observation/TxImp01-stu2' } });
  });

  test('STU3 carbamazepine implication gets HLA-B from its genotype', () => {
    const r = readGeneResults([ex('stu3_therapeutic-implication_carbamazepine'), ex('stu3_genotype_HLA-B')]);
    expect(phenotypeForGene(r.results, 'HLA-B', '2002')).toMatchObject({ phenotype: 'High Risk', drugRxNorm: '2002' });
    expect(phenotypeForGene(r.results, 'HLA-B', '999')).toBeUndefined();
    expect(hlaCarrier(r.results, 'HLA-B', '*15:02')).toBe(true);
  });
});

describe('options and helpers', () => {
  test('patientId: Observations about another patient are ignored', () => {
    const mine = genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'a' });
    const theirs = { ...genotype('CYP2C19', pharmvar('CYP2C19*1/*2'), { id: 'b' }), subject: { reference: 'Patient/other' } };
    const r = readGeneResults([mine, theirs], { patientId: 'p1' });
    expect(r.results.map((x) => x.gene)).toEqual(['CYP2C9']);
    expect(r.ignored).toEqual([{ reference: 'Observation/b', reason: 'Observation is not about this patient' }]);
  });

  test('observationsFromBundle', () => {
    const bundle = { resourceType: 'Bundle', entry: [{ resource: ex('stu3_genotype_CYP2C19') }, { resource: { resourceType: 'Patient' } }, null, { fullUrl: 'x' }] };
    expect(observationsFromBundle(bundle)).toHaveLength(1);
    expect(observationsFromBundle('nope')).toEqual([]);
  });

  test('HGNC table', () => {
    expect(hgncSymbol('HGNC:2623')).toBe('CYP2C9');
    expect(hgncSymbol('23663')).toBe('VKORC1');
    expect(hgncSymbol('HGNC:999999')).toBeUndefined();
    expect(hgncId('hla-b')).toBe('HGNC:4932');
    expect(hgncId('MT-RNR1')).toBe('HGNC:7470');
    // every gene and id in the CPIC gene table
    const rows = readFileSync(path.resolve(process.cwd(), '../shared/data/cpic/genes.tsv'), 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      const [symbol, id] = row.split('\t');
      expect([symbol, hgncSymbol(id!)]).toEqual([symbol, symbol]);
    }
  });
});
