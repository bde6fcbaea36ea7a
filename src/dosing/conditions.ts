// Conditions on the problem list matched against a code set (SNOMED CT codes, ICD-10 prefixes, words in the text).
import type { ConditionFact } from '../domain/facts.js';
import type { ConditionCodeSet } from '../knowledge/renal.js';

const SNOMED = 'http://snomed.info/sct';

/** The first active condition matching a code set (SNOMED code, ICD-10 prefix ignoring dots, or words in the text). */
export function findCondition(conditions: ConditionFact[], set: ConditionCodeSet | undefined): ConditionFact | undefined {
  if (!set) return undefined;
  const icd = set.icd10Prefixes.map((p) => p.replace(/\./g, '').toUpperCase());
  return conditions.find((c) => {
    for (const code of c.codes) {
      if (!code.code) continue;
      if (code.system === SNOMED && set.snomed.includes(code.code)) return true;
      if (code.system && /icd-?10/i.test(code.system)) {
        const norm = code.code.replace(/\./g, '').toUpperCase();
        if (icd.some((p) => norm.startsWith(p))) return true;
      }
    }
    const text = [c.text, ...c.codes.map((x) => x.display ?? '')].join(' ').toLowerCase();
    return set.text.some((t) => text.includes(t.toLowerCase()));
  });
}
