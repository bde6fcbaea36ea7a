// Pharmacogenomic results from FHIR Observations: every IG example in ../shared/data/fhir-genomics plus
// hand-written variants of the patterns in ../shared/reference/fhir-pgx-coding.md (fixtures: test/support/genomics-observations.ts).
// This file: VKORC1 rs9923231 and other SNPs, and variant Observations (69548-6).
import { vkorc1IwpcGenotype } from '../../src/fhir/genomics/index.js';
import { LOINC, loinc, genotype, textValue, variant, only, ignoredReason } from '../support/genomics-observations.js';

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
