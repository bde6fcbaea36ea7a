// DPWG knowledge: the committed file is exactly what scripts/build-dpwg.ts builds from ../shared/data/dpwg, its counts
// are the README's, the HTML → text step is safe, and every DPWG row is reached from a genotype (Observations read by
// the real genomics reader, then the CPIC engine over the DPWG rows) or listed as unreachable with its reason.
// Sources: ../shared/data/dpwg/README.md (62 files, 529 recommendations, 53 drugs) and the DPWG_*.json files;
// diplotypes from ../shared/data/cpic/diplotype_phenotypes.tsv.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { GeneResult, PatientFacts } from '../../src/domain/facts.js';
import { evaluateDpwg } from '../../src/dosing/pgx/dpwg.js';
import { DEFAULT_PGX_SETTINGS } from '../../src/dosing/pgx/evaluator.js';
import { alleleAlias } from '../../src/dosing/pgx/alleles.js';
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { loadDpwgKnowledge, type DpwgRow } from '../../src/knowledge/dpwg.js';
import { loadPgxKnowledge } from '../../src/knowledge/pgx.js';
import { htmlToText } from '../../scripts/build-dpwg.js';
import { cpicDiplotypes, genomicObservations } from '../support/cpic-genotypes.js';

const cpic = loadPgxKnowledge();
const dk = loadDpwgKnowledge(undefined, cpic);
const DPWG = path.resolve(process.cwd(), '../shared/data/dpwg');
const NOW = new Date('2026-11-25T12:00:00Z');

test('build-dpwg is reproducible: a fresh build equals the committed knowledge/dpwg-recommendations.json byte for byte', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'dpwg-knowledge-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-dpwg.ts', '--out', out, '--genes', 'knowledge/pgx-genes.json'], { cwd: process.cwd(), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readdirSync(out)).toEqual(['dpwg-recommendations.json']);
    const fresh = readFileSync(path.join(out, 'dpwg-recommendations.json'));
    expect(fresh.equals(readFileSync('knowledge/dpwg-recommendations.json'))).toBe(true);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('the counts of ../shared/data/dpwg/README.md: 62 guideline files, 529 recommendations, 53 drugs, 15 genes', () => {
  const f = dk.file;
  expect(Object.keys(f.guidelines)).toHaveLength(62);
  expect(new Set(f.recommendations.map((r) => r.id)).size).toBe(529);
  expect(Object.keys(f.drugs)).toHaveLength(53);
  expect(new Set(Object.values(f.guidelines).flatMap((g) => g.genes)).size).toBe(15);
  // every guideline cites name, version, PharmGKB URL and data date (the README's attribution rule)
  for (const g of Object.values(f.guidelines)) {
    expect(g.url).toMatch(/^https:\/\/www\.pharmgkb\.org\/guidelineAnnotation\/PA\d+$/);
    expect(g.version).toMatch(/^DPWG guideline version \d+ via PharmCAT, data date \d{4}-\d{2}-\d{2}$/);
  }
  expect(f.uninterpretableGenes).toEqual({ CYP3A4: expect.stringMatching(/never guessed/) });
});

test.each([
  // [html, text] — tags stripped, list items on their own line, entities decoded (as in DPWG_* texts)
  ['<p>Use 50% of the standard dose and monitor the plasma concentration.</p>\n', 'Use 50% of the standard dose and monitor the plasma concentration.'],
  ['<ul>\n<li>Choose an alternative.</li>\n<li>If not possible: <em>monitor</em>.</li>\n</ul>', '- Choose an alternative.\n- If not possible: monitor.'],
  ['<p>eGFR &lt; 30 ml/min&nbsp;and dose &gt; 5&#37; &amp; more</p>', 'eGFR < 30 ml/min and dose > 5% & more'],
  ['<p>see <a href="javascript:alert(1)">link</a><script>x</script></p>', 'see linkx'],
  ['<p>&bogus; stays</p>', '&bogus; stays'],
])('HTML → plain text: %j', (html, text) => {
  expect(htmlToText(html)).toBe(text);
});

