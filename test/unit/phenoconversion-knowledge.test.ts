// The phenoconversion table (knowledge/phenoconversion.json) against its rules and its sources: every row has a
// source with an https URL, a known enzyme and strength, an effect allowed for that strength, and an RxNorm ingredient
// code that exists in the local RxNorm tables under the row's name. Broken tables are refused with the rule named.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PERPETRATOR_STRENGTHS, PHENO_ENZYMES, type PhenoconversionTable } from '../../src/domain/phenoconversion.js';
import { isTableVersion, loadPhenoconversion, validatePhenoconversion } from '../../src/knowledge/phenoconversion.js';
import { knowledgeVersions } from '../../src/store/audit.js';

const table = loadPhenoconversion();
const raw = JSON.parse(readFileSync('knowledge/phenoconversion.json', 'utf8')) as PhenoconversionTable;

/** RxNorm ingredient CUI → name, from the three local tables the knowledge names (nothing guessed). */
function rxnormNames(): Map<string, string[]> {
  const names = new Map<string, string[]>();
  const add = (cui: string, name: string) => names.set(cui, [...(names.get(cui) ?? []), name.toLowerCase()]);
  const shared = path.resolve(process.cwd(), '../shared/data');
  for (const line of readFileSync(path.join(shared, 'cpic/drugs.tsv'), 'utf8').split('\n').slice(1)) {
    const [, name, cui] = line.split('\t');
    if (cui && name) add(cui, name);
  }
  for (const line of readFileSync(path.join(shared, 'rxnorm/value-set-codes.tsv'), 'utf8').split('\n').slice(1)) {
    const [cui, name] = line.split('\t');
    if (cui && name) add(cui, name);
  }
  const codes = JSON.parse(readFileSync('knowledge/drug-codes.json', 'utf8')) as { ingredients: { name: string; rxcui: string }[] };
  for (const i of codes.ingredients) if (i.rxcui) add(i.rxcui, i.name);
  return names;
}

