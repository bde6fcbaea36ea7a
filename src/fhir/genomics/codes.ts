// What a genomic result is: the one definition used both by the FHIR query (config/services.json `genomics` and
// `genomicsCategory`, checked by test/unit/genomic-codes.test.ts) and by the reader. Code tables are data.
//
// Sources: HL7 Genomics Reporting IG STU1–STU3 (../shared/reference/fhir-pgx-coding.md, ../shared/data/fhir-genomics),
// the FHIR R4 core example observation-example-phenotype (79716-7), the IG's GenomicReportExample01 (57979-7
// "HLA-B*15:02 [Presence]"). A code whose meaning could not be checked against a published source is never used to
// name a gene or an allele: such Observations are read from their own gene component and value, or from the wording.
import type { Coding } from './json.js';

export const LOINC = 'http://loinc.org';
export const LOINC_SYSTEMS = new Set([LOINC, 'urn:oid:2.16.840.1.113883.6.1']);
export const HGNC_SYSTEMS = new Set(['http://www.genenames.org', 'http://www.genenames.org/geneid', 'http://genenames.org', 'urn:oid:2.16.840.1.113883.6.281']);
export const RXNORM_SYSTEMS = new Set(['http://www.nlm.nih.gov/research/umls/rxnorm', 'urn:oid:2.16.840.1.113883.6.88']);
export const CLINVAR = 'http://www.ncbi.nlm.nih.gov/clinvar';
/** the IG's code systems (tbd-codes-cs and its successors), lower-cased as normSystem() returns them */
export const GENOMICS_IG_CS = 'http://hl7.org/fhir/uv/genomics-reporting/codesystem/';
const IG_TBD_CODES = 'http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs';

/** Result kinds the reader knows. `generic`: a genomic code whose kind is decided by the value (genotype, phenotype, activity score). */
export type ObsKind = 'genotype' | 'haplotype' | 'variant' | 'implication' | 'phenotype' | 'hla-presence' | 'generic';

export interface GenomicCode {
  system: string;
  code: string;
  kind: ObsKind;
  display: string;
  /** set only where the published meaning of the code names the gene */
  gene?: string;
  /** HLA presence codes: the allele tested, e.g. "*58:01" */
  allele?: string;
  /**
   * false: the code's meaning could not be checked against LOINC (docs/pgx.md "LOINC codes"); its gene/allele is then
   * used only when the Observation itself names the same allele (display or text), never from the code alone
   */
  verified?: false;
  source: string;
}

/**
 * Observation.code values that make an Observation a genomic result, in query order. Every code here is fetched by the
 * `genomics` prefetch/query, and every code fetched is read (test/unit/genomic-codes.test.ts).
 */
export const GENOMIC_RESULT_CODES: readonly GenomicCode[] = [
  { system: LOINC, code: '84413-4', kind: 'genotype', display: 'Genotype display name', source: 'Genomics Reporting IG STU2/STU3 genotype profile' },
  { system: LOINC, code: '84414-2', kind: 'haplotype', display: 'Haplotype name', source: 'Genomics Reporting IG STU2/STU3 haplotype profile' },
  { system: LOINC, code: '69548-6', kind: 'variant', display: 'Genetic variant assessment', source: 'Genomics Reporting IG variant profile (all generations)' },
  { system: LOINC, code: '53040-2', kind: 'implication', display: "Genetic variation's effect on drug metabolism", source: 'Genomics Reporting IG STU1 medication-metabolism' },
  { system: LOINC, code: '51961-1', kind: 'implication', display: "Genetic variation's effect on drug efficacy", source: 'Genomics Reporting IG STU1 medication-efficacy' },
  { system: LOINC, code: '79716-7', kind: 'phenotype', gene: 'CYP2C9', display: 'CYP2C9 gene product metabolic activity interpretation', source: 'FHIR R4 core example observation-example-phenotype' },
  // pre-coordinated metabolic-activity interpretation codes the EHRs of this project's first sites send; the gene is
  // taken from the Observation (gene component or code display), never from the code
  { system: LOINC, code: '79714-2', kind: 'generic', display: 'gene product metabolic activity interpretation (gene from the Observation)', source: 'sent by EHRs; meaning not verified here' },
  { system: LOINC, code: '79715-9', kind: 'generic', display: 'gene product metabolic activity interpretation (gene from the Observation)', source: 'sent by EHRs; meaning not verified here' },
  { system: LOINC, code: '57979-7', kind: 'hla-presence', gene: 'HLA-B', allele: '*15:02', display: 'HLA-B*15:02 [Presence]', source: 'Genomics Reporting IG GenomicReportExample01' },
  { system: LOINC, code: '79711-8', kind: 'hla-presence', gene: 'HLA-B', allele: '*58:01', verified: false, display: 'HLA-B*58:01 [Presence]', source: 'laboratory messages seen in the field (issue 14); not verifiable against LOINC here and attributed to other genes by some public code (docs/pgx.md): read only when the Observation names HLA-B*58:01 too' },
  { system: IG_TBD_CODES, code: 'therapeutic-implication', kind: 'implication', display: 'Therapeutic implication', source: 'Genomics Reporting IG STU2/STU3' },
  { system: IG_TBD_CODES, code: 'predicted-therapeutic-implication', kind: 'implication', display: 'Predicted therapeutic implication', source: 'Genomics Reporting IG STU2 (its component code, also sent as Observation.code)' },
  { system: IG_TBD_CODES, code: 'medication-implication', kind: 'implication', display: 'Medication implication', source: 'Genomics Reporting IG ballot versions (sent by early implementers)' },
];

