// One definition of a genomic result (src/fhir/genomics/codes.ts): the FHIR query fetches exactly the codes the reader
// reads, every genetics-category Observation is fetched as well, and every token in every query is percent-encoded.
// Source: issue 14 scope 1 (a lab's HLA-B*58:01 presence code was read when prefetched but never fetched).
import type { Observation } from 'fhir/r4';
import { loadServiceCatalog } from '../../src/cds/services.js';
import { GENOMIC_PREFETCH_KEYS, GENOMIC_RESULT_CODES, GENETICS_CATEGORIES, genomicCodeOf, genomicsCategoryQueryTemplate, genomicsQueryTemplate } from '../../src/fhir/genomics/codes.js';
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { normSystem } from '../../src/fhir/genomics/json.js';

const catalog = loadServiceCatalog();

/** system|code tokens of one search parameter of a template, decoded as a FHIR server decodes them. */
function tokens(template: string, param: string): string[] {
  const query = template.split('?')[1] ?? '';
  return (new URLSearchParams(query).get(param) ?? '').split(',').filter(Boolean);
}

test('config/services.json carries the genomics queries built from the definition', () => {
  expect(catalog.prefetch['genomics']).toBe(genomicsQueryTemplate());
  expect(catalog.prefetch['genomicsCategory']).toBe(genomicsCategoryQueryTemplate());
  expect([...GENOMIC_PREFETCH_KEYS]).toEqual(['genomics', 'genomicsCategory']);
});

test('the query fetches exactly the codes the reader reads: none read but not fetched, none fetched but not read', () => {
  const fetched = tokens(catalog.prefetch['genomics']!, 'code').sort();
  const defined = GENOMIC_RESULT_CODES.map((c) => `${c.system}|${c.code}`).sort();
  expect(fetched).toEqual(defined);
  // every fetched code is recognised by the reader as a genomic result code, of the kind the definition says
  for (const t of fetched) {
    const [system, code] = t.split('|') as [string, string];
    const def = genomicCodeOf({ system: normSystem(system), code, display: '' });
    expect([t, def?.code]).toEqual([t, code]);
  }
  expect(tokens(catalog.prefetch['genomicsCategory']!, 'category')).toEqual(GENETICS_CATEGORIES.map((c) => `${c.system}|${c.code}`));
});

test('an Observation with each fetched code, and nothing else that says "genomic", is read or said to be unread — never dropped', () => {
  for (const def of GENOMIC_RESULT_CODES) {
    const obs: Observation = { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: def.system, code: def.code }] }, subject: { reference: 'Patient/p' }, valueString: 'unparseable ¿?' };
    const r = readGeneResults([obs]);
    expect([def.code, r.results.length + r.unread.length]).toEqual([def.code, 1]);
  }
});

test('every token of every prefetch template is percent-encoded (a proxy that collapses "//" cannot break it)', () => {
  for (const [key, template] of Object.entries(catalog.prefetch)) {
    const query = template.split('?')[1] ?? '';
    expect([key, /\/\/|\|/.test(query)]).toEqual([key, false]);
    for (const t of [...tokens(template, 'code'), ...tokens(template, 'category')]) expect([key, t]).toEqual([key, expect.stringMatching(/^https?:\/\/[^|]+\|[^|]+$/)]);
  }
});
