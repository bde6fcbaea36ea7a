// Search parameter definitions for the test FHIR server (kept apart from app.ts so tests can check them without
// loading @medplum/core).
import type { Bundle, BundleEntry, SearchParameter } from '@medplum/fhirtypes';

/**
 * The R4 search parameters shared by many resource types (e.g. `patient`: "AllergyIntolerance.patient |
 * CarePlan.subject.where(resolve() is Patient) | … | Observation.subject.where(resolve() is Patient) | …") are split into
 * one parameter per base type whose expression keeps only that type's terms. The other terms can only yield nothing on a
 * resource of that type, so results are unchanged; but the in-memory repository evaluates the whole union on every
 * resource, and FHIRPath's look-up of each absent first step tries every choice-type suffix: about 1 ms per
 * Observation for `patient`, which made the server serve ~100 searches/s (the service's FHIR path was measured against
 * that, not against itself). A parameter whose terms cannot all be attributed to a type is kept as it is.
 */
export function perBaseSearchParameters(bundle: Bundle<SearchParameter>): Bundle<SearchParameter> {
  const entry: BundleEntry<SearchParameter>[] = [];
  for (const e of bundle.entry ?? []) {
    const sp = e.resource;
    const terms = sp?.expression ? topLevelUnion(sp.expression) : undefined;
    const typed = terms?.map((t) => ({ type: /^\(*\s*([A-Z][A-Za-z]+)\b/.exec(t)?.[1], term: t }));
    if (!sp || !sp.base || sp.base.length < 2 || !typed || typed.some((t) => !t.type)) {
      entry.push(e);
      continue;
    }
    for (const base of sp.base) {
      const own = typed.filter((t) => t.type === base || t.type === 'Resource' || t.type === 'DomainResource').map((t) => t.term);
      if (own.length === 0) continue;
      entry.push({ ...e, resource: { ...sp, id: `${sp.id}-${base}`, base: [base], expression: own.join(' | ') } });
    }
  }
  return { ...bundle, entry };
}

/** The terms of a FHIRPath union at the top level (a `|` inside parentheses or quotes belongs to its term). */
function topLevelUnion(expression: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let quote = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === "'") quote = !quote;
    else if (quote) continue;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      terms.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  terms.push(expression.slice(start).trim());
  return terms;
}
