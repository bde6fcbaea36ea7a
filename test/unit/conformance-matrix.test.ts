// The conformance matrix (docs/conformance.md) cannot drift from the requirement list it answers
// (../shared/reference/cds-hooks-2.0-service-requirements.csv, the cds-hooks_2.0 requirement set of an established
// conformance test kit): every requirement id has its row with the list's level, every SHALL / SHALL NOT row names at
// least one test, and every test named anywhere in the matrix exists under that name in that file.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { SUPPORTED_HOOKS } from '../../src/cds/protocol.js';

const ROOT = process.cwd();
const CSV = path.resolve(ROOT, '../shared/reference/cds-hooks-2.0-service-requirements.csv');
const MATRIX = path.resolve(ROOT, 'docs/conformance.md');
const GUIDE = path.resolve(ROOT, 'docs/ehr-connection.md');

/** RFC 4180 CSV: quoted fields may hold commas, quotes ("") and line breaks. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') (field += '"'), i++;
      else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') row.push(field), (field = '');
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field), rows.push(row), (row = []), (field = '');
    } else field += ch;
  }
  if (field !== '' || row.length) row.push(field), rows.push(row);
  return rows.filter((r) => r.some((c) => c !== ''));
}

interface Requirement {
  id: string;
  level: string;
}
function requirements(): Requirement[] {
  const [header, ...rows] = parseCsv(readFileSync(CSV, 'utf8'));
  const id = header!.indexOf('ID');
  const level = header!.indexOf('Conformance');
  return rows.map((r) => ({ id: r[id]!, level: r[level]! }));
}

interface MatrixRow {
  id: string;
  level: string;
  refs: { file: string; name: string }[];
  line: string;
}
/** Rows of the matrix table: `| [id](url) | LEVEL (conditional)? | text | proof |`; a proof names tests as `file` › `name`. */
function matrix(): MatrixRow[] {
  return readFileSync(MATRIX, 'utf8')
    .split('\n')
    .map((line) => ({ line, m: /^\| \[(\d+)\]\([^)]+\) \| ([A-Z ]+?)(?: \(conditional\))? \|/.exec(line) }))
    .filter((x) => x.m)
    .map(({ line, m }) => ({
      id: m![1]!,
      level: m![2]!,
      line,
      refs: [...line.matchAll(/`(test\/[^`]+?\.test\.ts)` › `([^`]+)`/g)].map((r) => ({ file: r[1]!, name: r[2]! })),
    }));
}

describe('the requirement list', () => {
  test('is the 120 service requirements of CDS Hooks 2.0 (69 SHALL, 4 SHALL NOT, 17 SHOULD, 1 SHOULD NOT, 28 MAY, 1 deprecated)', () => {
    const reqs = requirements();
    expect(reqs).toHaveLength(120);
    const count = (l: string) => reqs.filter((r) => r.level === l).length;
    expect([count('SHALL'), count('SHALL NOT'), count('SHOULD'), count('SHOULD NOT'), count('MAY'), count('DEPRECATED')]).toEqual([69, 4, 17, 1, 28, 1]);
    expect(new Set(reqs.map((r) => r.id)).size).toBe(120);
  });
});

describe('docs/conformance.md', () => {
  const rows = matrix();
  const byId = new Map(rows.map((r) => [r.id, r]));

  test('has exactly one row per requirement id, with the level of the list', () => {
    const reqs = requirements();
    expect(rows.map((r) => r.id).sort()).toEqual(reqs.map((r) => r.id).sort());
    expect(reqs.filter((r) => byId.get(r.id)?.level !== r.level).map((r) => [r.id, r.level, byId.get(r.id)?.level])).toEqual([]);
  });

  test('every SHALL and SHALL NOT row names at least one test', () => {
    const shall = requirements().filter((r) => r.level === 'SHALL' || r.level === 'SHALL NOT');
    expect(shall).toHaveLength(73);
    expect(shall.filter((r) => (byId.get(r.id)?.refs.length ?? 0) === 0).map((r) => r.id)).toEqual([]);
  });

  test('every test the matrix names exists under that name in that file', () => {
    const refs = rows.flatMap((r) => r.refs.map((x) => ({ ...x, id: r.id })));
    expect(refs.length).toBeGreaterThan(100);
    const missing = refs.filter(({ file, name }) => {
      const p = path.resolve(ROOT, file);
      if (!existsSync(p)) return true;
      const src = readFileSync(p, 'utf8');
      // the name as written in the source: a string literal (quotes of any kind) holding exactly this text
      return !['\'', '"', '`'].some((q) => src.includes(`${q}${name}${q}`));
    });
    expect(missing).toEqual([]);
  });

  test('a case of test/integration/conformance*.test.ts named "req N" is cited on the row of every N it names', () => {
    const files = ['test/integration/conformance.test.ts', 'test/integration/conformance-feedback.test.ts'];
    const names = files.flatMap((f) => [...readFileSync(path.resolve(ROOT, f), 'utf8').matchAll(/\['(req [\d, ]+:[^']*)'/g)].map((m) => m[1]!));
    expect(names.length).toBeGreaterThan(40);
    const uncited = names.flatMap((name) =>
      /^req ([\d, ]+):/.exec(name)![1]!.split(',').map((s) => s.trim()).filter((id) => !byId.get(id)?.refs.some((r) => r.name === name)).map((id) => [id, name]),
    );
    expect(uncited).toEqual([]);
  });
});

describe('docs/ehr-connection.md', () => {
  test('req 213: the EHR-connection guide states, per EHR, which hooks it fires and what the service gives on each', () => {
    const guide = readFileSync(GUIDE, 'utf8');
    const section = guide.split(/^## /m).find((s) => s.startsWith('Hooks each EHR fires'));
    expect(section).toBeDefined();
    const lines = section!.split('\n').filter((l) => l.startsWith('|'));
    const header = lines[0]!.split('|').map((c) => c.trim()).filter(Boolean);
    expect(header.slice(1).map((h) => h.replace(/`/g, ''))).toEqual([...SUPPORTED_HOOKS]);
    const vendors = lines.slice(2).map((l) => l.split('|').map((c) => c.trim()).slice(1, -1));
    expect(vendors.map((v) => v[0]!.replace(/\*/g, ''))).toEqual(['Epic', 'Oracle Health', 'CDS Hooks Sandbox', 'SMART App Launcher v2']);
    for (const v of vendors) expect([v[0], v.length, v.every((c) => c.length > 0)]).toEqual([v[0], SUPPORTED_HOOKS.length + 1, true]);
  });
});
