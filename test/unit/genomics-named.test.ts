// What the reader makes of each issue-14 result shape (test/fixtures/genomic-cases.ts): the gene and the diplotype,
// allele, activity score, HLA carriage or phenotype — or an unread result naming its gene, never silence.
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
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
