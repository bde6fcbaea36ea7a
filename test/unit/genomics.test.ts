// Pharmacogenomic results from FHIR Observations: every IG example in ../shared/data/fhir-genomics plus
// hand-written variants of the patterns in ../shared/reference/fhir-pgx-coding.md.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import type { Observation } from 'fhir/r4';
import type { GeneResult } from '../../src/domain/facts.js';
import {
  hgncId,
  hgncSymbol,
  hlaCarrier,
  normalisePhenotype,
  observationsFromBundle,
  phenotypeForGene,
  readGeneResults,
  resultForGene,
  resultsForGene,
  vkorc1IwpcGenotype,
} from '../../src/fhir/genomics/index.js';

// ------------------------------------------------------------------------------------------------------------
// Fixtures
// ------------------------------------------------------------------------------------------------------------

const EXAMPLES_DIR = path.resolve(process.cwd(), '../shared/data/fhir-genomics');
const exampleFiles = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort();
const load = (file: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Record<string, unknown>;
const EX = Object.fromEntries(exampleFiles.map((f) => [f, load(f)]));
const ex = (prefix: string): Observation => {
  const f = exampleFiles.find((x) => x.startsWith(prefix));
  if (!f) throw new Error(`no example ${prefix}`);
  return structuredClone(EX[f]) as unknown as Observation;
};
const allExamples = (): Observation[] => exampleFiles.map((f) => structuredClone(EX[f]) as unknown as Observation);

const LOINC = 'http://loinc.org';
const TBD = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs';
const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
const HGNC = 'http://www.genenames.org';
const HGNC_IDS: Record<string, string> = { CYP2C9: 'HGNC:2623', CYP2C19: 'HGNC:2621', CYP2D6: 'HGNC:2625', VKORC1: 'HGNC:23663', 'HLA-B': 'HGNC:4932', 'HLA-A': 'HGNC:4931', CYP4F2: 'HGNC:2645', DPYD: 'HGNC:1806', TPMT: 'HGNC:12014' };

type CC = NonNullable<Observation['valueCodeableConcept']>;
const loinc = (code: string, display?: string): CC => ({ coding: [{ system: LOINC, code, ...(display ? { display } : {}) }] });
const geneComponent = (gene: string, system = HGNC): NonNullable<Observation['component']>[number] => ({
  code: loinc('48018-6', 'Gene studied [ID]'),
  valueCodeableConcept: { coding: [{ system, code: HGNC_IDS[gene] ?? gene, display: gene }] },
});

interface ObsOpts {
  id?: string;
  status?: Observation['status'];
  date?: string;
  specimen?: string;
  derivedFrom?: string[];
}
const base = (code: CC, o: ObsOpts): Observation => ({
  resourceType: 'Observation',
  id: o.id ?? 'x',
  status: o.status ?? 'final',
  code,
  subject: { reference: 'Patient/p1' },
  ...(o.date ? { effectiveDateTime: o.date } : {}),
  ...(o.specimen ? { specimen: { reference: o.specimen } } : {}),
  ...(o.derivedFrom ? { derivedFrom: o.derivedFrom.map((reference) => ({ reference })) } : {}),
});

/** Genotype (84413-4) with a gene component and a value CodeableConcept. */
const genotype = (gene: string | undefined, value: CC, o: ObsOpts = {}, system = HGNC): Observation => ({
  ...base(loinc('84413-4', 'Genotype display name'), o),
  valueCodeableConcept: value,
  ...(gene ? { component: [geneComponent(gene, system)] } : {}),
});
const pharmvar = (code: string, display?: string): CC => ({ coding: [{ system: 'http://www.pharmvar.org', code, ...(display ? { display } : {}) }] });
const textValue = (text: string): CC => ({ text });

/** Haplotype (84414-2), IG style: PharmVar code = gene symbol, display = allele. */
const haplotype = (gene: string, allele: string, o: ObsOpts = {}): Observation => ({
  ...base(loinc('84414-2', 'Haplotype Name'), o),
  valueCodeableConcept: pharmvar(gene, `${gene} ${allele}`),
  component: [geneComponent(gene)],
});

/** STU3 therapeutic implication. */
const implication = (phenotype: CC, o: ObsOpts & { rxnorm?: string[]; gene?: string; componentCode?: string; conclusion?: string } = {}): Observation => ({
  ...base({ coding: [{ system: TBD, code: 'therapeutic-implication' }] }, o),
  component: [
    ...(o.rxnorm ?? ['32968']).map((code) => ({ code: loinc('51963-7'), valueCodeableConcept: { coding: [{ system: RXNORM, code }] } })),
    { code: { coding: [{ system: TBD, code: o.componentCode ?? 'therapeutic-implication' }] }, valueCodeableConcept: phenotype },
    ...(o.gene ? [geneComponent(o.gene)] : []),
    ...(o.conclusion ? [{ code: { coding: [{ system: TBD, code: 'conclusion-string' }] }, valueString: o.conclusion }] : []),
  ],
});

/** The corrected VKORC1 variant example with some components replaced. */
function variant(changes: { state?: CC | null; ref?: string; alt?: string; hgvs?: string; rsid?: string | null; value?: CC; gene?: string }): Observation {
  const v = ex('corrected_variant') as Observation & { component: NonNullable<Observation['component']> };
  const byCode = (code: string) => v.component.find((c) => c.code.coding?.[0]?.code === code);
  if (changes.state === null) v.component = v.component.filter((c) => c.code.coding?.[0]?.code !== '53034-5');
  else if (changes.state) byCode('53034-5')!.valueCodeableConcept = changes.state;
  if (changes.ref) byCode('69547-8')!.valueString = changes.ref;
  if (changes.alt) byCode('69551-0')!.valueString = changes.alt;
  if (changes.hgvs) byCode('81290-9')!.valueCodeableConcept = { coding: [{ system: 'http://varnomen.hgvs.org', code: changes.hgvs }] };
  if (changes.rsid === null) v.component = v.component.filter((c) => c.code.coding?.[0]?.code !== '81252-9');
  else if (changes.rsid) byCode('81252-9')!.valueCodeableConcept = { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/projects/SNP', code: changes.rsid }] };
  if (changes.value) v.valueCodeableConcept = changes.value;
  if (changes.gene) byCode('48018-6')!.valueCodeableConcept = geneComponent(changes.gene).valueCodeableConcept!;
  return v;
}

const only = (obs: Observation[] | Observation): GeneResult => {
  const r = readGeneResults(Array.isArray(obs) ? obs : [obs]);
  if (r.results.length !== 1) throw new Error(`expected one result, got ${JSON.stringify(r)}`);
  return r.results[0]!;
};
const ignoredReason = (obs: Observation[] | Observation): string => {
  const r = readGeneResults(Array.isArray(obs) ? obs : [obs]);
  expect(r.results).toEqual([]);
  expect(r.ignored.length).toBeGreaterThan(0);
  return r.ignored.map((i) => i.reason).join(' | ');
};

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

// ------------------------------------------------------------------------------------------------------------
// VKORC1 rs9923231 (and other SNPs)
// ------------------------------------------------------------------------------------------------------------

describe('VKORC1 rs9923231', () => {
  // Source: fhir-pgx-coding.md "Variant": plus-strand C/C, C/T, T/T = c.-1639 G/G, G/A, A/A; IG Pgx-geno-1003
  // ("VKORC1 rs9923231 C/T"); PharmCAT names from ../shared/data/cpic/allele_definitions.tsv; common lab wordings.
  test.each<[string, 'G/G' | 'A/G' | 'A/A']>([
    ['VKORC1 rs9923231 C/T', 'A/G'],
    ['VKORC1 rs9923231 C/C', 'G/G'],
    ['VKORC1 rs9923231 T/T', 'A/A'],
    ['VKORC1 rs9923231 T/C', 'A/G'],
    ['rs9923231 A/A', 'A/A'],
    ['rs9923231 G/A', 'A/G'],
    ['rs9923231 g/g', 'G/G'],
    ['rs9923231(C;T)', 'A/G'],
    ['RS9923231 CT', 'A/G'],
    ['VKORC1 -1639 AA', 'A/A'],
    ['VKORC1 -1639 GG', 'G/G'],
    ['VKORC1 -1639 G/A', 'A/G'],
    ['-1639 G>A heterozygous', 'A/G'],
    ['VKORC1 c.-1639G>A homozygous', 'A/A'],
    ['VKORC1 -1639G>A homozygous wild type', 'G/G'],
    ['VKORC1 -1639 heterozygous', 'A/G'],
    ['VKORC1 -1639G>A A/A', 'A/A'],
    ['rs9923231 C>T heterozygous', 'A/G'],
    ['rs9923231 reference (C)/rs9923231 variant (T)', 'A/G'],
    ['rs9923231 variant (T)/rs9923231 variant (T)', 'A/A'],
  ])('text %j → %s', (text, iwpc) => {
    const r = only(genotype('VKORC1', textValue(text)));
    expect(r).toMatchObject({ gene: 'VKORC1', variant: { rsid: 'rs9923231', genotype: iwpc, strand: 'gene' }, text: text.trim() });
    expect(vkorc1IwpcGenotype([r])).toEqual({ genotype: iwpc, result: r });
  });

  // Source: fhir-pgx-coding.md "Variant" (plus-strand C/T = gene-strand G/A): the letters as the lab wrote them are kept
  // when the result is their complement, so the SMART app can say "reported C/T = A/G on the gene strand".
  test.each<[string, { value: string; strand: 'plus' } | undefined]>([
    ['VKORC1 rs9923231 C/T', { value: 'C/T', strand: 'plus' }],
    ['VKORC1 rs9923231 T/C', { value: 'T/C', strand: 'plus' }],
    ['VKORC1 rs9923231 C/C', { value: 'C/C', strand: 'plus' }],
    ['rs9923231 G/A', undefined], // gene strand already: only reordered
    ['VKORC1 -1639 GG', undefined],
  ])('text %j → reported on the source %j', (text, reported) => {
    expect(only(genotype('VKORC1', textValue(text))).source.reported).toEqual(reported);
  });

  // Source: hand-written ambiguous or impossible texts; none may be guessed.
  test.each<[string, RegExp]>([
    ['rs9923231 G/T', /not possible for rs9923231/], // neither strand has G and T together
    ['rs9923231 C/A', /not possible/],
    ['VKORC1 -1639 C/T', /do not fit the gene-strand notation/], // -1639 is gene-strand notation: G/A only
    ['VKORC1 -1639G>A', /no genotype or zygosity/], // a variant name is not a genotype
    ['rs9923231 homozygous', /no genotype/],
    ['VKORC1 1173C>T CT', /not a recognised genotype/], // rs9934438, a different SNP: not read as rs9923231
    ['rs9923231 C/T A/A', /several genotypes/],
    ['rs9923231 C/T homozygous', /does not fit the zygosity/],
    ['rs9923231 rs2108622 C/T', /several rsIDs/],
    ['VKORC1 rs9923231', /no genotype/],
  ])('text %j → ignored', (text, reason) => {
    expect(ignoredReason(genotype('VKORC1', textValue(text)))).toMatch(reason);
  });

  test('rs9923231 under another gene is ignored', () => {
    expect(ignoredReason(genotype('CYP2C9', textValue('rs9923231 C/T')))).toMatch(/rs9923231 is in VKORC1, not CYP2C9/);
  });

  test('gene from the rsID when there is no gene component', () => {
    expect(only(genotype(undefined, textValue('rs9923231 C/T')))).toMatchObject({ gene: 'VKORC1', variant: { genotype: 'A/G' } });
  });

  test('unknown rsIDs are kept as sent, strand unknown', () => {
    const r = only(genotype('VKORC1', textValue('VKORC1 rs7294 C/T')));
    expect(r.variant).toEqual({ rsid: 'rs7294', genotype: 'C/T' });
    expect(vkorc1IwpcGenotype([r])).toBeUndefined();
  });

  test('CYP4F2 rs2108622 is reported on the plus strand, reference first', () => {
    expect(only(genotype('CYP4F2', textValue('CYP4F2 rs2108622 T/C'))).variant).toEqual({ rsid: 'rs2108622', genotype: 'C/T', strand: 'plus' });
    expect(only(genotype('CYP4F2', textValue('CYP4F2 rs2108622 A/G'))).variant).toEqual({ rsid: 'rs2108622', genotype: 'C/T', strand: 'plus' });
  });
});

describe('variant Observations (69548-6)', () => {
  // Source: corrected_variant_VKORC1_rs9923231.json, with the allelic state (53034-5) and alleles varied.
  test.each<[string, Parameters<typeof variant>[0], string]>([
    ['the corrected example: heterozygous C>T', {}, 'A/G'],
    ['homozygous (LA6705-3)', { state: loinc('LA6705-3', 'homozygous') }, 'A/A'],
    ['heterozygous by display only', { state: { coding: [{ system: LOINC, display: 'heterozygous' }] } }, 'A/G'],
    ['homozygous by text only', { state: { text: 'Homozygous' } }, 'A/A'],
    ['variant absent (LA9634-2), no allelic state', { value: loinc('LA9634-2', 'Absent'), state: null }, 'G/G'],
    ['rsID component missing: known HGVS position', { rsid: null }, 'A/G'],
    ['rsID as bare number', { rsid: '9923231' }, 'A/G'],
    ['GRCh37 HGVS', { hgvs: 'NC_000016.9:g.31107689C>T' }, 'A/G'],
  ])('%s → %s', (_name, changes, iwpc) => {
    expect(only(variant(changes))).toMatchObject({ gene: 'VKORC1', variant: { rsid: 'rs9923231', genotype: iwpc, strand: 'gene' } });
  });

  test.each<[string, Parameters<typeof variant>[0], RegExp]>([
    ["the IG's Pgx-var-1019 (GRCh37 accession with the GRCh38 position, G>T)", { hgvs: 'NC_000016.9:g.31096368G>T', ref: 'G', alt: 'T' }, /does not give the position of rs9923231/],
    ['alleles impossible for the SNP', { hgvs: 'NC_000016.10:g.31096368G>T', ref: 'G', alt: 'T' }, /not possible for rs9923231/],
    ['ref/alt disagree with HGVS', { ref: 'T', alt: 'C' }, /disagree with the genomic HGVS/],
    ['allelic state missing', { state: null }, /no allelic state/],
    ['hemizygous (LA6707-9)', { state: loinc('LA6707-9', 'hemizygous') }, /allelic state hemi does not fit rs9923231/],
    ['absent with an allelic state', { value: loinc('LA9634-2', 'Absent') }, /Absent but has an allelic state/],
    ['gene component says CYP2C9', { gene: 'CYP2C9' }, /in VKORC1, not CYP2C9/],
    ['HGVS of another rsID', { rsid: 'rs2108622' }, /position of rs9923231, not rs2108622/],
  ])('%s → ignored', (_name, changes, reason) => {
    expect(ignoredReason(variant(changes))).toMatch(reason);
  });

  test('variant of an SNP without strand data is kept on the plus strand', () => {
    const v = variant({ rsid: 'rs4244285', hgvs: 'NC_000010.11:g.94781859G>A', ref: 'G', alt: 'A', gene: 'CYP2C19' });
    expect(only(v)).toMatchObject({ gene: 'CYP2C19', variant: { rsid: 'rs4244285', genotype: 'G/A', strand: 'plus' } });
  });
});

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

// ------------------------------------------------------------------------------------------------------------
// Phenotypes and therapeutic implications
// ------------------------------------------------------------------------------------------------------------

describe('phenotypes and implications', () => {
  const cyp2c19Genotype = genotype('CYP2C19', textValue('CYP2C19 *1/*2'), { id: 'geno' });

  // Source: fhir-pgx-coding.md "Phenotype / therapeutic implication", one case per IG generation / pattern.
  test.each<[string, Observation[], Partial<GeneResult>]>([
    ['STU3 (component therapeutic-implication)', [implication(loinc('LA10317-8', 'Intermediate metabolizer'), { id: 'ti', derivedFrom: ['Observation/geno'] }), cyp2c19Genotype], { gene: 'CYP2C19', phenotype: 'Intermediate Metabolizer', drugRxNorm: '32968' }],
    ['STU2 (component predicted-therapeutic-implication)', [implication(loinc('LA9657-3'), { id: 'ti', derivedFrom: ['Observation/geno'], componentCode: 'predicted-therapeutic-implication' }), cyp2c19Genotype], { gene: 'CYP2C19', phenotype: 'Poor Metabolizer' }],
    [
      'STU1 (53040-2, value = phenotype)',
      [{ ...base(loinc('53040-2'), { id: 'ti', derivedFrom: ['Observation/geno'] }), valueCodeableConcept: loinc('LA10315-2', 'Ultrarapid metabolizer'), component: [{ code: loinc('51963-7'), valueCodeableConcept: { coding: [{ system: RXNORM, code: '32968' }] } }] }, cyp2c19Genotype],
      { gene: 'CYP2C19', phenotype: 'Ultrarapid Metabolizer', drugRxNorm: '32968' },
    ],
    ['gene from an absolute, versioned derivedFrom reference', [implication(loinc('LA9657-3'), { id: 'ti', derivedFrom: ['https://ehr.example/fhir/Observation/geno/_history/3'] }), cyp2c19Genotype], { gene: 'CYP2C19' }],
    ['gene from the derivedFrom display', [{ ...implication(loinc('LA9657-3'), { id: 'ti' }), derivedFrom: [{ reference: 'Observation/elsewhere', display: 'CYP2C19*2/*2' }] }], { gene: 'CYP2C19' }],
    ['gene from its own gene component', [implication(loinc('LA9657-3'), { id: 'ti', gene: 'CYP2C19' })], { gene: 'CYP2C19' }],
    ['gene named once in the conclusion', [implication(loinc('LA9657-3'), { id: 'ti', conclusion: 'CYP2C19 poor metabolizer: use an alternative antiplatelet' })], { gene: 'CYP2C19' }],
    ['gene via a chain (implication → haplotype)', [implication(loinc('LA9657-3'), { id: 'ti', derivedFrom: ['Observation/h'] }), haplotype('CYP2C19', '*2', { id: 'h' })], { gene: 'CYP2C19' }],
    ['coded IM refined by the text to Likely IM', [implication({ ...loinc('LA10317-8', 'Intermediate metabolizer'), text: 'Likely Intermediate Metabolizer' }, { id: 'ti', gene: 'TPMT' })], { gene: 'TPMT', phenotype: 'Likely Intermediate Metabolizer' }],
    ['text-only Possible', [implication(textValue('possible intermediate metaboliser'), { id: 'ti', gene: 'TPMT' })], { phenotype: 'Possible Intermediate Metabolizer' }],
    ['Indeterminate', [implication(textValue('Indeterminate'), { id: 'ti', gene: 'CYP2D6' })], { phenotype: 'Indeterminate' }],
    ['function phenotype', [implication(loinc('LA25395-7', 'Decreased function'), { id: 'ti', gene: 'CYP2C19' })], { phenotype: 'Decreased Function' }],
    ['79716-7 pre-coordinated CYP2C9 phenotype', [{ ...base(loinc('79716-7'), { id: 'p' }), valueCodeableConcept: loinc('LA10317-8') }], { gene: 'CYP2C9', phenotype: 'Intermediate Metabolizer' }],
    ['unknown LOINC whose display names a gene', [{ ...base(loinc('00000-0', 'CYP2D6 gene product metabolic activity interpretation in Blood or Tissue'), { id: 'p' }), valueCodeableConcept: loinc('LA9657-3') }], { gene: 'CYP2D6', phenotype: 'Poor Metabolizer' }],
    ['local code "CYP2C19 phenotype", text value', [{ ...base({ text: 'CYP2C19 phenotype' }, { id: 'p' }), valueString: 'Rapid metabolizer' }], { gene: 'CYP2C19', phenotype: 'Rapid Metabolizer' }],
  ])('%s', (_name, obs, expected) => {
    const r = readGeneResults(obs);
    const ph = r.results.find((x) => x.phenotype !== undefined);
    expect(ph).toMatchObject(expected);
  });

  test('metabolizer phenotypes that differ between drug-specific results are flagged', () => {
    const r = readGeneResults([
      implication(loinc('LA9657-3'), { id: 'a', gene: 'CYP2C19', rxnorm: ['32968'] }),
      implication(loinc('LA25391-6'), { id: 'b', gene: 'CYP2C19', rxnorm: ['121243'] }),
    ]);
    expect(r.results).toHaveLength(2);
    for (const x of r.results) expect(x.notes).toEqual(['the phenotypes stated for CYP2C19 differ between Observation/a, Observation/b']);
  });

  test('one result per drug assessed', () => {
    const r = readGeneResults([implication(loinc('LA9657-3'), { id: 'ti', gene: 'CYP2D6', rxnorm: ['2670', '10689'] })]);
    expect(r.results.map((x) => x.drugRxNorm)).toEqual(['10689', '2670']);
    expect(phenotypeForGene(r.results, 'CYP2D6', '2670')?.phenotype).toBe('Poor Metabolizer');
    expect(phenotypeForGene(r.results, 'CYP2D6')).toBeUndefined(); // only drug-specific statements
  });

  test('an unrecognised phenotype is kept as sent, with a note', () => {
    const r = only(implication(textValue('Higher coumarin sensitivity'), { id: 'ti', gene: 'VKORC1', rxnorm: ['11289'] }));
    expect(r).toMatchObject({ phenotype: 'Higher coumarin sensitivity', notes: ['phenotype is not a CPIC term; kept as sent'] });
  });

  test.each<[string, Observation[], RegExp]>([
    ['no derivedFrom and no gene anywhere', [implication(loinc('LA9657-3'), { id: 'ti' })], /gene could not be determined/],
    ['derived from two genes', [implication(loinc('LA9657-3'), { id: 'ti', derivedFrom: ['Observation/a', 'Observation/b'] }), genotype('CYP2C9', textValue('*1/*1'), { id: 'a' }), genotype('VKORC1', textValue('rs9923231 C/T'), { id: 'b' })], /several genes \(CYP2C9, VKORC1\)/],
    ['derivedFrom and gene component disagree', [implication(loinc('LA9657-3'), { id: 'ti', derivedFrom: ['Observation/geno'], gene: 'CYP2D6' }), cyp2c19Genotype], /several genes/],
    ['text names two genes', [implication(loinc('LA9657-3'), { id: 'ti', conclusion: 'CYP2C19 and CYP2D6 results' })], /text names several genes/],
    ['derived from a genotype entered in error', [implication(loinc('LA9657-3'), { id: 'ti', derivedFrom: ['Observation/geno'] }), { ...cyp2c19Genotype, status: 'entered-in-error' }], /entered in error/],
    ['medication without RxNorm', [{ ...implication(loinc('LA9657-3'), { id: 'ti', gene: 'CYP2C19' }), component: [{ code: loinc('51963-7'), valueCodeableConcept: { text: 'clopidogrel' } }, { code: { coding: [{ system: TBD, code: 'therapeutic-implication' }] }, valueCodeableConcept: loinc('LA9657-3') }, geneComponent('CYP2C19')] }], /no RxNorm code/],
    ['code and text disagree', [implication({ ...loinc('LA9657-3', 'Poor metabolizer'), text: 'Normal Metabolizer' }, { id: 'ti', gene: 'CYP2C19' })], /disagree/],
    ['no phenotype value', [implication({}, { id: 'ti', gene: 'CYP2C19' })], /no phenotype value/],
  ])('%s → ignored', (_name, obs, reason) => {
    const r = readGeneResults(obs);
    expect(r.results.find((x) => x.phenotype !== undefined)).toBeUndefined();
    expect(r.ignored.find((i) => i.reference === 'Observation/ti')?.reason).toMatch(reason);
  });

  // Source: CPIC standardised terms (Caudle 2017) as used in ../shared/data/cpic/diplotype_phenotypes.tsv.
  test.each<[string, string | undefined]>([
    ['Poor metabolizer', 'Poor Metabolizer'],
    ['POOR METABOLIZER', 'Poor Metabolizer'],
    ['likely intermediate metaboliser', 'Likely Intermediate Metabolizer'],
    ['Possible Decreased Function', 'Possible Decreased Function'],
    ['Ultra-rapid metabolizer', 'Ultrarapid Metabolizer'],
    ['ultra rapid metabolizer', 'Ultrarapid Metabolizer'],
    ['Extensive metabolizer', 'Normal Metabolizer'],
    ['CYP2C19 Intermediate Metabolizer', 'Intermediate Metabolizer'],
    ['Phenotype: Normal metabolizer.', 'Normal Metabolizer'],
    ['PM', 'Poor Metabolizer'],
    ['Indeterminate', 'Indeterminate'],
    ['High risk', 'High Risk'],
    ['likely indeterminate', undefined],
    ['Poor metabolizer of clopidogrel', undefined],
    ['x'.repeat(500), undefined],
  ])('normalisePhenotype(%j) = %j', (input, expected) => {
    expect(normalisePhenotype(input)).toBe(expected);
  });
});

// ------------------------------------------------------------------------------------------------------------
// Status, duplicates, disagreements, options
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

// ------------------------------------------------------------------------------------------------------------
// Garbage never throws
// ------------------------------------------------------------------------------------------------------------

describe('malformed input', () => {
  const huge = 'CYP2C9*1/*3 '.repeat(500_000); // 6 MB
  // Source: hand-crafted broken resources.
  test.each<[string, unknown]>([
    ['null', null],
    ['number', 42],
    ['array', [1, 2]],
    ['no resourceType', { id: 'a', status: 'final' }],
    ['code is a string', { resourceType: 'Observation', id: 'a', status: 'final', code: '84413-4' }],
    ['coding is an object', { resourceType: 'Observation', id: 'a', status: 'final', code: { coding: { code: '84413-4' } } }],
    ['missing code', { resourceType: 'Observation', id: 'a', status: 'final' }],
    ['status is a number', { resourceType: 'Observation', id: 'a', status: 1, code: loinc('84413-4') }],
    ['value is a string where a CodeableConcept belongs', { ...genotype('CYP2C9', textValue('x')), valueCodeableConcept: 'CYP2C9*1/*3' }],
    ['value coding codes are numbers', { ...genotype('CYP2C9', textValue('x')), valueCodeableConcept: { coding: [{ system: 7, code: 13, display: [] }] } }],
    ['component is an object', { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*3')), component: { code: 1 } }],
    ['components of wrong types', { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*3')), component: [null, 3, 'x', { code: null }, { code: { coding: [null] } }] }],
    ['huge value string', genotype('CYP2C9', textValue(huge))],
    ['huge id', { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*3')), id: huge }],
    ['derivedFrom of wrong types', { ...implication(loinc('LA9657-3')), derivedFrom: [null, 1, { reference: 5 }, { reference: huge }] }],
    ['derivedFrom cycle', { ...implication(loinc('LA9657-3'), { id: 'x', derivedFrom: ['Observation/x'] }) }],
    ['date garbage', { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*3')), effectiveDateTime: '2024-99-99', issued: { a: 1 } }],
    ['regex-unfriendly text', genotype('VKORC1', textValue(`rs9923231 ${'C/'.repeat(100)}`))],
    ['star pile', genotype('CYP2D6', textValue(`*1${'x'.repeat(150)}/*2`))],
  ])('%s', (_name, item) => {
    const t0 = Date.now();
    const r = readGeneResults([item] as unknown[]);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(Array.isArray(r.results)).toBe(true);
    for (const i of r.ignored) {
      expect(typeof i.reference).toBe('string');
      expect(i.reference.length).toBeLessThan(120);
      expect(typeof i.reason).toBe('string');
    }
    expect(r.results.length + r.ignored.length).toBeGreaterThan(0);
  });

  test('holes in a sparse list are skipped; the other items keep their positions', () => {
    const r = readGeneResults([, 'x', genotype('CYP2C9', pharmvar('CYP2C9*1/*3'))] as unknown[]);
    expect(r.results).toHaveLength(1);
    expect(r.ignored).toEqual([{ reference: '(item 2)', reason: 'not a FHIR Observation' }]);
  });

  test('a non-array input is reported, not thrown', () => {
    expect(readGeneResults('x' as unknown as unknown[]).ignored[0]!.reason).toBe('not a list of Observations');
  });

  test('getters that throw are contained', () => {
    const evil = { resourceType: 'Observation', id: 'e', status: 'final', get code(): never { throw new Error('boom'); } };
    const r = readGeneResults([evil, genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'ok' })]);
    expect(r.results.map((x) => x.source.reference)).toEqual(['Observation/ok']);
    expect(r.ignored).toEqual([{ reference: 'Observation/e', reason: 'Observation could not be read' }]);
  });

  test('property: arbitrary values never throw and every result is well formed', () => {
    fc.assert(
      fc.property(fc.array(fc.anything({ maxDepth: 4 }), { maxLength: 5 }), (items) => {
        const r = readGeneResults(items);
        return Array.isArray(r.results) && Array.isArray(r.ignored);
      }),
      { numRuns: 300 },
    );
  });

  test('property: examples with a field replaced by garbage never throw', () => {
    const examples = allExamples() as unknown as Record<string, unknown>[];
    const fields = ['code', 'valueCodeableConcept', 'component', 'derivedFrom', 'status', 'effectiveDateTime', 'id', 'specimen', 'valueString'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ ex: fc.nat(examples.length - 1), field: fc.constantFrom(...fields), value: fc.anything({ maxDepth: 3 }), comp: fc.nat(9) }), { minLength: 1, maxLength: 6 }),
        (edits) => {
          const items = examples.map((e) => structuredClone(e));
          for (const ed of edits) {
            const target = items[ed.ex]!;
            const comps = target.component;
            // sometimes break a component's value instead of a top-level field
            // (only when that component is an object: an earlier edit may have replaced the list with primitives)
            const comp: unknown = Array.isArray(comps) && comps.length ? comps[ed.comp % comps.length] : undefined;
            if (ed.field === 'component' && ed.comp % 2 === 0 && typeof comp === 'object' && comp !== null) {
              (comp as Record<string, unknown>).valueCodeableConcept = ed.value;
            } else target[ed.field] = ed.value;
          }
          const r = readGeneResults(items);
          for (const x of r.results) {
            if (typeof x.gene !== 'string' || typeof x.text !== 'string' || typeof x.source.reference !== 'string') return false;
            if (x.variant?.rsid === 'rs9923231' && !['G/G', 'A/G', 'A/A'].includes(x.variant.genotype)) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  test('many Observations are read quickly', () => {
    const many = Array.from({ length: 1000 }, (_, i) => genotype('CYP2C9', pharmvar(i % 2 ? 'CYP2C9*1/*3' : 'CYP2C9*1/*2'), { id: `o${i}`, date: `2020-01-01T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z` }));
    const t0 = Date.now();
    const r = readGeneResults(many);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.results).toHaveLength(1);
  });
});
