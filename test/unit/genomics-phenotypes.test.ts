// Pharmacogenomic results from FHIR Observations: every IG example in ../shared/data/fhir-genomics plus
// hand-written variants of the patterns in ../shared/reference/fhir-pgx-coding.md (fixtures: test/support/genomics-observations.ts).
// This file: metabolizer phenotypes and therapeutic implications.
import type { Observation } from 'fhir/r4';
import type { GeneResult } from '../../src/domain/facts.js';
import { normalisePhenotype, phenotypeForGene, readGeneResults } from '../../src/fhir/genomics/index.js';
import { TBD, RXNORM, loinc, geneComponent, base, genotype, textValue, haplotype, implication, only } from '../support/genomics-observations.js';

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
