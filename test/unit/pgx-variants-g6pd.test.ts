// G6PD c. HGVS (NM_001360016.2) and GRCh37 positions (issue 14 leftover 1): the curated names in
// scripts/pgx-curation.json (two sources each), the build's checks of them against the GRCh38 variants, and how the
// reader reads a c./GRCh37 HGVS — or refuses it (another transcript or version, contradicting bases, an unverified
// GRCh37 position). The end-to-end cases are in test/fixtures/genomic-cases-g6pd.ts.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildVariantCatalogue, type NamedAlleleCuration, type VariantSources } from '../../scripts/knowledge/variants.js';
import { parseNamedText, resolveToken } from '../../src/fhir/genomics/named.js';
import { defaultVariantCatalogue } from '../../src/knowledge/pgxVariants.js';

const c = defaultVariantCatalogue();
const g = c.genes['G6PD']!;
const COMPLEMENT: Record<string, string> = { A: 'T', T: 'A', C: 'G', G: 'C' };
const MED = 'Mediterranean, Dallas, Panama, Sassari, Cagliari, Birmingham';

describe('the catalogue', () => {
  test('c. names are on NM_001360016.2, each the reverse complement of its plus-strand GRCh38 bases (G6PD is on the minus strand)', () => {
    expect(g.transcripts).toEqual(['NM_001360016.2']);
    expect(g.strand).toBe('minus');
    const named = g.variants.filter((v) => v.name);
    expect(named.length).toBe(20);
    for (const v of named) {
      const m = /^c\.(\d+)([ACGT])>([ACGT])$/.exec(v.name!)!;
      expect(`${m[2]}>${m[3]}`).toBe(`${COMPLEMENT[v.ref]}>${COMPLEMENT[v.alt]}`);
    }
  });

  test('CPIC allele names that state coding positions agree with the c. names of their variants', () => {
    const names = (allele: string) => g.alleles.find((a) => a.name === allele)!.variants.map((i) => g.variants[i]!.name).sort();
    expect(names('A- 202A_376G')).toEqual(['c.202G>A', 'c.376A>G']);
    expect(names('A- 680T_376G')).toEqual(['c.376A>G', 'c.680G>T']);
    expect(names('A- 968C_376G')).toEqual(['c.376A>G', 'c.968T>C']);
    expect(names('202G>A_376A>G_1264C>G')).toEqual(['c.1264C>G', 'c.202G>A', 'c.376A>G']);
  });

  test('GRCh37 (NC_000023.10) positions only where two sources state them, all 771,785 below GRCh38', () => {
    expect(g.refseq37).toBe('NC_000023.10');
    const with37 = g.variants.filter((v) => v.pos37 !== undefined);
    expect(with37.map((v) => v.rsid).sort()).toEqual(['rs1050828', 'rs1050829', 'rs5030868', 'rs72554665', 'rs72554665']);
    for (const v of with37) expect(v.pos - v.pos37!).toBe(771785);
  });
});

// Each row: the c. HGVS, the CPIC allele it names alone (hemizygous), the sources (scripts/pgx-curation.json)
const HEMIZYGOUS: [string, string, string][] = [
  ['c.563C>T', MED, 'Geck 2023; Bancone 2014 (563C>T); PMC8110402 (nt 563 C→T); Ohlsson 2019'],
  ['NM_001360016.2:c.1376G>T', 'Canton, Taiwan-Hakka, Gifu-like, Agrigento-like', 'Geck 2023; Chiu 1992 (1376 G→T); Zhong 2018; Guangzhou 2023'],
  ['c.1388G>A', 'Kaiping, Anant, Dhon, Sapporo-like, Wosera', 'Geck 2023; Chiu 1992 (1388 G→A); Zhong 2018; Guangzhou 2023'],
  ['c.487G>A', 'Mahidol', 'Geck 2023; Bancone 2014 (487G>A); Chiu 1992'],
  ['c.493A>G', 'Taipei, Chinese-3', 'Geck 2023; Chiu 1992 (493 A→G, Asn165Asp)'],
  ['c.871G>A', 'Viangchan, Jammu', 'Geck 2023; Bancone 2014 (871G>A); Zhong 2018'],
  ['c.844G>C', 'Seattle, Lodi, Modena, Ferrara II, Athens-like', 'Geck 2023; Bancone 2014 (844G>C); PMC8110402'],
  ['c.1360C>T', 'Union,Maewo, Chinese-2, Kalo', 'Geck 2023; Zhong 2018 (Maewo c.1360C>T)'],
  ['c.95A>G', 'Gaohe', 'Geck 2023; Zhong 2018 (c.95A>G)'],
  ['c.1024C>T', 'Chinese-5', 'Geck 2023; Zhong 2018 (c.1024C>T)'],
  ['c.383T>C', 'Vanua Lava', 'Geck 2023; Ainoon 2003 (383T>C, G6PD Vanua Lava)'],
  ['c.592C>T', 'Coimbra Shunde', 'Geck 2023; Ainoon 2003 (592C>T, G6PD Coimbra)'],
  ['c.1003G>A', 'Chatham', 'Geck 2023; Ainoon 2003 (1003G>A, G6PD Chatham)'],
  ['c.131C>G', 'Orissa', 'Geck 2023; Ainoon 2003 (131C>G, G6PD Orissa)'],
  ['c.1361G>A', 'Andalus', 'Geck 2023; Ainoon 2003 (1361G>A, G6PD Andalus)'],
  ['c.202G>A', 'Asahi', 'Geck 2023 (Asahi c.202G>A); CPIC "A- 202A_376G"'],
  ['c.376A>G', 'A', 'Geck 2023 (A c.376A>G); CPIC "A- 202A_376G"; PMC8110402'],
  ['c.202G>A + c.376A>G', 'A- 202A_376G', 'CPIC allele name A- 202A_376G; Geck 2023 (A-_202A_376G c.202G>A;376A>G)'],
  ['c.376A>G + c.680G>T', 'A- 680T_376G', 'CPIC allele name A- 680T_376G; Geck 2023'],
  ['c.376A>G + c.968T>C', 'A- 968C_376G', 'CPIC allele name A- 968C_376G; Geck 2023'],
  ['NC_000023.10:g.153762634G>A', MED, 'GRCh37: Geck 2023 hg19 153762634:G>A; public GRCh37 trait table rs5030868 X:153762634'],
  ['NC_000023.10:g.153760484C>A', 'Canton, Taiwan-Hakka, Gifu-like, Agrigento-like', 'GRCh37: Geck 2023 hg19 153760484:C>A; gnomAD v2 X-153760484-C-A'],
];

