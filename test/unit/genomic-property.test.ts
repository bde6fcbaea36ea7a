// Issue 14 property (scope 5 and 7): no genomic Observation for a gene an ordered drug depends on can lead to a
// "no <gene> result on file" card or a genotyping suggestion for that gene — whatever its code (every code of the
// genomic-result definition, or a lab's local code in the genetics category), value (CPIC allele names, star
// alleles, HLA typing, activity scores, LOA answer codes, quantities, free text, nothing) or status (final,
// amended, corrected, preliminary, registered, unknown, none). Only cancelled and entered-in-error are not results.
// Real reader (src/fhir/genomics) and real evaluator (src/dosing/pgx/evaluator.ts); fast-check, seeded.
import fc from 'fast-check';
import type { Observation } from 'fhir/r4';
import { GENOMIC_RESULT_CODES, PHENOTYPE_ANSWERS, PRESENCE_ANSWERS } from '../../src/fhir/genomics/codes.js';
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { DEFAULT_PGX_SETTINGS, evaluatePgx } from '../../src/dosing/pgx/evaluator.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
import type { PatientFacts } from '../../src/domain/facts.js';
import type { DraftOrder } from '../../src/domain/order.js';

const k = loadPgxKnowledge();
const HGNC = Object.fromEntries(Object.entries(k.genes).map(([g, x]) => [g, x.hgnc ?? '']));
const pairs = Object.entries(k.drugs)
  .filter(([d]) => d !== 'warfarin')
  .flatMap(([drug, x]) => x.genes.map((gene) => ({ drug, rxcui: x.rxcui ?? '', gene })));

const allelesOf = (gene: string): string[] => Object.keys(k.genes[gene]?.alleles ?? {}).slice(0, 40);
const anyText = (gene: string): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.constantFrom('', 'See scanned report', 'Indeterminate', 'positive', 'negative', 'Poor Metabolizer', 'Activity score: 0', `${gene} heterozygous`, 'homoplasmic', 'hemizygous', '*1/*1', 'Reference/Reference'),
    allelesOf(gene).length ? fc.tuple(fc.constantFrom(...allelesOf(gene)), fc.constantFrom(...allelesOf(gene)), fc.constantFrom('/', ' + ', ' ', ' and ')).map(([a, b, j]) => `${a}${j}${b}`) : fc.constant(`${gene}*1/*1`),
    fc.constantFrom(...allelesOf(gene).concat(['x'])).map((a) => `${gene} ${a} ${['heterozygous', 'homozygous', 'hemizygous', 'detected', ''][a.length % 5]}`),
  );
const anyCode = fc.oneof(
  fc.constantFrom(...GENOMIC_RESULT_CODES).map((c) => ({ coding: [{ system: c.system, code: c.code }] })),
  fc.constantFrom('genotype', 'phenotype', 'activity score', 'haplotype', 'variant', 'result').map((w) => ({ coding: [{ system: 'http://lab.example.org/pgx', code: `L-${w}`, display: w }] })),
);
const anyValue = (gene: string) =>
  fc.oneof(
    anyText(gene).map((text) => ({ valueCodeableConcept: { text } })),
    anyText(gene).map((valueString) => ({ valueString })),
    fc.constantFrom(...Object.keys(PHENOTYPE_ANSWERS), ...Object.keys(PRESENCE_ANSWERS)).map((code) => ({ valueCodeableConcept: { coding: [{ system: 'http://loinc.org', code }] } })),
    fc.double({ min: -1, max: 8, noNaN: true }).map((value) => ({ valueQuantity: { value } })),
    fc.constant({}),
  );
const anyStatus = fc.constantFrom<Observation['status'] | undefined>('final', 'amended', 'corrected', 'preliminary', 'registered', 'unknown', undefined);

const order = (): DraftOrder => ({ ref: 'MedicationRequest/p', resource: { resourceType: 'MedicationRequest', id: 'p', status: 'draft', intent: 'order', subject: { reference: 'Patient/p' } } as never, drugs: [] });

/** One Observation of `gene`, shaped by the arbitraries above. */
const anyObservation = fc.constantFrom(...pairs).chain((p) => fc.record({ p: fc.constant(p), code: anyCode, value: anyValue(p.gene), status: anyStatus, withCategory: fc.boolean(), sex: fc.constantFrom<'male' | 'female'>('male', 'female') }));

/** The cards' statements that there is no result for the gene, or suggestions to test it. */
export function saysNoResult(gene: string, drug: string, rxcui: string, obs: Observation, sex: 'male' | 'female'): string[] {
  const r = readGeneResults([obs]);
  const facts = { genes: r.results, ...(r.unread.length ? { unreadGenes: r.unread } : {}), conditions: [], sex: { value: sex, source: { reference: 'Patient/p' } } } as unknown as PatientFacts;
  const recs = evaluatePgx(k, facts, order(), { ingredient: drug, rxcui }, [], { settings: { ...DEFAULT_PGX_SETTINGS, suggestTestFor: 'all' }, newId: () => 'x', now: new Date('2026-01-01') });
  return recs.filter((x) => new RegExp(`no ${gene.replace(/[-*]/g, '\\$&')}\\b[^—]* result on file`, 'i').test(x.headline) || (x.pgx?.action === 'test' && (x.pgx.testGenes ?? []).includes(gene))).map((x) => x.headline);
}

function build(a: { p: (typeof pairs)[number]; code: { coding: { system: string; code: string }[] }; value: object; status?: Observation['status']; withCategory: boolean }, id: string): Observation {
  return {
    resourceType: 'Observation',
    id,
    ...(a.status ? { status: a.status } : {}),
    ...(a.withCategory || a.code.coding[0]!.system.includes('lab.example') ? { category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'GE' }] }] } : {}),
    code: a.code,
    subject: { reference: 'Patient/p' },
    effectiveDateTime: '2025-06-01',
    component: [{ code: { coding: [{ system: 'http://loinc.org', code: '48018-6' }] }, valueCodeableConcept: { coding: [{ system: 'http://www.genenames.org', code: HGNC[a.p.gene]!, display: a.p.gene }] } }],
    ...a.value,
  } as Observation;
}

test('no genomic Observation for a gene a drug depends on leads to "no result on file" or a test suggestion for it', () => {
  let n = 0;
  fc.assert(
    fc.property(anyObservation, (a) => {
      const said = saysNoResult(a.p.gene, a.p.drug, a.p.rxcui, build(a, `prop-${++n}`), a.sex);
      return said.length === 0;
    }),
    { numRuns: 3000, seed: 2014 },
  );
  expect(n).toBe(3000);
});

test('the property can fail: a cancelled result is not a result, so the test is suggested (control)', () => {
  const p = pairs.find((x) => x.drug === 'capecitabine')!;
  const obs = build({ p, code: { coding: [{ system: 'http://loinc.org', code: '84413-4' }] }, value: { valueCodeableConcept: { text: 'c.1905+1G>A (*2A)/Reference' } }, status: 'cancelled', withCategory: true }, 'control');
  expect(saysNoResult('DPYD', 'capecitabine', p.rxcui, obs, 'female')).not.toEqual([]);
});
