// npx tsx bench/pgx-knowledge.bench.ts — start-up cost of the PGx knowledge and lookup throughput, against a baseline
// measured in the same run (plain JSON.parse of the same bytes). Budget: load < 200 ms.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { evaluatePgxGuidance } from '../src/dosing/pgx/engine.js';
import { readGeneResults } from '../src/fhir/genomics/index.js';
import { loadPgxKnowledge, PGX_FILES } from '../src/knowledge/pgx.js';

const dir = path.resolve('knowledge');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const time = (f: () => void, n: number) => Array.from({ length: n }, () => {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
});

const parse = time(() => Object.values(PGX_FILES).forEach((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8'))), 20);
const load = time(() => loadPgxKnowledge(dir), 20);
const k = loadPgxKnowledge(dir);
const obs = { resourceType: 'Observation', id: 'b1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '84413-4' }] }, valueCodeableConcept: { text: '*1/*2x2' }, component: [{ code: { coding: [{ system: 'http://loinc.org', code: '48018-6' }] }, valueCodeableConcept: { coding: [{ system: 'http://www.genenames.org', code: 'HGNC:2625' }] } }] };
const genes = readGeneResults([obs]).results;
const N = 20000;
const t0 = performance.now();
for (let i = 0; i < N; i++) evaluatePgxGuidance(k, { drug: i % 2 ? 'codeine' : 'amitriptyline', genes, conditions: [], medications: [], now: new Date() });
const perLookupUs = ((performance.now() - t0) / N) * 1000;
console.log(`baseline JSON.parse of the knowledge files: median ${median(parse).toFixed(1)} ms`);
console.log(`loadPgxKnowledge: median ${median(load).toFixed(1)} ms (budget 200 ms) — first call ${load[0]!.toFixed(1)} ms`);
console.log(`evaluatePgxGuidance: ${perLookupUs.toFixed(1)} µs per lookup (${N} lookups)`);
if (median(load) > 200) process.exitCode = 1;