test.each(HEMIZYGOUS)('"G6PD %s hemizygous" (male) is %s — %s', (hgvs, allele) => {
  expect(parseNamedText(c, `G6PD ${hgvs} hemizygous`, 'G6PD').parsed).toEqual({ ok: { t: 'single', gene: 'G6PD', allele } });
});

// Each row: the HGVS, why it is not read (the error names the reason)
const REFUSED: [string, RegExp][] = [
  ['NM_000402.4:c.563C>T', /NM_000402\.4 is a transcript whose c\. numbering is not in the knowledge/],
  ['NM_001360016.1:c.563C>T', /NM_001360016\.1 is a transcript version whose c\. numbering is not in the knowledge/],
  ['c.563C>G', /c\.563C>G contradicts the knowledge: at c\.563 it has c\.563C>T/],
  ['c.563G>A', /contradicts the knowledge/], // plus-strand bases written as a c. change
  ['NC_000023.10:g.153762635G>A', /not one of the verified GRCh37 positions/],
];

test.each(REFUSED)('%s is not read: %s', (hgvs, why) => {
  expect(resolveToken(g, hgvs)).toEqual({ error: expect.stringMatching(why) });
  expect(parseNamedText(c, `G6PD ${hgvs} hemizygous`, 'G6PD').parsed).toEqual({ error: expect.stringMatching(why) });
});

test('a c. position whose name is not verified (Aures c.143T>C, only in one source) is not a G6PD variant', () => {
  expect(resolveToken(g, 'c.143T>C')).toBeUndefined();
  expect('error' in parseNamedText(c, 'G6PD c.143T>C hemizygous', 'G6PD').parsed).toBe(true);
});

describe('the build refuses a c. name or GRCh37 position that does not fit', () => {
  const root = process.cwd();
  const cpic = path.resolve(root, '../shared/data/cpic');
  const tsv = (f: string) => {
    const lines = readFileSync(path.join(cpic, f), 'utf8').split('\n').filter((l) => l.length > 0);
    const head = lines[0]!.split('\t');
    return lines.slice(1).map((l) => Object.fromEntries(head.map((h, i) => [h, l.split('\t')[i] ?? ''])));
  };
  const curationFile = JSON.parse(readFileSync(path.join(root, 'scripts/pgx-curation.json'), 'utf8')) as { namedAlleles: Record<string, NamedAlleleCuration> };
  const base = (): VariantSources => ({
    alleleDefinitions: tsv('allele_definitions.tsv'),
    definitionVariants: tsv('allele_definition_variants.tsv'),
    alleleFunctions: tsv('allele_functions.tsv'),
    extract: JSON.parse(readFileSync(path.join(root, 'scripts/pgx-named-alleles.json'), 'utf8')) as VariantSources['extract'],
    curation: Object.fromEntries(Object.entries(structuredClone(curationFile.namedAlleles)).filter(([k]) => !k.startsWith('_'))),
    provenance: { sources: [], licence: '', attribution: '', builtBy: '' } as unknown as VariantSources['provenance'],
  });
  const withG6pd = (edit: (x: NamedAlleleCuration) => void) => {
    const s = base();
    edit(s.curation['G6PD']!);
    return () => buildVariantCatalogue(s);
  };

  test('the curation as committed builds', () => {
    expect(buildVariantCatalogue(base()).genes['G6PD']!.variants.filter((v) => v.name).length).toBe(20);
  });
  test('Mediterranean written with the plus-strand bases (c.563G>A) does not fit g.154534419G>A on the minus strand', () => {
    expect(withG6pd((x) => (x.codingNames!['g.154534419G>A']!.name = 'c.563G>A'))).toThrow(/does not fit g\.154534419G>A read on the minus strand \(C>T\)/);
  });
  test('a c. position that contradicts CPIC\'s allele name ("A- 680T_376G" with c.681G>T)', () => {
    expect(withG6pd((x) => (x.codingNames!['g.154534125C>A']!.name = 'c.681G>T'))).toThrow(/A- 680T_376G states c\.680→T/);
  });
  test('one source is not enough', () => {
    expect(withG6pd((x) => (x.codingNames!['g.154532269C>A']!.sources = x.codingNames!['g.154532269C>A']!.sources.slice(0, 1)))).toThrow(/c\.1376G>T needs two sources/);
  });
  test('a GRCh37 position off the G6PD region\'s GRCh38 - 771,785', () => {
    expect(withG6pd((x) => (x.grch37!['rs5030868']!.pos = 153762635))).toThrow(/GRCh37 153762635 is not GRCh38 154534419 - 771785/);
  });
  test('c. names without the transcript they are numbered on', () => {
    expect(withG6pd((x) => delete x.transcripts)).toThrow(/need the transcript/);
  });
});
