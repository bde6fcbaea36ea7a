// Fixtures for the genomics tests (test/unit/genomics-*.test.ts): the IG example Observations in
// ../shared/data/fhir-genomics, builders of hand-written Observations following the patterns in
// ../shared/reference/fhir-pgx-coding.md, and two readers that expect one result or only ignored input.
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Observation } from 'fhir/r4';
import type { GeneResult } from '../../src/domain/facts.js';
import { readGeneResults } from '../../src/fhir/genomics/index.js';

export const EXAMPLES_DIR = path.resolve(process.cwd(), '../shared/data/fhir-genomics');
export const exampleFiles = readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort();
export const load = (file: string): Record<string, unknown> => JSON.parse(readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Record<string, unknown>;
export const EX = Object.fromEntries(exampleFiles.map((f) => [f, load(f)]));
export const ex = (prefix: string): Observation => {
  const f = exampleFiles.find((x) => x.startsWith(prefix));
  if (!f) throw new Error(`no example ${prefix}`);
  return structuredClone(EX[f]) as unknown as Observation;
};
export const allExamples = (): Observation[] => exampleFiles.map((f) => structuredClone(EX[f]) as unknown as Observation);

export const LOINC = 'http://loinc.org';
export const TBD = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';
export const HGNC = 'http://www.genenames.org';
export const HGNC_IDS: Record<string, string> = { CYP2C9: 'HGNC:2623', CYP2C19: 'HGNC:2621', CYP2D6: 'HGNC:2625', VKORC1: 'HGNC:23663', 'HLA-B': 'HGNC:4932', 'HLA-A': 'HGNC:4931', CYP4F2: 'HGNC:2645', DPYD: 'HGNC:1806', TPMT: 'HGNC:12014' };

export type CC = NonNullable<Observation['valueCodeableConcept']>;
export const loinc = (code: string, display?: string): CC => ({ coding: [{ system: LOINC, code, ...(display ? { display } : {}) }] });
export const geneComponent = (gene: string, system = HGNC): NonNullable<Observation['component']>[number] => ({
  code: loinc('48018-6', 'Gene studied [ID]'),
  valueCodeableConcept: { coding: [{ system, code: HGNC_IDS[gene] ?? gene, display: gene }] },
});

export interface ObsOpts {
  id?: string;
  status?: Observation['status'];
  date?: string;
  specimen?: string;
  derivedFrom?: string[];
}
export const base = (code: CC, o: ObsOpts): Observation => ({
  resourceType: 'Observation',
  id: o.id ?? 'x',
  status: o.status ?? 'final',
  code,
  subject: { reference: 'Patient/p1' },
  ...(o.date ? { effectiveDateTime: o.date } : {}),
  ...(o.specimen ? { specimen: { reference: o.specimen } } : {}),
  ...(o.derivedFrom ? { derivedFrom: o.derivedFrom.map((reference) => ({ reference })) } : {}),
});

/** Genotype (84413-4) with a gene component and a value CodeableConcept. */
export const genotype = (gene: string | undefined, value: CC, o: ObsOpts = {}, system = HGNC): Observation => ({
  ...base(loinc('84413-4', 'Genotype display name'), o),
  valueCodeableConcept: value,
  ...(gene ? { component: [geneComponent(gene, system)] } : {}),
});
export const pharmvar = (code: string, display?: string): CC => ({ coding: [{ system: 'http://www.pharmvar.org', code, ...(display ? { display } : {}) }] });
export const textValue = (text: string): CC => ({ text });

/** Haplotype (84414-2), IG style: PharmVar code = gene symbol, display = allele. */
export const haplotype = (gene: string, allele: string, o: ObsOpts = {}): Observation => ({
  ...base(loinc('84414-2', 'Haplotype Name'), o),
  valueCodeableConcept: pharmvar(gene, `${gene} ${allele}`),
  component: [geneComponent(gene)],
});

/** STU3 therapeutic implication. */
export const implication = (phenotype: CC, o: ObsOpts & { rxnorm?: string[]; gene?: string; componentCode?: string; conclusion?: string } = {}): Observation => ({
  ...base({ coding: [{ system: TBD, code: 'therapeutic-implication' }] }, o),
  component: [
    ...(o.rxnorm ?? ['32968']).map((code) => ({ code: loinc('51963-7'), valueCodeableConcept: { coding: [{ system: RXNORM, code }] } })),
    { code: { coding: [{ system: TBD, code: o.componentCode ?? 'therapeutic-implication' }] }, valueCodeableConcept: phenotype },
    ...(o.gene ? [geneComponent(o.gene)] : []),
    ...(o.conclusion ? [{ code: { coding: [{ system: TBD, code: 'conclusion-string' }] }, valueString: o.conclusion }] : []),
  ],
});

/** The corrected VKORC1 variant example with some components replaced. */
export function variant(changes: { state?: CC | null; ref?: string; alt?: string; hgvs?: string; rsid?: string | null; value?: CC; gene?: string }): Observation {
  const v = ex('corrected_variant') as Observation & { component: NonNullable<Observation['component']> };
  const byCode = (code: string) => v.component.find((c) => c.code.coding?.[0]?.code === code);
  if (changes.state === null) v.component = v.component.filter((c) => c.code.coding?.[0]?.code !== '53034-5');
  else if (changes.state) byCode('53034-5')!.valueCodeableConcept = changes.state;
  if (changes.ref) byCode('69547-8')!.valueString = changes.ref;
  if (changes.alt) byCode('69551-0')!.valueString = changes.alt;
  if (changes.hgvs) byCode('81290-9')!.valueCodeableConcept = { coding: [{ system: 'http://varnomen.hgvs.org', code: changes.hgvs }] };
  if (changes.rsid === null) v.component = v.component.filter((c) => c.code.coding?.[0]?.code !== '81252-9');
  else if (changes.rsid) byCode('81252-9')!.valueCodeableConcept = { coding: [{ system: 'http://www.ncbi.nlm.nih.gov/projects/SNP', code: changes.rsid }] };
  if (changes.value) v.valueCodeableConcept = changes.value;
  if (changes.gene) byCode('48018-6')!.valueCodeableConcept = geneComponent(changes.gene).valueCodeableConcept!;
  return v;
}

export const only = (obs: Observation[] | Observation): GeneResult => {
  const r = readGeneResults(Array.isArray(obs) ? obs : [obs]);
  if (r.results.length !== 1) throw new Error(`expected one result, got ${JSON.stringify(r)}`);
  return r.results[0]!;
};
export const ignoredReason = (obs: Observation[] | Observation): string => {
  const r = readGeneResults(Array.isArray(obs) ? obs : [obs]);
  expect(r.results).toEqual([]);
  expect(r.ignored.length).toBeGreaterThan(0);
  return r.ignored.map((i) => i.reason).join(' | ');
};
