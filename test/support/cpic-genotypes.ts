// Genotype inputs for the PGx knowledge tests that reach every row from FHIR data (test/unit/pgx-coverage.test.ts for
// CPIC, dpwg-knowledge.test.ts for DPWG): the diplotypes of CPIC's table per lookup key, and genomic Observations as
// a lab reports them (a genotype 84413-4 or phenotype 53040-2 text, the gene studied as an HGNC coding).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Observation } from 'fhir/r4';

const LOINC = 'http://loinc.org';

/** ../shared/data/cpic/diplotype_phenotypes.tsv as gene → lookup key → diplotypes (shortest first). */
export function cpicDiplotypes(): Map<string, Map<string, string[]>> {
  const diplotypes = new Map<string, Map<string, string[]>>();
  for (const l of readFileSync(path.resolve(process.cwd(), '../shared/data/cpic/diplotype_phenotypes.tsv'), 'utf8').split('\n').slice(1)) {
    const [gene, diplotype, , , key] = l.split('\t');
    if (!gene || !diplotype || !key) continue;
    const byKey = diplotypes.get(gene) ?? diplotypes.set(gene, new Map()).get(gene)!;
    (byKey.get(key) ?? byKey.set(key, []).get(key)!).push(diplotype);
  }
  for (const m of diplotypes.values()) for (const l of m.values()) l.sort((a, b) => a.length - b.length || a.localeCompare(b));
  return diplotypes;
}

/**
 * A maker of final genomic Observations of Patient/<prefix> (ids <prefix>-1, -2, …): the LOINC code, the reported
 * text, and the gene studied (48018-6) with its HGNC id from `hgncOf`.
 */
export function genomicObservations(prefix: string, hgncOf: (gene: string) => string | undefined): (gene: string, code: string, text: string) => Observation {
  let seq = 0;
  return (gene, code, text) => ({
    resourceType: 'Observation',
    id: `${prefix}-${++seq}`,
    status: 'final',
    code: { coding: [{ system: LOINC, code }] },
    subject: { reference: `Patient/${prefix}` },
    effectiveDateTime: '2025-01-01',
    valueCodeableConcept: { text },
    component: [{ code: { coding: [{ system: LOINC, code: '48018-6', display: 'Gene studied [ID]' }] }, valueCodeableConcept: { coding: [{ system: 'http://www.genenames.org', code: hgncOf(gene)!, display: gene }] } }],
  });
}
