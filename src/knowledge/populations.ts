// CPIC recommendation populations in the guidelines' own words (knowledge/cpic-populations.json): "CVI ACS PCI" →
// "cardiovascular indications: acute coronary syndrome and/or percutaneous coronary intervention (ACS/PCI)".
// The cards read it here; the SMART app imports the same file (smart-app/src/text.ts).
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const POPULATIONS_FILE = 'knowledge/cpic-populations.json';

/** The population words by CPIC code; throws when the file is not a `populations` map of strings. */
export function loadPopulationWords(file = path.resolve(process.cwd(), POPULATIONS_FILE)): Record<string, string> {
  const k = JSON.parse(readFileSync(file, 'utf8')) as { populations?: unknown };
  const p = k.populations;
  if (!p || typeof p !== 'object' || Array.isArray(p)) throw new Error(`${POPULATIONS_FILE}: "populations" must be an object of code → words`);
  for (const [code, words] of Object.entries(p)) if (typeof words !== 'string') throw new Error(`${POPULATIONS_FILE}: population ${code} must have words (a string)`);
  return p as Record<string, string>;
}

let cached: Record<string, string> | undefined;

/** A CPIC population code in the guideline's words; undefined for the whole population ("general") or an unknown code. */
export function populationWords(code: string): string | undefined {
  cached ??= loadPopulationWords();
  const w = cached[code];
  return w ? w : undefined;
}
