// Pharmacogenomic results from FHIR Observations: every IG example in ../shared/data/fhir-genomics plus
// hand-written variants of the patterns in ../shared/reference/fhir-pgx-coding.md (fixtures: test/support/genomics-observations.ts).
// This file: malformed input never throws and is reported.
import fc from 'fast-check';
import { readGeneResults } from '../../src/fhir/genomics/index.js';
import { allExamples, loinc, genotype, pharmvar, textValue, implication } from '../support/genomics-observations.js';

// ------------------------------------------------------------------------------------------------------------
// Garbage never throws
// ------------------------------------------------------------------------------------------------------------

describe('malformed input', () => {
  const huge = 'CYP2C9*1/*3 '.repeat(500_000); // 6 MB
  // Source: hand-crafted broken resources.
  test.each<[string, unknown]>([
    ['null', null],
    ['number', 42],
    ['array', [1, 2]],
    ['no resourceType', { id: 'a', status: 'final' }],
    ['code is a string', { resourceType: 'Observation', id: 'a', status: 'final', code: '84413-4' }],
    ['coding is an object', { resourceType: 'Observation', id: 'a', status: 'final', code: { coding: { code: '84413-4' } } }],
    ['missing code', { resourceType: 'Observation', id: 'a', status: 'final' }],
    ['status is a number', { resourceType: 'Observation', id: 'a', status: 1, code: loinc('84413-4') }],
    ['value is a string where a CodeableConcept belongs', { ...genotype('CYP2C9', textValue('x')), valueCodeableConcept: 'CYP2C9*1/*3' }],
    ['value coding codes are numbers', { ...genotype('CYP2C9', textValue('x')), valueCodeableConcept: { coding: [{ system: 7, code: 13, display: [] }] } }],
    ['component is an object', { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*3')), component: { code: 1 } }],
    ['components of wrong types', { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*3')), component: [null, 3, 'x', { code: null }, { code: { coding: [null] } }] }],
    ['huge value string', genotype('CYP2C9', textValue(huge))],
    ['huge id', { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*3')), id: huge }],
    ['derivedFrom of wrong types', { ...implication(loinc('LA9657-3')), derivedFrom: [null, 1, { reference: 5 }, { reference: huge }] }],
    ['derivedFrom cycle', { ...implication(loinc('LA9657-3'), { id: 'x', derivedFrom: ['Observation/x'] }) }],
    ['date garbage', { ...genotype('CYP2C9', pharmvar('CYP2C9*1/*3')), effectiveDateTime: '2024-99-99', issued: { a: 1 } }],
    ['regex-unfriendly text', genotype('VKORC1', textValue(`rs9923231 ${'C/'.repeat(100)}`))],
    ['star pile', genotype('CYP2D6', textValue(`*1${'x'.repeat(150)}/*2`))],
  ])('%s', (_name, item) => {
    const t0 = Date.now();
    const r = readGeneResults([item] as unknown[]);
    expect(Date.now() - t0).toBeLessThan(500);
    expect(Array.isArray(r.results)).toBe(true);
    for (const i of r.ignored) {
      expect(typeof i.reference).toBe('string');
      expect(i.reference.length).toBeLessThan(120);
      expect(typeof i.reason).toBe('string');
    }
    expect(r.results.length + r.ignored.length).toBeGreaterThan(0);
  });

  test('holes in a sparse list are skipped; the other items keep their positions', () => {
    const r = readGeneResults([, 'x', genotype('CYP2C9', pharmvar('CYP2C9*1/*3'))] as unknown[]);
    expect(r.results).toHaveLength(1);
    expect(r.ignored).toEqual([{ reference: '(item 2)', reason: 'not a FHIR Observation' }]);
  });

  test('a non-array input is reported, not thrown', () => {
    expect(readGeneResults('x' as unknown as unknown[]).ignored[0]!.reason).toBe('not a list of Observations');
  });

  test('getters that throw are contained', () => {
    const evil = { resourceType: 'Observation', id: 'e', status: 'final', get code(): never { throw new Error('boom'); } };
    const r = readGeneResults([evil, genotype('CYP2C9', pharmvar('CYP2C9*1/*3'), { id: 'ok' })]);
    expect(r.results.map((x) => x.source.reference)).toEqual(['Observation/ok']);
    expect(r.ignored).toEqual([{ reference: 'Observation/e', reason: 'Observation could not be read' }]);
  });

  test('property: arbitrary values never throw and every result is well formed', () => {
    fc.assert(
      fc.property(fc.array(fc.anything({ maxDepth: 4 }), { maxLength: 5 }), (items) => {
        const r = readGeneResults(items);
        return Array.isArray(r.results) && Array.isArray(r.ignored);
      }),
      { numRuns: 300 },
    );
  });

  test('property: examples with a field replaced by garbage never throw', () => {
    const examples = allExamples() as unknown as Record<string, unknown>[];
    const fields = ['code', 'valueCodeableConcept', 'component', 'derivedFrom', 'status', 'effectiveDateTime', 'id', 'specimen', 'valueString'];
    fc.assert(
      fc.property(
        fc.array(fc.record({ ex: fc.nat(examples.length - 1), field: fc.constantFrom(...fields), value: fc.anything({ maxDepth: 3 }), comp: fc.nat(9) }), { minLength: 1, maxLength: 6 }),
        (edits) => {
          const items = examples.map((e) => structuredClone(e));
          for (const ed of edits) {
            const target = items[ed.ex]!;
            const comps = target.component;
            // sometimes break a component's value instead of a top-level field
            // (only when that component is an object: an earlier edit may have replaced the list with primitives)
            const comp: unknown = Array.isArray(comps) && comps.length ? comps[ed.comp % comps.length] : undefined;
            if (ed.field === 'component' && ed.comp % 2 === 0 && typeof comp === 'object' && comp !== null) {
              (comp as Record<string, unknown>).valueCodeableConcept = ed.value;
            } else target[ed.field] = ed.value;
          }
          const r = readGeneResults(items);
          for (const x of r.results) {
            if (typeof x.gene !== 'string' || typeof x.text !== 'string' || typeof x.source.reference !== 'string') return false;
            if (x.variant?.rsid === 'rs9923231' && !['G/G', 'A/G', 'A/A'].includes(x.variant.genotype)) return false;
          }
          return true;
        },
      ),
      { numRuns: 300 },
    );
  });

  test('many Observations are read quickly', () => {
    const many = Array.from({ length: 1000 }, (_, i) => genotype('CYP2C9', pharmvar(i % 2 ? 'CYP2C9*1/*3' : 'CYP2C9*1/*2'), { id: `o${i}`, date: `2020-01-01T00:${String(Math.floor(i / 60) % 60).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}Z` }));
    const t0 = Date.now();
    const r = readGeneResults(many);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(r.results).toHaveLength(1);
  });
});