/** Observation.category codings that mark a genetics result (HL7 v2 table 0074 "GE", as the IG examples carry it). */
export const GENETICS_CATEGORIES: readonly { system: string; code: string }[] = [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'GE' }];

/** LOINC answers for phenotypes / therapeutic implications (GeneticTherapeuticImplicationsVS). */
export const PHENOTYPE_ANSWERS: Readonly<Record<string, string>> = {
  'LA10315-2': 'Ultrarapid Metabolizer',
  'LA25390-8': 'Rapid Metabolizer',
  'LA25391-6': 'Normal Metabolizer',
  'LA10317-8': 'Intermediate Metabolizer',
  'LA9657-3': 'Poor Metabolizer',
  'LA25392-4': 'Increased Function',
  'LA25393-2': 'Normal Function',
  'LA25395-7': 'Decreased Function',
  'LA25394-0': 'Poor Function',
  'LA19541-4': 'High Risk',
  'LA19542-2': 'Low Risk',
  'LA6677-4': 'Responsive',
  'LA6676-6': 'Resistant',
};

/** LOINC answers meaning the tested allele/variant was found (true) or not (false). */
export const PRESENCE_ANSWERS: Readonly<Record<string, boolean>> = {
  'LA9633-4': true, // Present
  'LA9634-2': false, // Absent
  'LA6576-8': true, // Positive
  'LA6577-6': false, // Negative
  'LA11882-0': true, // Detected
  'LA11883-8': false, // Not detected
};

/** Allelic state (53034-5) answers: copies of the alternate allele carried. */
export const ALLELIC_STATES: Readonly<Record<string, { state: 'het' | 'hom' | 'hemi' | 'heteroplasmic' | 'homoplasmic' }>> = {
  'LA6706-1': { state: 'het' }, // Heterozygous
  'LA6705-3': { state: 'hom' }, // Homozygous
  'LA6707-9': { state: 'hemi' }, // Hemizygous
  'LA6703-8': { state: 'heteroplasmic' }, // Heteroplasmic
  'LA6704-6': { state: 'homoplasmic' }, // Homoplasmic
};

/** Variant Observation components (Genomics Reporting IG). */
export const VARIANT_COMPONENTS = {
  rsid: '81252-9', // Discrete genetic variant (dbSNP)
  genomicHgvs: '81290-9', // Genomic DNA change (gHGVS)
  cdnaHgvs: '48004-6', // DNA change (c.HGVS)
  refSeq: '48013-7', // Genomic reference sequence [ID]
  transcript: '51958-7', // Transcript reference sequence [ID]
  ref: '69547-8', // Genomic ref allele
  alt: '69551-0', // Genomic alt allele
  allelicState: '53034-5', // Allelic state
  assembly: '62374-4', // Human reference sequence assembly version
} as const;

/** Assembly answers (62374-4). */
export const ASSEMBLIES: Readonly<Record<string, 'GRCh37' | 'GRCh38'>> = { 'LA14029-5': 'GRCh37', 'LA26806-2': 'GRCh38' };

/** ClinVar variation ids used by the IG examples, for codings that arrive without a display. */
export const CLINVAR_DISPLAYS: Readonly<Record<string, string>> = { '14909': 'HLA-B*15:02', '638797': 'CYP2C19*2/*2' };

export const isLoinc = (c: Coding, code: string): boolean => c.code === code && (c.system === '' || LOINC_SYSTEMS.has(c.system));
export const isIgCode = (c: Coding, ...codes: string[]): boolean => codes.includes(c.code) && (c.system === '' || c.system.startsWith(GENOMICS_IG_CS));

const BY_CODE = new Map(GENOMIC_RESULT_CODES.map((g) => [`${g.system === LOINC ? 'loinc' : 'ig'}|${g.code}`, g]));

/** The definition entry for one coding of Observation.code, if it is a genomic result code. */
export function genomicCodeOf(c: Coding): GenomicCode | undefined {
  if (c.system === '' || LOINC_SYSTEMS.has(c.system)) {
    const hit = BY_CODE.get(`loinc|${c.code}`);
    if (hit) return hit;
  }
  if (c.system === '' || c.system.startsWith(GENOMICS_IG_CS)) return BY_CODE.get(`ig|${c.code}`);
  return undefined;
}

/** Does the category say genetics? */
export function isGeneticsCategory(c: Coding): boolean {
  return GENETICS_CATEGORIES.some((g) => c.code === g.code && c.system === g.system.toLowerCase());
}

/** The prefetch keys (config/services.json) that carry genomic results: by code, and by the genetics category. */
export const GENOMIC_PREFETCH_KEYS = ['genomics', 'genomicsCategory'] as const;

/** Percent-encoded FHIR token (`system|code`): a proxy that collapses `//` in raw query strings cannot break it. */
export function encodeToken(system: string, code: string): string {
  return `${encodeURIComponent(system)}%7C${encodeURIComponent(code)}`;
}

/** The `genomics` query every genomic result code is fetched by (config/services.json must carry exactly this). */
export function genomicsQueryTemplate(): string {
  const codes = GENOMIC_RESULT_CODES.map((g) => encodeToken(g.system, g.code)).join(',');
  return `Observation?patient={{context.patientId}}&code=${codes}&_count=100`;
}

/** The `genomicsCategory` query: every genetics-category Observation, so that a result under a local code is read too. */
export function genomicsCategoryQueryTemplate(): string {
  const cats = GENETICS_CATEGORIES.map((g) => encodeToken(g.system, g.code)).join(',');
  return `Observation?patient={{context.patientId}}&category=${cats}&_count=100`;
}