describe('knowledge/phenoconversion.json', () => {
  const names = rxnormNames();
  const sourceIds = new Set(table.sources.map((s) => s.id));

  test('is versioned and lists its sources, each with an https URL', () => {
    expect(isTableVersion(table.version)).toBe(true);
    // rows were added after the first 2026-12-07 edition: the same-day revision names them
    expect(table.version).toBe('2026-12-07.2');
    expect(table.sources.length).toBeGreaterThan(0);
    for (const s of table.sources) expect(s.url).toMatch(/^https:\/\/\S+$/);
  });

  test('every audit record names the table version, suffix included (src/store/audit.ts knowledgeVersions)', () => {
    expect(knowledgeVersions()['phenoconversion.json']).toBe(table.version);
  });

  test.each(raw.rows.map((r) => [`${r.enzyme} ${r.drug} (${r.strength})`, r] as const))('%s: known enzyme and strength, a source, an RxNorm code of that ingredient', (_label, r) => {
    expect(PHENO_ENZYMES).toContain(r.enzyme);
    expect(PERPETRATOR_STRENGTHS).toContain(r.strength);
    expect(r.sources.length).toBeGreaterThan(0);
    for (const s of r.sources) expect(sourceIds.has(s)).toBe(true);
    expect(r.effectReason.length).toBeGreaterThan(10);
    if (r.rxcui !== undefined) {
      // the code exists locally, under this ingredient's name (an ingredient concept, not a product)
      expect(names.get(r.rxcui)).toContain(r.drug);
    } else {
      // no code only when no local table holds the ingredient (a code that is there must be used), and the row says so
      expect([...names.values()].some((n) => n.includes(r.drug))).toBe(false);
      expect(r.note).toMatch(/matched by name only/);
    }
  });

  test('effects follow the strength: strong → AS x 0 or Poor Metabolizer; moderate → a factor below 1 or a caution; inducer → caution', () => {
    for (const r of table.rows) {
      if (r.strength === 'strong') expect(r.effect.kind === 'poor-metabolizer' || (r.effect.kind === 'activity-factor' && r.effect.factor === 0)).toBe(true);
      if (r.strength === 'moderate') expect(r.effect.kind === 'caution' || (r.effect.kind === 'activity-factor' && r.effect.factor > 0 && r.effect.factor < 1)).toBe(true);
      if (r.strength === 'inducer') expect(r.effect.kind).toBe('caution');
    }
  });

  test('the CYP2D6 strong inhibitors named by the issue and the FDA table are there', () => {
    const strong = table.rows.filter((r) => r.enzyme === 'CYP2D6' && r.strength === 'strong').map((r) => r.drug);
    expect(strong).toEqual(expect.arrayContaining(['paroxetine', 'fluoxetine', 'bupropion', 'quinidine']));
  });

  test('rows where sources disagree say so (terbinafine, fluvoxamine CYP2D6, fluoxetine CYP2C19)', () => {
    for (const [enzyme, drug] of [['CYP2D6', 'terbinafine'], ['CYP2D6', 'fluvoxamine'], ['CYP2C19', 'fluoxetine']]) {
      expect(table.rows.find((r) => r.enzyme === enzyme && r.drug === drug)?.note).toMatch(/sources disagree/);
    }
  });

  test('docs/pgx.md lists every row of the table, with its strength and version', () => {
    const doc = readFileSync('docs/pgx.md', 'utf8');
    expect(doc).toContain(`version ${table.version}`);
    for (const r of table.rows) expect(doc).toContain(`| ${r.enzyme} | ${r.drug} (${r.rxcui ?? 'by name'}) | ${r.strength} |`);
    expect(doc.split('\n').filter((l) => /^\| CYP2(D6|C19|C9) \| /.test(l))).toHaveLength(table.rows.length);
  });

  test.each([
    // [version, accepted] — YYYY-MM-DD or a same-day revision YYYY-MM-DD.N with N ≥ 2 (docs/pgx.md, The table)
    ['2026-12-07', true],
    ['2026-12-07.2', true],
    ['2026-12-07.10', true],
    ['2026-12-07.1', false],
    ['2026-12-07.02', false],
    ['2026-12-07.0', false],
    ['2026-12-7', false],
    ['2026-12-07.x', false],
    ['2026-12-07.', false],
    ['2026-02-30', false],
    ['2026-13-01', false],
    [' 2026-12-07', false],
  ])('version %s accepted: %s', (version, ok) => {
    expect(isTableVersion(version)).toBe(ok);
    const check = () => validatePhenoconversion({ ...raw, version } as PhenoconversionTable);
    if (ok) expect(check).not.toThrow();
    else expect(check).toThrow(/version must be a date \(YYYY-MM-DD\) or a same-day revision/);
  });

  const row = raw.rows[0]!;
  test.each<[string, Partial<PhenoconversionTable>, RegExp]>([
    ['unknown enzyme', { rows: [{ ...row, enzyme: 'CYP3A4' as never }] }, /unknown enzyme "CYP3A4"/],
    ['unknown strength', { rows: [{ ...row, strength: 'weak' as never }] }, /unknown strength "weak"/],
    ['no source', { rows: [{ ...row, sources: [] }] }, /at least one source/],
    ['unknown source', { rows: [{ ...row, sources: ['nope'] }] }, /unknown source "nope"/],
    ['a strong inhibitor with factor 0.5', { rows: [{ ...row, effect: { kind: 'activity-factor', factor: 0.5 } }] }, /strong inhibitor sets the activity score to 0/],
    ['an inducer lowering the score', { rows: [{ ...row, strength: 'inducer', effect: { kind: 'activity-factor', factor: 0 } }] }, /inducer cannot lower/],
    ['an activity factor on CYP2C19', { rows: [{ ...row, enzyme: 'CYP2C19' }] }, /CYP2C19 has no activity score/],
    ['a non-numeric RxNorm code', { rows: [{ ...row, rxcui: 'paroxetine' }] }, /rxcui must be an RxNorm ingredient CUI/],
    ['a row listed twice', { rows: [row, row] }, /listed twice/],
    ['a source with an http URL', { sources: [{ ...raw.sources[0]!, url: 'http://example.org' }] }, /url must be an https URL/],
    ['no version', { version: '' }, /version must be a date/],
    ['a revision numbered 1 (the first edition of a day has no suffix)', { version: '2026-12-07.1' }, /version must be a date/],
    ['a one-digit day', { version: '2026-12-7' }, /version must be a date/],
    ['a non-numeric revision', { version: '2026-12-07.x' }, /version must be a date/],
  ])('a table with %s is refused', (_label, change, message) => {
    expect(() => validatePhenoconversion({ ...raw, ...change } as PhenoconversionTable)).toThrow(message);
  });
});
