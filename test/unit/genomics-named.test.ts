// What the reader makes of each issue-14 result shape (test/fixtures/genomic-cases.ts): the gene and the diplotype,
// allele, activity score, HLA carriage or phenotype — or an unread result naming its gene, never silence.
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
import { defaultVariantCatalogue } from '../../src/knowledge/pgxVariants.js';
import { assembleCalls } from '../../src/fhir/genomics/named.js';
import { caseObservations, GENOMIC_CASES } from '../fixtures/genomic-cases.js';

test.each(GENOMIC_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
  const r = readGeneResults(caseObservations(c));
  const mine = r.results.filter((x) => x.gene === c.reads.gene);
  if (c.reads.unread) {
    expect(mine).toEqual([]);
    expect(r.unread.some((u) => u.genes.includes(c.reads.gene))).toBe(true);
    return;
  }
  expect(r.unread).toEqual([]);
  expect(mine.length).toBeGreaterThan(0);
  const want = c.reads;
  if (want.diplotype) expect(mine.map((x) => x.diplotype)).toContain(want.diplotype);
  if (want.allele) expect(mine.map((x) => x.allele)).toContain(want.allele);
  if (want.activityScore) expect(mine.map((x) => x.activityScore)).toContain(want.activityScore);
  if (want.phenotype) expect(mine.map((x) => x.phenotype)).toContain(want.phenotype);
  if (want.hla) expect(mine.map((x) => x.hla)).toContainEqual(expect.objectContaining(want.hla));
});

test('"+" joins variants only with spaces around it: c.1905+1G>A is one intronic name', () => {
  const [c] = GENOMIC_CASES.filter((x) => x.id === 'dpyd-two-variants-text');
  const r = readGeneResults(caseObservations(c!));
  expect(r.results[0]!.notes?.join(' ')).toMatch(/assumed on different chromosomes \(in trans\)/);
});

test('a GRCh37 DPYD position on chromosome 1 is not taken for CACNA1S (also on chromosome 1)', () => {
  const c = GENOMIC_CASES.find((x) => x.name.includes('GRCh37'))!;
  expect(readGeneResults(caseObservations(c)).results.map((x) => x.gene)).toEqual(['DPYD']);
});

test('every gene of the CPIC recommendation tables has at least one case of the issue-14 table (end to end in test/integration/genomic-results.test.ts)', () => {
  const k = loadPgxKnowledge();
  const inTables = new Set([...k.byDrug.values()].flat().flatMap((r) => Object.keys(r.lookup)));
  const covered = new Set(GENOMIC_CASES.map((c) => c.reads.gene));
  expect([...inTables].filter((g) => !covered.has(g)).sort()).toEqual([]);
  expect(inTables.size).toBe(18); // ABCG2 … UGT1A1 (VKORC1 and CYP4F2 are warfarin, which has no CPIC table)
});

const okOf = (r: unknown) => (r as { ok?: { diplotype?: string; allele?: string; notes?: string[] } }).ok;

describe('G6PD variants without phase (a female result): every placement on the two X chromosomes, the lowest-function reading (CPIC)', () => {
  const kind = 'x-linked' as const;
  // synthetic gene: allele "cis" is defined by variants 0 and 1 together; each also defines an allele alone
  const g = {
    kind,
    chromosome: 'chrX',
    refseq: 'NC_000023.11',
    strand: 'minus' as const,
    reference: 'B (reference)',
    aliases: {},
    variants: [
      { pos: 1, ref: 'C', alt: 'T', rsid: 'rs1' },
      { pos: 2, ref: 'T', alt: 'C', rsid: 'rs2' },
      { pos: 3, ref: 'G', alt: 'A', rsid: 'rs3' },
    ],
    alleles: [
      { name: 'cis', variants: [0, 1], function: 'IV/Normal' },
      { name: 'first', variants: [0], function: 'I/Deficient with CNSHA' },
      { name: 'second', variants: [1], function: 'IV/Normal' },
    ],
  };
  test.each([
    ['in trans is of lower function (class I + IV against IV + normal): trans is used', [0, 1], 'first/second', /reading of lowest function \(first \+ second\) is used/],
    ['a variant that defines no allele alone leaves one reading (no note)', [1, 2], undefined, /no placement/],
  ] as const)('%s', (_n, vs, diplotype, note) => {
    const r = assembleCalls(g, 'G6PD', vs.map((variant) => ({ variant, copies: 1 as const })));
    if (diplotype) {
      expect(okOf(r)?.diplotype).toBe(diplotype);
      expect(okOf(r)?.notes?.join(' ') ?? '').toMatch(note);
    } else expect((r as { error?: string }).error).toMatch(note);
  });

  test('real catalogue: c.202G>A + c.376A>G heterozygous are A- 202A_376G in cis or Asahi + A in trans; the card says the phase does not change the phenotype', () => {
    const c = GENOMIC_CASES.find((x) => x.id === 'g6pd-var-aminus-het-0')!;
    const r = readGeneResults(caseObservations(c));
    expect(r.results.map((x) => x.diplotype)).toEqual(['B (reference)/A- 202A_376G']);
    const notes = r.results[0]!.notes!.join(' ');
    expect(notes).toMatch(/rs1050829, rs1050828 were reported without phase|rs1050828, rs1050829 were reported without phase/);
    expect(notes).toMatch(/A- 202A_376G \(III\/Deficient\) \+ B \(reference\) \(normal function\); or A \(IV\/Normal\) \+ Asahi \(III\/Deficient\)|A \(IV\/Normal\) \+ Asahi \(III\/Deficient\); or A- 202A_376G/);
    expect(notes).toMatch(/the phenotype does not depend on the phase/);
  });

  test('male: the same two variants hemizygous are A- 202A_376G (both on his one X)', () => {
    const r = assembleCalls(defaultVariantCatalogue().genes['G6PD']!, 'G6PD', [
      { variant: defaultVariantCatalogue().genes['G6PD']!.variants.findIndex((v) => v.rsid === 'rs1050828'), copies: 'hemizygous' },
      { variant: defaultVariantCatalogue().genes['G6PD']!.variants.findIndex((v) => v.rsid === 'rs1050829'), copies: 'hemizygous' },
    ]);
    expect(okOf(r)?.allele).toBe('A- 202A_376G');
  });
});
