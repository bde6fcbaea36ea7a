// The committed PGx knowledge is exactly what `npm run build:knowledge` produces from ../shared/data/cpic.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGX_FILES } from '../../src/knowledge/pgx.js';

test('build-knowledge is reproducible: a fresh build equals the committed knowledge/ files byte for byte', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'pgx-knowledge-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-knowledge.ts', '--out', out], { cwd: process.cwd(), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(Object.values(PGX_FILES).sort());
    let total = 0;
    for (const f of Object.values(PGX_FILES)) {
      const fresh = readFileSync(path.join(out, f));
      const committed = readFileSync(path.resolve('knowledge', f));
      total += committed.length;
      expect(fresh.equals(committed)).toBe(true);
      // provenance and versions are in the file; no build timestamp
      const json = JSON.parse(committed.toString('utf8')) as { provenance: { sources: { commit: string; version: string }[]; licence: string[] } };
      expect(json.provenance.sources.length).toBeGreaterThan(0);
      expect(json.provenance.licence.join(' ')).toMatch(/CC0/);
    }
    expect(total).toBeLessThan(3 * 1024 * 1024);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