test('no stored DPWG text keeps a tag or an HTML entity', () => {
  for (const t of dk.file.texts) {
    expect(t).not.toMatch(/<\/?[a-z][^>]*>/i);
    expect(t).not.toMatch(/&(?:[a-z]+|#\d+);/i);
  }
});

// ---- every row reached ----

const diplotypes = cpicDiplotypes();
let seq = 0;
const observation = genomicObservations('dpwg', (gene) => cpic.genes[gene]?.hgnc);

function facts(genes: GeneResult[]): PatientFacts {
  return { patientId: 'dpwg', genes, medications: [], conditions: [], unavailable: [], notes: [], ageYears: { value: 50, source: { reference: 'Patient/dpwg' } } } as PatientFacts;
}

const order = { resource: { resourceType: 'MedicationRequest', status: 'draft', intent: 'order', subject: { reference: 'Patient/dpwg' } }, drugs: [] } as never;
const opts = { settings: { ...DEFAULT_PGX_SETTINGS, informationalCards: true }, newId: () => `id-${++seq}`, now: NOW };

/** The recommendation id DPWG gives `drug` for these gene results (undefined: none matched). */
function dpwgRowFor(drug: string, genes: GeneResult[]): string | undefined {
  const d = dk.file.drugs[drug]!;
  const recs = evaluateDpwg(dk, facts(genes), order, { ingredient: drug, rxcui: d.rxcui ?? '' }, [], opts);
  return recs.find((r) => r.pgx && !['test', 'unreadable'].includes(r.pgx.action))?.guideline?.recommendationId;
}

/** Candidate gene results for a stored row: Observations through the reader; VKORC1 as the reader's rs9923231 result. */
function candidates(row: DpwgRow): GeneResult[][] {
  if (row.diplotype) return [readGeneResults([observation(row.diplotype.gene, '84413-4', row.diplotype.diplotype)]).results];
  const [gene, key] = Object.entries(row.lookup)[0]!;
  if (gene === 'VKORC1') {
    const g = key.slice(-2);
    return [[{ gene, variant: { rsid: 'rs9923231', genotype: `${[...g].sort().join('/')}`, strand: 'gene' }, text: `VKORC1 -1639 ${g}`, source: { reference: 'Observation/vk', date: '2025-01-01' } }]];
  }
  const g = cpic.genes[gene]!;
  if (g.method === 'hla') return [readGeneResults([observation(gene, '84413-4', `${gene}${key}`)]).results];
  const list = diplotypes.get(gene)?.get(key) ?? [];
  const spell = list.slice(0, 40).flatMap((d) => [...new Set([g.aliases ? d.split('/').map(alleleAlias).join('/') : d, d])]);
  return spell.map((t) => readGeneResults([observation(gene, '84413-4', t)]).results).filter((r) => r.length === 1);
}


test('every DPWG row is reached from a genotype, or listed as unreachable with its reason', () => {
  const reached = new Set<string>();
  const failures: string[] = [];
  for (const row of dk.file.recommendations) {
    if (row.unreachable || row.drugs.includes('warfarin')) continue;
    const drug = row.drugs[0]!;
    const tries = candidates(row);
    if (tries.some((genes) => dpwgRowFor(drug, genes) === row.id)) reached.add(row.id);
  }
  const ids = new Set(dk.file.recommendations.map((r) => r.id));
  const unreachable = new Map(dk.file.unreachable.map((u) => [u.id, u.reason]));
  const warfarin = new Set(dk.file.recommendations.filter((r) => r.drugs.includes('warfarin')).map((r) => r.id));
  for (const id of ids) {
    if (reached.has(id) || unreachable.has(id) || warfarin.has(id)) continue;
    const r = dk.file.recommendations.find((x) => x.id === id)!;
    failures.push(`${id} ${r.drugs.join(',')} ${JSON.stringify(r.dpwgLookup)}`);
  }
  console.log(`${reached.size}/${ids.size} DPWG recommendations reached from a genotype; ${unreachable.size} unreachable (listed in the knowledge), ${warfarin.size} warfarin rows (its own evaluator)`);
  expect(failures).toEqual([]);
  expect(reached.size + unreachable.size + warfarin.size).toBe(529);
  expect(reached.size).toBe(510);
  // the unreachable rows and why: HLA-B "1511 and 1502" (carbamazepine, a two-allele key); CYP3A4 (quetiapine, no
  // phenotype table); DPYD "1.0 (Phenotyping)" of capecitabine, flucytosine, fluorouracil, tegafur (same score as the
  // "1.0 (Intermediate Metabolizer)" row; the genotype → row rule is not in the files)
  expect(Object.fromEntries([...unreachable.entries()].map(([id, why]) => [id, why.split(/[;:,(]/)[0]]))).toEqual({
    PA166299116: 'HLA key "1511 and 1502" combines two alleles',
    PA166299123: 'no CYP3A4 phenotype table in ../shared/data/cpic',
    PA166299124: 'no CYP3A4 phenotype table in ../shared/data/cpic',
    PA166299125: 'no CYP3A4 phenotype table in ../shared/data/cpic',
    PA166301781: 'DPYD "1.0 ',
    PA166301782: 'DPYD "1.0 ',
    PA166301783: 'DPYD "1.0 ',
    PA166301784: 'DPYD "1.0 ',
  });
});

test('DPWG files are read as published: every file in ../shared/data/dpwg is in the knowledge', () => {
  const files = readdirSync(DPWG).filter((f) => f.startsWith('DPWG_'));
  expect(Object.values(dk.file.guidelines).map((g) => g.file).sort()).toEqual(files.sort());
});
