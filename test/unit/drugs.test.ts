// Drug identification from display text (src/domain/drugs.ts): the indexed matcher must give exactly what trying every
// synonym's whole-word regex gives (the reference below), on every synonym of the dictionary in many contexts.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { DrugDictionary, mergeIngredients, type DrugCodes } from '../../src/domain/drugs.js';

const codes = JSON.parse(readFileSync('knowledge/drug-codes.json', 'utf8')) as DrugCodes;
const pgx = JSON.parse(readFileSync('knowledge/pgx-recommendations.json', 'utf8')) as { drugs: Record<string, { name: string; rxcui?: string; synonyms: string[] }> };
const ingredients = mergeIngredients(codes.ingredients, Object.values(pgx.drugs).map((d) => ({ name: d.name, rxcui: d.rxcui ?? '', synonyms: d.synonyms })));
const dict = DrugDictionary.load();

/** The definition: every synonym, in dictionary order, as a whole word (bounded by non-letters) of the lower-cased text. */
function reference(text: string): string[] {
  const t = text.toLowerCase().slice(0, 1000);
  const found: string[] = [];
  for (const i of ingredients)
    for (const s of i.synonyms) {
      const re = new RegExp(`(^|[^a-z])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z]|$)`);
      if (!found.includes(i.name) && re.test(t)) found.push(i.name);
    }
  return found;
}
const identified = (text: string) => dict.identify([], text).map((d) => d.ingredient);
const synonyms = ingredients.flatMap((i) => i.synonyms);

test('the dictionary has synonyms with non-letters (digits, hyphens, spaces) — the cases the index must get right', () => {
  expect(synonyms.length).toBeGreaterThan(50);
  expect(synonyms.some((s) => /[^a-z]/.test(s))).toBe(true);
});

test.each([
  ['warfarin sodium 5 MG Oral Tablet', ['warfarin']],
  ['Coumadin 5 mg', ['warfarin']],
  ['Plavix 75 MG | clopidogrel', ['clopidogrel']],
  ['prewarfarin', []],
  ['warfarins', []],
  ['', []],
])('%s → %p', (text, expected) => {
  expect(identified(text)).toEqual(expected);
  expect(reference(text)).toEqual(expected);
});

test('every synonym in letter, digit, punctuation and boundary contexts: same as the reference', () => {
  const contexts = (s: string) => [s, `${s} 5 MG Oral Tablet`, `x${s}`, `${s}x`, `1${s}2`, `(${s})`, `a-${s}-b`, `${s.toUpperCase()} tab`, `tab ${s}|${s}`];
  for (const s of synonyms) for (const text of contexts(s)) expect([text, identified(text)]).toEqual([text, reference(text)]);
});

test('random texts built from synonym fragments and separators: same as the reference (fixed seed)', () => {
  const piece = fc.oneof(fc.constantFrom(...synonyms), fc.constantFrom(' ', '-', '/', '|', '5 mg', 'x', 'tab', ''), fc.string({ maxLength: 6 }));
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 8 }), (parts) => {
      const text = parts.join('');
      expect(identified(text)).toEqual(reference(text));
    }),
    { seed: 20261125, numRuns: 2000 },
  );
});
