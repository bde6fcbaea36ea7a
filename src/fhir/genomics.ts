// Pharmacogenomic results from FHIR R4 Observations, in every pattern EHRs send (HL7 Genomics Reporting IG STU1,
// STU2, STU3 and the FHIR R4 core examples; see ../shared/reference/fhir-pgx-coding.md).
//
// readGeneResults() is pure, synchronous and never throws. Whatever it cannot read safely goes to `ignored` with a
// reason; it never guesses. Reasons and notes name Observations, codes and dates but never the patient's result
// values, so they can be logged.
//
// Decisions on ambiguous input (each is tested in test/unit/genomics.test.ts):
// - Two results of the same gene and kind: the newest (effective, else issued) is used and the others are named in a
//   note on it. If the newest ones share a date (or are undated) and disagree, none of them is used.
// - Star alleles are normalised ("CYP2C9 *3/*1" → "*1/*3") and sorted by allele number. Copy-number and tandem
//   notations ("*2x2", "*2xN", "*36+*10") are kept verbatim: they are never expanded or interpreted.
// - A single haplotype is reported as `haplotype`, never as a diplotype. Two haplotypes of one gene form a diplotype
//   only when they share the specimen or the date; more than two are not combined.
// - SNP genotypes: the strand is decided from the letters. VKORC1 rs9923231 is C>T on the plus strand and G>A on the
//   gene strand (c.-1639), so every valid genotype names only {C,T} or only {G,A}; anything else ("G/T") is
//   impossible and ignored. "-1639" notation must use G/A. A variant name alone ("-1639G>A") is not a genotype.
//   VKORC1 rs9923231 is reported on the gene strand in IWPC notation (G/G, A/G, A/A); other known SNPs on the plus
//   strand with the reference allele first; unknown rsIDs as sent.
// - HLA: "HLA-B*15:02" as the value of a genotype Observation means the allele was found (the IG's
//   GenotypeExample1). Alleles are cut to two fields ("*57:01:01" → "*57:01") unless they carry an expression
//   suffix (N, L, S, Q, C, A), which is kept so that it never matches a CPIC lookup key by accident.
// - A therapeutic implication gets its gene from derivedFrom (resolved against the Observations passed in, or the
//   reference's display), its own gene component, or, failing both, from exactly one PGx gene named in its text.
//   Several genes (the IG's warfarin example is derived from CYP2C9 and VKORC1) → ignored, not attributed.
// - A medication component without an RxNorm code makes a drug-specific implication unusable → ignored.
import type { Observation } from 'fhir/r4';
import type { GeneResult, SourceRef } from '../domain/facts.js';

// ---------------------------------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------------------------------

export interface ReadGeneResultsOptions {
  /** how the Observations were obtained; copied into every result's source */
  via?: 'prefetch' | 'query';
  /** when given, Observations about another subject are ignored */
  patientId?: string;
}

export interface IgnoredObservation {
  /** "Observation/<id>", or a positional description when the item has no usable id */
  reference: string;
  reason: string;
}

export interface GeneResultsReading {
  results: GeneResult[];
  ignored: IgnoredObservation[];
}

/**
 * Read pharmacogenomic results from Observations (any mixture of IG generations). Non-Observations and
 * unrelated Observations are listed in `ignored` too, so every input is accounted for.
 */
export function readGeneResults(
  observations: readonly Observation[] | readonly unknown[],
  opts: ReadGeneResultsOptions = {},
): GeneResultsReading {
  const ignored: IgnoredObservation[] = [];
  if (!Array.isArray(observations)) return { results: [], ignored: [{ reference: '(input)', reason: 'not a list of Observations' }] };
  try {
    return readAll(observations, opts, ignored);
  } catch {
    // Defensive only: every reader below is written not to throw.
    return { results: [], ignored: [...ignored, { reference: '(input)', reason: 'genomic results could not be read' }] };
  }
}

/** All results for a gene (HGNC symbol, case-insensitive), in output order. */
export function resultsForGene(results: readonly GeneResult[], gene: string): GeneResult[] {
  const g = canonicalGene(gene) ?? gene;
  return results.filter((r) => r.gene === g);
}

/**
 * The most informative result for a gene: a diplotype, else an HLA result, else a SNP genotype, else a phenotype that
 * applies to any drug, else a drug-specific phenotype, else a single haplotype.
 */
export function resultForGene(results: readonly GeneResult[], gene: string): GeneResult | undefined {
  const list = resultsForGene(results, gene);
  const rank = (r: GeneResult): number =>
    r.diplotype ? 0 : r.hla ? 1 : r.variant ? 2 : r.phenotype && !r.drugRxNorm ? 3 : r.phenotype ? 4 : 5;
  return [...list].sort((a, b) => rank(a) - rank(b))[0];
}

/** The phenotype stated by the lab for a gene: the one for `drugRxNorm` if given and present, else a drug-independent one. */
export function phenotypeForGene(results: readonly GeneResult[], gene: string, drugRxNorm?: string): GeneResult | undefined {
  const list = resultsForGene(results, gene).filter((r) => r.phenotype !== undefined);
  return (drugRxNorm !== undefined ? list.find((r) => r.drugRxNorm === drugRxNorm) : undefined) ?? list.find((r) => r.drugRxNorm === undefined);
}

/** VKORC1 -1639G>A (rs9923231) genotype in the notation of the IWPC equation. */
export type Vkorc1IwpcGenotype = 'G/G' | 'A/G' | 'A/A';

/** The VKORC1 rs9923231 genotype for the IWPC equation, with the result it came from. */
export function vkorc1IwpcGenotype(results: readonly GeneResult[]): { genotype: Vkorc1IwpcGenotype; result: GeneResult } | undefined {
  for (const r of resultsForGene(results, 'VKORC1')) {
    const v = r.variant;
    if (v?.rsid === 'rs9923231' && v.strand === 'gene' && (v.genotype === 'G/G' || v.genotype === 'A/G' || v.genotype === 'A/A')) {
      return { genotype: v.genotype, result: r };
    }
  }
  return undefined;
}

/**
 * Does the patient carry an HLA allele (e.g. gene "HLA-B", allele "*57:01")? Uses presence results and typings.
 * undefined when nothing was reported for that allele or when the results contradict each other.
 */
export function hlaCarrier(results: readonly GeneResult[], gene: string, allele: string): boolean | undefined {
  const want = hlaTwoField(allele.startsWith('*') ? allele : `*${allele}`);
  const answers = new Set<boolean>();
  for (const r of resultsForGene(results, gene)) {
    if (r.hla && r.hla.allele === want) answers.add(r.hla.positive);
    if (r.diplotype && r.diplotype.includes(':')) answers.add(r.diplotype.split('/').includes(want));
  }
  return answers.size === 1 ? [...answers][0] : undefined;
}

/** HGNC id ("HGNC:2623" or "2623") → symbol, for the genes in ../shared/data/cpic/genes.tsv. */
export function hgncSymbol(id: string): string | undefined {
  const m = /^(?:HGNC:)?(\d{1,6})$/i.exec(id.trim());
  return m ? SYMBOL_BY_HGNC.get(Number(m[1])) : undefined;
}

/** Symbol → HGNC id ("HGNC:2623"). */
export function hgncId(symbol: string): string | undefined {
  const g = canonicalGene(symbol);
  return g ? `HGNC:${HGNC_IDS[g]}` : undefined;
}

/** Normalise a phenotype text to CPIC wording ("likely intermediate metaboliser" → "Likely Intermediate Metabolizer"). */
export function normalisePhenotype(textValue: string): string | undefined {
  return phenotypeTerm(textValue);
}

/** Observations from a Bundle (searchset or prefetch), ignoring other resources and malformed entries. */
export function observationsFromBundle(bundle: unknown): unknown[] {
  if (!isRec(bundle)) return [];
  return list(bundle.entry, MAX_OBSERVATIONS)
    .map((e) => (isRec(e) ? e.resource : undefined))
    .filter((r) => isRec(r) && r.resourceType === 'Observation');
}

// ---------------------------------------------------------------------------------------------------------------
// Code tables (data)
// ---------------------------------------------------------------------------------------------------------------

/**
 * HGNC ids of the genes in the CPIC gene table (../shared/data/cpic/genes.tsv, from cpicpgx/cpic-data
 * V2__initial_data.sql at 459e3ebd). Symbol → numeric part of "HGNC:<n>".
 */
const HGNC_IDS: Readonly<Record<string, number>> = {
  ABCB1: 40, ABCC4: 55, ABCG2: 74, ABL2: 77, ACE: 2707, ADD1: 243, ADORA2A: 263, ADRB2: 286, ANKK1: 21027,
  APOE: 613, ASL: 746, ASS1: 758, ATIC: 794, BCHE: 983, C11orf65: 28519, C8orf34: 30905, CACNA1S: 1397, CALU: 1458,
  CBR3: 1549, CCHCR1: 13930, CES1: 1863, CETP: 1869, CFTR: 1884, CHRNA3: 1957, COL22A1: 22989, COMT: 2228,
  COQ2: 25223, CPS1: 2323, CRHR1: 2357, CRHR2: 2358, CYB5R1: 13397, CYB5R2: 24376, CYB5R3: 2873, CYB5R4: 20147,
  CYP2A7P1: 2612, CYP2B6: 2615, CYP2C19: 2621, CYP2C8: 2622, CYP2C9: 2623, CYP2D6: 2625, CYP3A4: 2637, CYP3A5: 2638,
  CYP4F2: 2645, DPYD: 1806, DRD2: 3023, DYNC2H1: 2962, EGF: 3229, EPHX1: 3401, ERCC1: 3433, F5: 3542, FCGR3A: 3619,
  FDPS: 3631, FKBP5: 3721, FLOT1: 3757, G6PD: 4057, GBA: 4177, GGCX: 4247, GNB3: 4400, GP1BA: 4439, GRIK4: 4582,
  GSTM1: 4632, GSTP1: 4638, HAS3: 4820, 'HLA-A': 4931, 'HLA-B': 4932, 'HLA-C': 4933, 'HLA-DPB1': 4940,
  'HLA-DQA1': 4942, 'HLA-DRB1': 4948, HMGCR: 5006, HPRT1: 5157, HTR1A: 5286, HTR2A: 5293, HTR2C: 5295, IFNL3: 18365,
  IFNL4: 44480, ITPA: 6176, KCNIP4: 30083, KIF6: 21202, LDLR: 6547, LPA: 6667, LTC4S: 6719, MC4R: 6932,
  'MT-RNR1': 7470, MTHFR: 7436, MTRR: 7473, NAGS: 17996, NAT1: 7645, NAT2: 7646, NEDD4L: 7728, NQO1: 2874,
  NT5C2: 8022, NUDT15: 23063, OPRM1: 8156, OTC: 8512, POLG: 9179, PRKCA: 9393, PROC: 9451, PROS1: 9456, PTGFR: 9600,
  PTGS1: 9604, RYR1: 10483, SCN1A: 10585, SEMA3C: 10725, SERPINC1: 775, SLC28A3: 16484, SLC47A2: 26439,
  SLC6A4: 11050, SLCO1B1: 10959, SOD2: 11180, TANC1: 29364, TCF7L2: 11641, TMEM43: 28472, TNF: 11892, TP53: 11998,
  TPMT: 12014, TXNRD2: 18155, TYMS: 12441, UGT1A1: 12530, UGT1A4: 12536, UGT2B15: 12546, UMPS: 12563, VDR: 12679,
  VKORC1: 23663, XPC: 12816, XRCC1: 12828, YEATS4: 24859,
};

/** Genes CPIC gives prescribing guidance for; only these are looked for in free text (others are common words). */
const PGX_GENES: readonly string[] = [
  'CYP2C19', 'CYP2C9', 'CYP2D6', 'CYP3A5', 'CYP4F2', 'CYP2B6', 'VKORC1', 'SLCO1B1', 'TPMT', 'NUDT15', 'DPYD',
  'UGT1A1', 'HLA-A', 'HLA-B', 'ABCG2', 'G6PD', 'IFNL3', 'RYR1', 'CACNA1S', 'MT-RNR1',
];

/** Genes whose CPIC allele names are not star alleles ("Reference/c.1905+1G>A"). */
const NAMED_ALLELE_GENES = new Set(['DPYD', 'G6PD', 'RYR1', 'CACNA1S']);

/**
 * Gene-specific LOINC phenotype codes. Only codes verified against a published source are listed:
 * 79716-7 is the FHIR R4 core example observation-example-phenotype. Other pre-coordinated codes are recognised
 * from their display ("<GENE> gene product metabolic activity interpretation").
 */
const GENE_PHENOTYPE_LOINC: Readonly<Record<string, string>> = { '79716-7': 'CYP2C9' };

/** LOINC answers for phenotypes / therapeutic implications (GeneticTherapeuticImplicationsVS). */
const PHENOTYPE_ANSWERS: Readonly<Record<string, string>> = {
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

/** Phenotype wording (lower case) → CPIC wording. "Likely"/"Possible" may precede the metabolizer/function terms. */
const PHENOTYPE_TERMS: ReadonlyMap<string, string> = new Map([
  ['ultrarapid metabolizer', 'Ultrarapid Metabolizer'],
  ['rapid metabolizer', 'Rapid Metabolizer'],
  ['normal metabolizer', 'Normal Metabolizer'],
  ['extensive metabolizer', 'Normal Metabolizer'], // pre-2017 term for normal (CPIC term standardisation, Caudle 2017)
  ['intermediate metabolizer', 'Intermediate Metabolizer'],
  ['poor metabolizer', 'Poor Metabolizer'],
  ['increased function', 'Increased Function'],
  ['normal function', 'Normal Function'],
  ['decreased function', 'Decreased Function'],
  ['poor function', 'Poor Function'],
]);
const PHENOTYPE_OTHER: ReadonlyMap<string, string> = new Map([
  ['indeterminate', 'Indeterminate'],
  ['high risk', 'High Risk'],
  ['low risk', 'Low Risk'],
  ['responsive', 'Responsive'],
  ['resistant', 'Resistant'],
  ['um', 'Ultrarapid Metabolizer'],
  ['rm', 'Rapid Metabolizer'],
  ['nm', 'Normal Metabolizer'],
  ['em', 'Normal Metabolizer'],
  ['im', 'Intermediate Metabolizer'],
  ['pm', 'Poor Metabolizer'],
]);

/** LOINC answers meaning the tested allele/variant was found (true) or not (false). */
const PRESENCE_ANSWERS: Readonly<Record<string, boolean>> = {
  'LA9633-4': true, // Present
  'LA9634-2': false, // Absent
  'LA6576-8': true, // Positive
  'LA6577-6': false, // Negative
  'LA11882-0': true, // Detected
  'LA11883-8': false, // Not detected
};

/** ClinVar variation ids used by the IG examples, for codings that arrive without a display. */
const CLINVAR_DISPLAYS: Readonly<Record<string, string>> = { '14909': 'HLA-B*15:02', '638797': 'CYP2C19*2/*2' };

interface KnownSnp {
  gene: string;
  /** GRCh38 plus-strand reference and alternate allele */
  ref: string;
  alt: string;
  /** the gene is transcribed from the minus strand, so the gene-strand alleles are the complements */
  geneOnMinusStrand: boolean;
  /** RefSeq chromosome accession → position of the SNP on it */
  positions: Readonly<Record<string, number>>;
}

/**
 * SNPs whose strand we can resolve. GRCh38 positions and alleles from ../shared/data/cpic/allele_definition_variants.tsv;
 * GRCh37 position of rs9923231 (chr16:31107689) from dbSNP.
 */
const KNOWN_SNPS: Readonly<Record<string, KnownSnp>> = {
  rs9923231: { gene: 'VKORC1', ref: 'C', alt: 'T', geneOnMinusStrand: true, positions: { 'NC_000016.10': 31096368, 'NC_000016.9': 31107689 } },
  rs2108622: { gene: 'CYP4F2', ref: 'C', alt: 'T', geneOnMinusStrand: true, positions: { 'NC_000019.10': 15879621 } },
  rs2231142: { gene: 'ABCG2', ref: 'G', alt: 'T', geneOnMinusStrand: true, positions: { 'NC_000004.12': 88131171 } },
};

const LOINC_SYSTEMS = new Set(['http://loinc.org', 'urn:oid:2.16.840.1.113883.6.1']);
const HGNC_SYSTEMS = new Set(['http://www.genenames.org', 'http://www.genenames.org/geneid', 'http://genenames.org', 'urn:oid:2.16.840.1.113883.6.281']);
const RXNORM_SYSTEMS = new Set(['http://www.nlm.nih.gov/research/umls/rxnorm', 'urn:oid:2.16.840.1.113883.6.88']);
const CLINVAR = 'http://www.ncbi.nlm.nih.gov/clinvar';
const GENOMICS_IG_CS = 'http://hl7.org/fhir/uv/genomics-reporting/codesystem/';

const USABLE_STATUS = new Set(['final', 'amended', 'corrected']);
const MAX_OBSERVATIONS = 2000;
const MAX_LIST = 50;
/** longest string we try to parse (anything longer is not a genotype) */
const MAX_PARSE = 200;
/** longest text copied into a result */
const MAX_TEXT = 300;

// ---------------------------------------------------------------------------------------------------------------
// Safe access to untrusted JSON
// ---------------------------------------------------------------------------------------------------------------

type Rec = Record<string, unknown>;
const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
const list = (v: unknown, max = MAX_LIST): unknown[] => (Array.isArray(v) ? v.slice(0, max) : []);

/**
 * True when collapsing whitespace runs to one space and trimming would leave `s` unchanged: printable ASCII with
 * single spaces between words (most FHIR strings). Saves the regex replace on the common case.
 */
function isCollapsed(s: string): boolean {
  let afterSpace = true; // a leading space is not collapsed
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) {
      if (afterSpace) return false;
      afterSpace = true;
    } else if (c < 32 || c > 126) return false;
    else afterSpace = false;
  }
  return !afterSpace || s.length === 0;
}

/** Whitespace runs collapsed to one space, trimmed. */
const collapse = (s: string): string => (isCollapsed(s) ? s : s.replace(/\s+/g, ' ').trim());

/** A string short enough to parse, whitespace collapsed; undefined for non-strings, empty or over-long strings. */
function str(v: unknown, max = MAX_PARSE): string | undefined {
  if (typeof v !== 'string' || v.length > max * 2) return undefined;
  const s = collapse(v);
  return s && s.length <= max ? s : undefined;
}

/** Any string, clipped for display. */
function clip(v: unknown, max = MAX_TEXT): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = collapse(v.length > max * 2 ? v.slice(0, max * 2) : v);
  if (!s) return undefined;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

interface Coding {
  system: string;
  code: string;
  display: string;
}

function normSystem(v: unknown): string {
  const s = str(v, 200);
  if (!s) return '';
  const lower = s.toLowerCase();
  const http = lower.startsWith('https://') ? `http://${lower.slice(8)}` : lower;
  return http.endsWith('/') ? http.replace(/\/+$/, '') : http;
}

/** The first `max` elements of an array that are JSON objects (like list(v, max).filter(isRec), without the copies). */
function recordsOf(v: unknown, max: number): Rec[] {
  const out: Rec[] = [];
  if (!Array.isArray(v)) return out;
  const n = Math.min(v.length, max);
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i];
    if (isRec(x)) out.push(x);
  }
  return out;
}

function codingsOf(cc: unknown): Coding[] {
  if (!isRec(cc)) return [];
  const out: Coding[] = [];
  for (const c of recordsOf(cc.coding, 20)) out.push({ system: normSystem(c.system), code: str(c.code, 100) ?? '', display: str(c.display) ?? '' });
  return out;
}

const ccOf = (o: Rec): Rec | undefined => (isRec(o.valueCodeableConcept) ? o.valueCodeableConcept : undefined);
const ccText = (cc: unknown): string | undefined => (isRec(cc) ? str(cc.text) : undefined);
const isLoinc = (c: Coding, code: string): boolean => c.code === code && (c.system === '' || LOINC_SYSTEMS.has(c.system));
const isIgCode = (c: Coding, ...codes: string[]): boolean =>
  codes.includes(c.code) && (c.system === '' || c.system.startsWith(GENOMICS_IG_CS));

interface Component {
  codes: Coding[];
  raw: Rec;
}

function componentsOf(o: Rec): Component[] {
  const out: Component[] = [];
  for (const c of recordsOf(o.component, 100)) out.push({ codes: codingsOf(c.code), raw: c });
  return out;
}

const componentsWith = (o: Rec, pred: (c: Coding) => boolean): Component[] => componentsOf(o).filter((c) => c.codes.some(pred));

const OBS_ID = /^[A-Za-z0-9\-.]{1,64}$/;
/** "Observation/<id>" from a local, absolute or versioned reference. */
function observationRef(v: unknown): string | undefined {
  const s = str(v, 500);
  if (!s) return undefined;
  const m = /(?:^|\/)Observation\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(s);
  return m ? `Observation/${m[1]}` : undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Genes
// ---------------------------------------------------------------------------------------------------------------

const SYMBOL_BY_HGNC = new Map<number, string>(Object.entries(HGNC_IDS).map(([s, n]) => [n, s]));
const SYMBOL_BY_UPPER = new Map<string, string>(Object.keys(HGNC_IDS).map((s) => [s.toUpperCase(), s]));
const PGX_GENE_SET = new Set(PGX_GENES);

/** Canonical HGNC symbol of a known gene, case-insensitive. */
function canonicalGene(s: string | undefined): string | undefined {
  return s && s.length <= 20 ? SYMBOL_BY_UPPER.get(s.trim().toUpperCase()) : undefined;
}

const SYMBOL_LIKE = /^[A-Z][A-Z0-9-]{1,14}$/;

type Found<T> = { value: T } | { error: string } | undefined;

/** Gene from one HGNC coding. */
function geneFromHgncCoding(c: Coding): Found<string> {
  if (!HGNC_SYSTEMS.has(c.system) && !(c.system === '' && /^HGNC:/i.test(c.code))) return undefined;
  const byId = /^(?:HGNC:)?\d{1,6}$/i.test(c.code) ? hgncSymbol(c.code) : canonicalGene(c.code);
  const byDisplay = canonicalGene(c.display);
  if (byId && byDisplay && byId !== byDisplay) return { error: `HGNC coding ${c.code} does not match its display` };
  const gene = byId ?? byDisplay ?? (SYMBOL_LIKE.test(c.display) ? c.display : undefined);
  return gene ? { value: gene } : { error: `gene ${c.code || '(no code)'} is not a known HGNC gene` };
}

/** Gene(s) named by the "Gene studied" (48018-6) components. */
function componentGene(o: Rec): Found<string> {
  const genes = new Set<string>();
  for (const comp of componentsWith(o, (c) => isLoinc(c, '48018-6'))) {
    const cc = comp.raw.valueCodeableConcept;
    let found = false;
    for (const c of codingsOf(cc)) {
      const g = geneFromHgncCoding(c);
      if (!g) continue;
      if ('error' in g) return g;
      genes.add(g.value);
      found = true;
    }
    if (!found) {
      const g = canonicalGene(ccText(cc) ?? str(comp.raw.valueString));
      if (g) genes.add(g);
      else return { error: 'gene component (48018-6) has no HGNC gene' };
    }
  }
  if (genes.size > 1) return { error: `several genes in the gene components (${[...genes].join(', ')})` };
  const [g] = genes;
  return g ? { value: g } : undefined;
}

type LeadingGene = { gene: string; rest: string } | undefined;

/** Known gene symbol at the start of a text ("CYP2C9*1/*3", "CYP2C9 *4", "VKORC1 rs9923231 C/T"). */
function leadingGene(s: string): LeadingGene {
  const m = /^([A-Za-z][A-Za-z0-9-]{1,14})(?:\s{1,3}|(?=\*)|$)/.exec(s);
  const gene = m ? canonicalGene(m[1]) : undefined;
  return m && gene ? { gene, rest: s.slice(m[0].length).trim() } : undefined;
}

/** PGx genes named as words in a text (tokens split on anything but letters, digits and '-'). */
function genesMentioned(textValue: string): Set<string> {
  const out = new Set<string>();
  for (const tok of textValue.slice(0, 2000).split(/[^A-Za-z0-9-]+/)) {
    if (tok.length >= 4 && tok.length <= 8 && PGX_GENE_SET.has(tok)) out.add(tok);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing of result values
// ---------------------------------------------------------------------------------------------------------------

type Parsed =
  | { t: 'diplotype'; gene?: string; diplotype: string }
  | { t: 'allele'; gene?: string; allele: string }
  | { t: 'hla'; gene?: string; allele: string; positive: boolean }
  | { t: 'variant'; gene?: string; rsid: string; genotype: string; strand?: 'plus' | 'gene' };

type ParseOutcome = { ok: Parsed } | { error: string };

const STAR_ALLELE = /^\*(\d{1,4})([A-Z]{0,2}?)(\.\d{1,4})?(?:[xX×](\d{1,2}|[nN]|≥ ?\d{1,2}|> ?\d{1,2}))?$/;
const HLA_ALLELE = /^\*(\d{2,3}(?::\d{2,3}){0,3})([NLSQCA]?)$/;

/** Normalise one star allele; tandems ("*36+*10") are kept in the order sent. */
function starAllele(tok: string): string | undefined {
  const parts = tok.split('+');
  if (parts.length > 3) return undefined;
  const out: string[] = [];
  for (const p of parts) {
    const m = STAR_ALLELE.exec(p.trim());
    if (!m) return undefined;
    const copies = m[4] === undefined ? '' : `x${m[4].replace(' ', '').replace('n', 'N')}`;
    out.push(`*${m[1]}${m[2] ?? ''}${m[3] ?? ''}${copies}`);
  }
  return out.join('+');
}

/** Two-field HLA allele ("*57:01:01" → "*57:01"); alleles with an expression suffix are kept whole. */
function hlaTwoField(a: string): string {
  const m = HLA_ALLELE.exec(a);
  if (!m || m[2]) return a;
  return `*${(m[1] ?? '').split(':').slice(0, 2).join(':')}`;
}

const alleleNumber = (a: string): number => Number(/^\*(\d{1,4})/.exec(a)?.[1] ?? 1e6);
function sortAlleles(a: string, b: string): [string, string] {
  const d = alleleNumber(a) - alleleNumber(b);
  return d < 0 || (d === 0 && a <= b) ? [a, b] : [b, a];
}

/** Strip the leading gene symbol `lg` (leadingGene(s)), checking it is the expected gene. */
function stripGene(s: string, gene: string | undefined, lg: LeadingGene): { gene?: string; rest: string } | { error: string } {
  if (!lg) return { rest: s.trim(), gene };
  if (gene && lg.gene !== gene) return { error: `value names ${lg.gene} but the Observation is about ${gene}` };
  return { gene: lg.gene, rest: lg.rest };
}

/** Star-allele genotype or single allele ("CYP2C9 *1/*3", "*2x2/*4"). `lg` is leadingGene(s). */
function parseStar(s: string, gene: string | undefined, lg: LeadingGene): ParseOutcome {
  const head = stripGene(s, gene, lg);
  if ('error' in head) return head;
  const parts = head.rest.replace(/[.;,]$/, '').split('/');
  if (parts.length > 2) return { error: 'value has more than two alleles' };
  const alleles: string[] = [];
  for (const part of parts) {
    const t = part.trim();
    const p = stripGene(t, head.gene, leadingGene(t));
    if ('error' in p) return p;
    const a = starAllele(p.rest.replace(/\s+/g, ''));
    if (!a) return { error: 'value is not a star-allele genotype' };
    alleles.push(a);
  }
  if (alleles.length === 1) return { ok: { t: 'allele', allele: alleles[0]!, gene: head.gene } };
  const [a, b] = sortAlleles(alleles[0]!, alleles[1]!);
  return { ok: { t: 'diplotype', diplotype: `${a}/${b}`, gene: head.gene } };
}

/** DPYD-style named alleles: "Reference/c.1905+1G>A". `lg` is leadingGene(s). */
function parseNamed(s: string, gene: string | undefined, lg: LeadingGene): ParseOutcome {
  const head = stripGene(s, gene, lg);
  if ('error' in head) return head;
  const parts = head.rest.split('/').map((p) => p.trim());
  if (parts.length !== 2 || parts.some((p) => p.length < 3 || p.length > 80 || !/^[A-Za-z0-9.+\->_():,* ]+$/.test(p))) {
    return { error: 'value is not a genotype of named alleles' };
  }
  const [a, b] = parts[1]!.toLowerCase() === 'reference' ? [parts[1]!, parts[0]!] : [parts[0]!, parts[1]!];
  return { ok: { t: 'diplotype', diplotype: `${a}/${b}`, gene: head.gene } };
}

const NEGATIVE_WORDS = /\b(?:negative|not detected|absent|not present|non-? ?carrier|not a carrier|not carried)\b/gi;
const POSITIVE_WORDS = /\b(?:positive|detected|present|carrier)\b/i;

/** true/false when the text says found/not found, undefined when it says neither, 'both' when it says both. */
function presenceWords(s: string): boolean | 'both' | undefined {
  const neg = NEGATIVE_WORDS.test(s);
  NEGATIVE_WORDS.lastIndex = 0;
  const pos = POSITIVE_WORDS.test(s.replace(NEGATIVE_WORDS, ' '));
  NEGATIVE_WORDS.lastIndex = 0;
  return neg && pos ? 'both' : neg ? false : pos ? true : undefined;
}

/**
 * HLA: "HLA-B*57:01 positive", "HLA-B*15:02 carrier", "Negative for HLA-B*15:02", "HLA-B*15:02" (allele found),
 * typings "HLA-B*07:02/*15:02". `presence` comes from a coded Positive/Negative answer, when there is one.
 */
function parseHla(s: string, gene: string | undefined, presence?: boolean): ParseOutcome {
  const alleles: string[] = [];
  let named: string | undefined;
  const re = /(?:(HLA-[A-Z]{1,4}\d?) ?)?\* ?(\d{2,3}(?::\d{2,3}){0,3}[NLSQCA]?)(?![\d:])/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null && alleles.length < 5) {
    if (m[1]) {
      const g = canonicalGene(m[1]);
      if (!g) return { error: 'value names an unknown HLA gene' };
      if ((gene && g !== gene) || (named && g !== named)) return { error: 'value names another HLA gene' };
      named = g;
    }
    alleles.push(hlaTwoField(`*${(m[2] ?? '').toUpperCase()}`));
  }
  const g = gene ?? named;
  if (alleles.length === 0) return { error: 'value names no HLA allele' };
  const words = presenceWords(s);
  if (words === 'both' || (words !== undefined && presence !== undefined && words !== presence)) {
    return { error: 'value says both positive and negative' };
  }
  const positive = words ?? presence;
  if (alleles.length === 1) return { ok: { t: 'hla', allele: alleles[0]!, positive: positive ?? true, gene: g } };
  if (alleles.length === 2 && positive === undefined && s.includes('/')) {
    const [a, b] = [alleles[0]!, alleles[1]!].sort();
    return { ok: { t: 'diplotype', diplotype: `${a}/${b}`, gene: g } };
  }
  return { error: 'HLA value could not be read' };
}

const COMPLEMENT: Readonly<Record<string, string>> = { A: 'T', T: 'A', C: 'G', G: 'C' };

/** Decide the strand of a SNP genotype from its letters and express it in our output convention. */
function resolveSnp(
  rsid: string,
  alleles: readonly string[],
  notation: 'gene' | 'plus' | undefined,
  gene: string | undefined,
): ParseOutcome {
  const snp = KNOWN_SNPS[rsid];
  if (alleles.length !== 2 || alleles.some((a) => !COMPLEMENT[a])) return { error: `genotype for ${rsid} is not two bases` };
  if (!snp) {
    return { ok: { t: 'variant', rsid, genotype: alleles.join('/'), strand: notation, gene } };
  }
  if (gene && gene !== snp.gene) return { error: `${rsid} is in ${snp.gene}, not ${gene}` };
  const plus = new Set([snp.ref, snp.alt]);
  const minus = new Set([COMPLEMENT[snp.ref]!, COMPLEMENT[snp.alt]!]);
  const onPlus = alleles.every((a) => plus.has(a));
  const onGene = snp.geneOnMinusStrand ? alleles.every((a) => minus.has(a)) : onPlus;
  let strand: 'plus' | 'gene';
  if (notation === 'gene') {
    if (!onGene) return { error: `the alleles do not fit the gene-strand notation of ${rsid}` };
    strand = 'gene';
  } else if (notation === 'plus') {
    if (!onPlus) return { error: `the alleles do not fit the genomic (plus-strand) notation of ${rsid}` };
    strand = 'plus';
  } else if (onPlus && onGene && snp.geneOnMinusStrand) {
    return { error: `strand of the ${rsid} genotype is ambiguous` };
  } else if (onPlus) strand = 'plus';
  else if (onGene) strand = 'gene';
  else return { error: `the alleles are not possible for ${rsid} (${snp.ref}>${snp.alt} on the plus strand)` };

  const plusAlleles = strand === 'plus' || !snp.geneOnMinusStrand ? [...alleles] : alleles.map((a) => COMPLEMENT[a]!);
  if (rsid === 'rs9923231') {
    // IWPC notation: gene strand, alphabetical (G/G, A/G, A/A)
    const geneAlleles = plusAlleles.map((a) => COMPLEMENT[a]!).sort();
    return { ok: { t: 'variant', gene: snp.gene, rsid, genotype: geneAlleles.join('/'), strand: 'gene' } };
  }
  const ordered = [...plusAlleles].sort((a, b) => (a === snp.ref ? 0 : 1) - (b === snp.ref ? 0 : 1));
  return { ok: { t: 'variant', gene: snp.gene, rsid, genotype: ordered.join('/'), strand: 'plus' } };
}

/** Pairs of alleles, unordered duplicates removed (the last of equal pairs kept, at the place of the first). */
function distinctPairs(pairs: string[][]): string[][] {
  const seen = new Map<string, string[]>();
  for (const p of pairs) {
    const [a = '', b = ''] = p;
    seen.set(a <= b ? `${a}/${b}` : `${b}/${a}`, p);
  }
  return [...seen.values()];
}

/** Capture groups 1 and 2 of every match of a global regex. */
function matchPairs(re: RegExp, s: string): string[][] {
  const out: string[][] = [];
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push([m[1] ?? '', m[2] ?? '']);
  return out;
}

/**
 * rsID / VKORC1 -1639 genotypes in text: "VKORC1 rs9923231 C/T", "rs9923231 A/A", "rs9923231(C;T)",
 * "VKORC1 -1639 AA", "-1639 G>A heterozygous", "rs9923231 reference (C)/rs9923231 variant (T)". `lg` is leadingGene(s).
 */
function parseSnpText(s: string, gene: string | undefined, lg: LeadingGene): ParseOutcome {
  const head = stripGene(s, gene, lg);
  if ('error' in head) return head;
  const g = head.gene;
  let rest = head.rest;
  const rsids = new Set<string>();
  const rsRe = /(?<![A-Za-z0-9])rs(\d{1,12})(?!\d)/gi;
  for (let m = rsRe.exec(rest); m !== null; m = rsRe.exec(rest)) rsids.add(`rs${m[1]}`);
  if (rsids.size > 1) return { error: 'value names several rsIDs' };
  let [rsid] = rsids;
  rest = rest.replace(/(?<![A-Za-z0-9])rs\d{1,12}/gi, ' ');
  let notation: 'gene' | undefined;
  if ((g === 'VKORC1' || rsid === 'rs9923231') && /(?<![0-9.:])(?:c\.)?-?1639(?![0-9])/i.test(rest)) {
    if (rsid && rsid !== 'rs9923231') return { error: 'value mixes VKORC1 -1639 with another rsID' };
    rsid = 'rs9923231';
    notation = 'gene';
    rest = rest.replace(/(?<![0-9.:])(?:c\.)?-?1639(?![0-9])/gi, ' ');
  }
  if (!rsid) return { error: 'value names no rsID' };

  const pairs: string[][] = [];
  const named: string[] = [];
  const namedRe = /\b(?:reference|variant) ?\(([ACGT])\)/gi;
  for (let m = namedRe.exec(rest); m !== null; m = namedRe.exec(rest)) named.push((m[1] ?? '').toUpperCase());
  if (named.length === 2) pairs.push(named);
  else if (named.length) return { error: 'value could not be read' };
  const body = named.length ? '' : rest;
  for (const [a, b] of matchPairs(/(?<![A-Za-z])([ACGT]) {0,2}[/;|] {0,2}([ACGT])(?![A-Za-z])/gi, body)) pairs.push([a!.toUpperCase(), b!.toUpperCase()]);
  pairs.push(...matchPairs(/(?<![A-Za-z0-9>])([ACGT])([ACGT])(?![A-Za-z0-9])/g, body));
  const descs = distinctPairs(matchPairs(/(?<![A-Za-z])([ACGT]) {0,2}> {0,2}([ACGT])(?![A-Za-z])/g, body));
  if (descs.length > 1) return { error: 'value names several variants' };
  const desc = descs[0];
  const het = /\bhet(?:erozygous|erozygote)?\b/i.test(body);
  const hom = /\bhom(?:ozygous|ozygote)?\b/i.test(body);
  const homRef = hom && /\b(?:wild[- ]?type|wt|reference|ref|normal)\b/i.test(body);
  if (het && hom) return { error: 'value says both heterozygous and homozygous' };

  let alleles: string[] | undefined;
  const genotypes = distinctPairs(pairs);
  if (genotypes.length > 1) return { error: 'value names several genotypes' };
  if (genotypes[0]) {
    alleles = genotypes[0];
    if (desc && alleles.some((a) => a !== desc[0] && a !== desc[1])) return { error: 'genotype does not fit the variant named' };
    if ((het && alleles[0] === alleles[1]) || (hom && alleles[0] !== alleles[1])) return { error: 'genotype does not fit the zygosity stated' };
  } else if (desc) {
    const [ref, alt] = [desc[0]!, desc[1]!];
    if (het) alleles = [ref, alt];
    else if (homRef) alleles = [ref, ref];
    else if (hom) alleles = [alt, alt];
    else return { error: 'value names a variant but no genotype or zygosity' };
  } else if (het && KNOWN_SNPS[rsid]) {
    // biallelic SNP: heterozygous has one meaning
    const snp = KNOWN_SNPS[rsid]!;
    alleles = notation === 'gene' && snp.geneOnMinusStrand ? [COMPLEMENT[snp.ref]!, COMPLEMENT[snp.alt]!] : [snp.ref, snp.alt];
  } else return { error: 'value has no genotype' };
  return resolveSnp(rsid, alleles, notation, g);
}

const looksLikeSnp = (s: string): boolean => /(?<![A-Za-z0-9])rs\d|\b(?:reference|variant) ?\([ACGT]\)|(?<![0-9])-?1639(?![0-9])/i.test(s);

/** Any genotype-like value for a gene. `presence` is a coded positive/negative answer that accompanies HLA text. */
function parseGenotypeText(s: string, gene: string | undefined, presence?: boolean): ParseOutcome {
  const lg = leadingGene(s);
  const g = gene ?? lg?.gene;
  if (g?.startsWith('HLA-') || /^HLA-/i.test(s)) return parseHla(s, gene, presence);
  if (looksLikeSnp(s)) return parseSnpText(s, gene, lg);
  if (s.includes('*')) return parseStar(s, gene, lg);
  if (g && NAMED_ALLELE_GENES.has(g)) return parseNamed(s, gene, lg);
  return { error: 'value is not a recognised genotype' };
}

/** Phenotype wording → CPIC term, or undefined. */
function phenotypeTerm(raw: string): string | undefined {
  let s = str(raw, 120)?.toLowerCase();
  if (!s) return undefined;
  s = s.replace(/_/g, ' ').replace(/metaboli[sz]er/g, 'metabolizer').replace(/ultra[- ]?rapid/g, 'ultrarapid');
  s = s.replace(/^[a-z][a-z0-9-]{1,14} (?=\S)/, (w) => (canonicalGene(w.trim()) ? '' : w));
  s = s.replace(/^(?:predicted )?(?:phenotype|metabolizer status)\s?:\s?/, '').replace(/[.;]$/, '').trim();
  const other = PHENOTYPE_OTHER.get(s);
  if (other) return other;
  const q = /^(likely|possible) (.{3,40})$/.exec(s);
  const core = PHENOTYPE_TERMS.get(q ? (q[2] ?? '') : s);
  if (!core) return undefined;
  return q ? `${q[1] === 'likely' ? 'Likely' : 'Possible'} ${core}` : core;
}

/** Phenotype from a value CodeableConcept (and/or a valueString): code first, text may refine it (Likely/Possible). */
function phenotypeOf(cc: unknown, valueString: unknown): { phenotype: string; text: string; recognised: boolean } | { error: string } {
  const coded = new Set<string>();
  const worded = new Set<string>();
  const texts: string[] = [];
  for (const c of codingsOf(cc)) {
    const t = (c.system === '' || LOINC_SYSTEMS.has(c.system)) && PHENOTYPE_ANSWERS[c.code];
    if (t) coded.add(t);
    if (c.display) texts.push(c.display);
    const w = c.display ? phenotypeTerm(c.display) : undefined;
    if (w && !t) worded.add(w);
  }
  for (const t of [ccText(cc), str(valueString, 120)]) {
    if (!t) continue;
    texts.push(t);
    const w = phenotypeTerm(t);
    if (w) worded.add(w);
  }
  const all = new Set([...coded, ...worded]);
  const shown = texts[texts.length - 1] ?? texts[0] ?? '';
  if (all.size === 0) {
    const verbatim = clip(isRec(cc) ? cc.text : undefined, 120) ?? clip(valueString, 120) ?? texts[0];
    return verbatim ? { phenotype: verbatim, text: verbatim, recognised: false } : { error: 'no phenotype value' };
  }
  if (all.size === 1) return { phenotype: [...all][0]!, text: shown, recognised: true };
  // a text may refine the coded answer: LA10317-8 Intermediate + "Likely Intermediate Metabolizer"
  const qualified = [...all].filter((t) => /^(?:Likely|Possible) /.test(t));
  if (qualified.length === 1) {
    const base = qualified[0]!.replace(/^(?:Likely|Possible) /, '');
    if ([...all].every((t) => t === qualified[0] || t === base)) return { phenotype: qualified[0]!, text: shown, recognised: true };
  }
  return { error: 'phenotype codes and text disagree' };
}

// ---------------------------------------------------------------------------------------------------------------
// Observation kinds
// ---------------------------------------------------------------------------------------------------------------

type ObsKind = 'genotype' | 'haplotype' | 'variant' | 'implication' | 'phenotype' | 'hla-presence';

function classify(o: Rec): { kind: ObsKind; gene?: string } | { error: string } {
  const codes = codingsOf(o.code);
  const kinds = new Set<ObsKind>();
  let gene: string | undefined;
  for (const c of codes) {
    if (isLoinc(c, '84413-4')) kinds.add('genotype');
    else if (isLoinc(c, '84414-2')) kinds.add('haplotype');
    else if (isLoinc(c, '69548-6')) kinds.add('variant');
    else if (isLoinc(c, '53040-2') || isLoinc(c, '51961-1') || isIgCode(c, 'therapeutic-implication', 'predicted-therapeutic-implication', 'medication-implication')) kinds.add('implication');
    else if ((c.system === '' || LOINC_SYSTEMS.has(c.system)) && GENE_PHENOTYPE_LOINC[c.code]) {
      kinds.add('phenotype');
      gene = GENE_PHENOTYPE_LOINC[c.code];
    }
  }
  if (kinds.size > 1) return { error: 'Observation.code has codings of different result kinds' };
  const [known] = kinds;
  if (known) return { kind: known, gene };

  // Unknown or local codes: recognise by wording.
  const words = [...codes.map((c) => c.display), ccText(o.code) ?? ''].filter(Boolean);
  for (const w of words) {
    if (/genetic variation'?s effect on drug/i.test(w)) return { kind: 'implication' };
    if (/^HLA-[A-Z]{1,4}\d? ?\* ?\d{2,3}:\d{2,3}/i.test(w)) return { kind: 'hla-presence' };
    const lg = leadingGene(w);
    if (!lg) continue;
    if (/^gene product (?:metabolic activity|functional) interpretation\b|^(?:metabolizer )?phenotype\b|^metabolizer status\b/i.test(lg.rest)) {
      return { kind: 'phenotype', gene: lg.gene };
    }
    if (/^(?:gene )?(?:genotype|diplotype)\b/i.test(lg.rest)) return { kind: 'genotype', gene: lg.gene };
  }
  if (codes.length === 0 && !ccText(o.code)) return { error: 'Observation has no code' };
  return { error: 'not a pharmacogenomic result (Observation.code not recognised)' };
}

// ---------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------

interface Entry {
  obs: Rec;
  ref: string;
  date?: string;
  when?: number;
  status: string;
}

interface Draft {
  result: GeneResult;
  /** results of the same gene and key compete (newest wins) */
  key: string;
  when?: number;
  /** tie-break: lower wins (direct genotype 0, assembled from haplotypes 1) */
  priority: number;
  /** Observations this result stands for */
  refs: string[];
}

type ReadOutcome = { drafts: Draft[] } | { error: string };

const FHIR_DATE = /^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$/;

function dateOf(o: Rec): { date?: string; when?: number } {
  const period = isRec(o.effectivePeriod) ? o.effectivePeriod : undefined;
  const candidates = [o.effectiveDateTime, o.effectiveInstant, period?.end, period?.start, o.issued];
  for (const c of candidates) {
    const s = str(c, 40);
    if (!s || !FHIR_DATE.test(s)) continue;
    const ms = Date.parse(s.length === 4 ? `${s}-01-01` : s.length === 7 ? `${s}-01` : s);
    if (Number.isFinite(ms)) return { date: s, when: ms };
  }
  return {};
}

function sourceOf(e: Entry, opts: ReadGeneResultsOptions): SourceRef {
  const source: SourceRef = { reference: e.ref };
  if (e.date) source.date = e.date;
  if (opts.via) source.via = opts.via;
  return source;
}

/** Append a non-empty string that is not in the list yet. */
function addNew(list: string[], s: string | undefined): void {
  if (s && !list.includes(s)) list.push(s);
}

/** Candidate value strings of a genotype/haplotype Observation, most specific first, without duplicates. */
function valueStrings(o: Rec): string[] {
  const out: string[] = [];
  const cc = o.valueCodeableConcept;
  for (const c of codingsOf(cc)) {
    if (c.system === CLINVAR) {
      addNew(out, c.display || CLINVAR_DISPLAYS[c.code]);
      continue;
    }
    // PharmVar codings may carry the gene symbol as code and the allele(s) in the display (the IG's examples)
    if (c.code && /[*/]|rs\d/i.test(c.code) && !/^LA\d{3,5}-\d$/.test(c.code) && !canonicalGene(c.code)) addNew(out, c.code);
    addNew(out, c.display);
  }
  addNew(out, ccText(cc));
  addNew(out, str(o.valueString));
  return out;
}

const parsedKey = (p: Parsed): string =>
  p.t === 'diplotype' ? `d:${p.diplotype}` : p.t === 'allele' ? `a:${p.allele}` : p.t === 'hla' ? `h:${p.allele}:${p.positive}` : `v:${p.rsid}:${p.genotype}`;

/** Parse every value string (`candidates`: valueStrings(o)); they must agree. */
function parseValues(o: Rec, candidates: readonly string[], gene: string | undefined, presence?: boolean): { parsed: Parsed; text: string } | { error: string } {
  if (candidates.length === 0) {
    if (typeof o.valueString === 'string' || typeof ccOf(o)?.text === 'string') return { error: 'value is empty or too long to read' };
    if (codingsOf(o.valueCodeableConcept).length) return { error: 'value coding carries no genotype (no allele in code or display)' };
    return { error: 'no value (valueCodeableConcept or valueString)' };
  }
  let firstError: string | undefined;
  const ok: { parsed: Parsed; text: string }[] = [];
  for (const c of candidates) {
    const r = parseGenotypeText(c, gene, presence);
    if ('ok' in r) ok.push({ parsed: r.ok, text: c });
    else firstError ??= r.error;
  }
  const [first] = ok;
  if (!first) return { error: firstError ?? 'value could not be read' };
  if (ok.length > 1) {
    const key = parsedKey(first.parsed);
    if (ok.some((x) => parsedKey(x.parsed) !== key)) return { error: 'the value codings and text disagree' };
  }
  return first;
}

/**
 * Positive/negative stated by the value's coded answers or words (`values`: valueStrings(o)): undefined when none,
 * 'conflict' when both.
 */
function valuePresence(o: Rec, values: readonly string[]): boolean | 'conflict' | undefined {
  const found = new Set<boolean | 'both'>();
  for (const c of codingsOf(o.valueCodeableConcept)) {
    const p = PRESENCE_ANSWERS[c.code];
    if (p !== undefined) found.add(p);
  }
  for (const s of values) {
    const w = presenceWords(s);
    if (w !== undefined) found.add(w);
  }
  if (found.has('both') || found.size > 1) return 'conflict';
  const [p] = found;
  return p === 'both' ? 'conflict' : p;
}

const isHlaContext = (values: readonly string[], gene: string | undefined): boolean =>
  (gene ?? '').startsWith('HLA-') || values.some((s) => /^HLA-/i.test(s));

function geneFor(o: Rec, hint: string | undefined): Found<string> {
  const cg = componentGene(o);
  if (cg && 'error' in cg) return cg;
  if (cg && hint && cg.value !== hint) return { error: `gene component (${cg.value}) does not match the code (${hint})` };
  return cg ?? (hint ? { value: hint } : undefined);
}

function draftFromParsed(e: Entry, gene: string, p: Parsed, textValue: string, opts: ReadGeneResultsOptions): Draft {
  const text = clip(textValue) ?? textValue;
  const source = sourceOf(e, opts);
  // object literals rather than spreads of a shared base: this runs for every result
  let key: string;
  let result: GeneResult;
  switch (p.t) {
    case 'diplotype':
      key = 'diplotype';
      result = { gene, text, source, diplotype: p.diplotype };
      break;
    case 'allele':
      key = `haplotype:${e.ref}`;
      result = { gene, text, source, haplotype: p.allele };
      break;
    case 'hla':
      key = `hla:${p.allele}`;
      result = { gene, text, source, hla: { allele: p.allele, positive: p.positive } };
      break;
    case 'variant': {
      const variant: NonNullable<GeneResult['variant']> = { rsid: p.rsid, genotype: p.genotype };
      if (p.strand) variant.strand = p.strand;
      key = `variant:${p.rsid}`;
      result = { gene, text, source, variant };
      break;
    }
  }
  return { key, when: e.when, priority: 0, refs: [e.ref], result };
}

function readGenotype(e: Entry, hint: string | undefined, opts: ReadGeneResultsOptions): ReadOutcome {
  const g = geneFor(e.obs, hint);
  if (g && 'error' in g) return g;
  const values = valueStrings(e.obs);
  let presence: boolean | undefined;
  if (isHlaContext(values, g?.value)) {
    // "HLA-B*57:01" as text with a coded Negative answer is a negative result, not a carrier
    const p = valuePresence(e.obs, values);
    if (p === 'conflict') return { error: 'value says both positive and negative' };
    presence = p;
  }
  const parsed = parseValues(e.obs, values, g?.value, presence);
  if ('error' in parsed) return parsed;
  const gene = g?.value ?? parsed.parsed.gene;
  if (!gene) return { error: 'gene could not be determined' };
  if (parsed.parsed.t === 'allele') {
    return { error: 'genotype Observation carries a single star allele (not a diplotype)' };
  }
  return { drafts: [draftFromParsed(e, gene, parsed.parsed, parsed.text, opts)] };
}

interface Haplotype {
  entry: Entry;
  gene: string;
  allele: string;
  hla: boolean;
  text: string;
}

function readHaplotype(e: Entry): Haplotype | { error: string } {
  const g = geneFor(e.obs, undefined);
  if (g && 'error' in g) return g;
  const values = valueStrings(e.obs);
  const parsed = parseValues(e.obs, values, g?.value);
  if ('error' in parsed) return parsed;
  const p = parsed.parsed;
  const gene = g?.value ?? p.gene;
  if (!gene) return { error: 'gene could not be determined' };
  if (p.t === 'allele') return { entry: e, gene, allele: p.allele, hla: false, text: parsed.text };
  if (p.t === 'hla' && valuePresence(e.obs, values) === undefined) return { entry: e, gene, allele: p.allele, hla: true, text: parsed.text };
  return { error: 'haplotype Observation does not carry one allele' };
}

/** Two haplotypes of a gene sharing the specimen or the date form a diplotype; the rest stay single haplotypes. */
function pairHaplotypes(haps: Haplotype[], opts: ReadGeneResultsOptions, ignored: IgnoredObservation[]): Draft[] {
  const groups = new Map<string, Haplotype[]>();
  const singles: Haplotype[] = [];
  for (const h of haps) {
    const specimen = isRec(h.entry.obs.specimen) ? str(h.entry.obs.specimen.reference, 200) : undefined;
    if (!specimen && !h.entry.date) {
      singles.push(h);
      continue;
    }
    const k = `${h.gene}|${specimen ?? ''}|${h.entry.date ?? ''}`;
    const group = groups.get(k);
    if (group) group.push(h);
    else groups.set(k, [h]);
  }
  const drafts: Draft[] = [];
  for (const group of groups.values()) {
    if (group.length === 2) {
      const [h1, h2] = [group[0]!, group[1]!];
      const [a, b] = h1.hla ? [h1.allele, h2.allele].sort() : sortAlleles(h1.allele, h2.allele);
      const refs = [h1.entry.ref, h2.entry.ref].sort();
      const first = h1.entry.ref === refs[0] ? h1.entry : h2.entry;
      drafts.push({
        key: 'diplotype',
        when: first.when,
        priority: 1,
        refs,
        result: {
          gene: h1.gene,
          diplotype: `${a}/${b}`,
          text: clip(`${h1.text} + ${h2.text}`) ?? '',
          source: sourceOf(first, opts),
          notes: [`diplotype assembled from the haplotype Observations ${refs.join(' and ')}`],
        },
      });
    } else if (group.length === 1) singles.push(group[0]!);
    else {
      for (const h of group) {
        ignored.push({ reference: h.entry.ref, reason: `${group.length} haplotypes of ${h.gene} from one specimen/date cannot be combined into a diplotype` });
      }
    }
  }
  for (const h of singles) {
    const result: GeneResult = h.hla
      ? { gene: h.gene, hla: { allele: h.allele, positive: true }, text: clip(h.text) ?? '', source: sourceOf(h.entry, opts) }
      : { gene: h.gene, haplotype: h.allele, text: clip(h.text) ?? '', source: sourceOf(h.entry, opts) };
    drafts.push({ key: h.hla ? `hla:${h.allele}` : `haplotype:${h.entry.ref}`, when: h.entry.when, priority: 0, refs: [h.entry.ref], result });
  }
  return drafts;
}

/** Allele letter(s) of a ref/alt component: valueString, or a CodeableConcept's code/display/text. */
function baseOf(comp: Component | undefined): string | undefined {
  if (!comp) return undefined;
  const cc = comp.raw.valueCodeableConcept;
  const s = str(comp.raw.valueString, 20) ?? codingsOf(cc).map((c) => c.code || c.display).find(Boolean) ?? ccText(cc);
  const u = s?.toUpperCase();
  return u && /^[ACGT]$/.test(u) ? u : undefined;
}

function readVariant(e: Entry, opts: ReadGeneResultsOptions): ReadOutcome {
  const o = e.obs;
  const g = geneFor(o, undefined);
  if (g && 'error' in g) return g;
  const components = componentsOf(o);
  const one = (code: string): Component | undefined => components.find((comp) => comp.codes.some((c) => isLoinc(c, code)));

  // rsID
  let rsid: string | undefined;
  const rsComp = one('81252-9');
  if (rsComp) {
    const cc = rsComp.raw.valueCodeableConcept;
    for (const s of [...codingsOf(cc).flatMap((c) => [c.code, c.display]), ccText(cc) ?? '']) {
      const m = /^(?:rs)?(\d{1,12})$/i.exec(s.trim());
      if (m) {
        rsid = `rs${m[1]}`;
        break;
      }
    }
  }
  // genomic HGVS
  let hgvs: { acc: string; pos: number; ref: string; alt: string } | undefined;
  const hComp = one('81290-9');
  if (hComp) {
    const cc = hComp.raw.valueCodeableConcept;
    for (const s of [...codingsOf(cc).flatMap((c) => [c.code, c.display]), ccText(cc) ?? '', str(hComp.raw.valueString) ?? '']) {
      const m = /^(NC_\d{6}\.\d{1,2}):g\.(\d{1,10})([ACGT])>([ACGT])$/.exec(s.trim());
      if (m) {
        hgvs = { acc: m[1]!, pos: Number(m[2]), ref: m[3]!, alt: m[4]! };
        break;
      }
    }
  }
  if (hgvs) {
    const h = hgvs;
    const byPos = Object.entries(KNOWN_SNPS).find(([, snp]) => snp.positions[h.acc] === h.pos)?.[0];
    if (rsid && byPos && byPos !== rsid) return { error: `genomic HGVS is the position of ${byPos}, not ${rsid}` };
    rsid ??= byPos;
    const snp = rsid ? KNOWN_SNPS[rsid] : undefined;
    // for SNPs whose positions we know, the HGVS must be one of them (the IG's Pgx-var-1019 mixes builds)
    if (snp && snp.positions[h.acc] !== h.pos) return { error: `genomic HGVS does not give the position of ${rsid}` };
  }
  if (!rsid) return { error: 'variant has no rsID (81252-9) or known genomic HGVS' };

  const ref = baseOf(one('69547-8')) ?? hgvs?.ref;
  const alt = baseOf(one('69551-0')) ?? hgvs?.alt;
  if (hgvs && (ref !== hgvs.ref || alt !== hgvs.alt)) return { error: 'ref/alt components disagree with the genomic HGVS' };
  if (!ref || !alt) return { error: 'variant has no reference and alternate allele' };
  if (ref === alt) return { error: 'variant reference and alternate allele are the same' };

  // zygosity
  const stateComp = one('53034-5');
  let state: 'het' | 'hom' | undefined;
  if (stateComp) {
    const cc = stateComp.raw.valueCodeableConcept;
    const cs = codingsOf(cc);
    const words = [...cs.map((c) => c.display), ccText(cc) ?? ''].join(' ').toLowerCase();
    const het = cs.some((c) => c.code === 'LA6706-1') || /\bheterozygous\b/.test(words);
    const hom = cs.some((c) => c.code === 'LA6705-3') || /\bhomozygous\b/.test(words);
    if (het === hom) return { error: 'allelic state (53034-5) is not heterozygous or homozygous' };
    state = het ? 'het' : 'hom';
  }
  const presence = codingsOf(o.valueCodeableConcept)
    .map((c) => PRESENCE_ANSWERS[c.code])
    .find((p) => p !== undefined);
  let alleles: string[];
  if (presence === false) {
    if (state) return { error: 'variant is Absent but has an allelic state' };
    alleles = [ref, ref];
  } else if (state === 'het') alleles = [ref, alt];
  else if (state === 'hom') alleles = [alt, alt];
  else return { error: 'variant has no allelic state (53034-5)' };

  const r = resolveSnp(rsid, alleles, KNOWN_SNPS[rsid] ? undefined : 'plus', g?.value);
  if ('error' in r) return r;
  const gene = g?.value ?? r.ok.gene;
  if (!gene) return { error: 'gene could not be determined' };
  const zyg = presence === false ? 'absent' : state === 'het' ? 'heterozygous' : 'homozygous';
  const desc = hgvs ? `${hgvs.acc}:g.${hgvs.pos}${hgvs.ref}>${hgvs.alt}` : `${ref}>${alt}`;
  return { drafts: [draftFromParsed(e, gene, r.ok, `${gene} ${rsid} ${desc} ${zyg}`, opts)] };
}

function readHlaPresence(e: Entry, opts: ReadGeneResultsOptions): ReadOutcome {
  const codeWords = [...codingsOf(e.obs.code).map((c) => c.display), ccText(e.obs.code) ?? ''].find((w) => /^HLA-/i.test(w)) ?? '';
  const valueCodes = codingsOf(e.obs.valueCodeableConcept);
  const coded = valueCodes.map((c) => PRESENCE_ANSWERS[c.code]).find((p) => p !== undefined);
  const valueText = [ccText(e.obs.valueCodeableConcept), ...valueCodes.map((c) => c.display), str(e.obs.valueString)].find(Boolean) ?? '';
  const words = presenceWords(valueText);
  if (words === 'both' || (words !== undefined && coded !== undefined && words !== coded)) return { error: 'value says both positive and negative' };
  const presence = words ?? coded;
  if (presence === undefined) return { error: 'HLA test has no positive/negative value' };
  const g = geneFor(e.obs, undefined);
  if (g && 'error' in g) return g;
  const allelePart = codeWords.replace(/\b(?:presence|in blood|by .*|\[.*\])/gi, ' ').replace(/\s+/g, ' ').trim();
  const r = parseHla(allelePart, g?.value, presence);
  if ('error' in r) return r;
  if (r.ok.t !== 'hla' || !r.ok.gene) return { error: 'HLA test names no single allele' };
  return { drafts: [draftFromParsed(e, r.ok.gene, r.ok, `${codeWords}: ${valueText || (presence ? 'positive' : 'negative')}`, opts)] };
}

/** Gene of an Observation that a phenotype/implication was derived from. */
function observationGene(o: Rec, byRef: Map<string, Entry>, depth: number): Found<string> {
  const cg = componentGene(o);
  if (cg) return cg;
  for (const s of valueStrings(o)) {
    const lg = leadingGene(s);
    if (lg) return { value: lg.gene };
    const rs = /(?<![A-Za-z0-9])(rs\d{1,12})(?!\d)/i.exec(s);
    const snp = rs ? KNOWN_SNPS[rs[1]!.toLowerCase()] : undefined;
    if (snp) return { value: snp.gene };
  }
  const k = classify(o);
  if ('kind' in k && k.gene) return { value: k.gene };
  if ('kind' in k && k.kind === 'implication' && depth < 2) return implicationGene(o, byRef, depth + 1);
  return undefined;
}

function implicationGene(o: Rec, byRef: Map<string, Entry>, depth = 0): Found<string> {
  const genes = new Set<string>();
  for (const d of list(o.derivedFrom)) {
    if (!isRec(d)) continue;
    const ref = observationRef(d.reference);
    const target = ref ? byRef.get(ref) : undefined;
    if (target) {
      if (target.status === 'entered-in-error') return { error: `derived from ${target.ref}, which was entered in error` };
      const g = observationGene(target.obs, byRef, depth);
      if (g && 'error' in g) return g;
      if (g) {
        genes.add(g.value);
        continue;
      }
    }
    const display = str(d.display);
    const lg = display ? leadingGene(display) : undefined;
    if (lg) genes.add(lg.gene);
  }
  const own = componentGene(o);
  if (own && 'error' in own) return own;
  if (own) genes.add(own.value);
  if (genes.size === 0) {
    const texts = [ccText(o.code), ccText(o.valueCodeableConcept), str(o.valueString, 2000)];
    for (const c of componentsOf(o)) if (c.codes.some((x) => isIgCode(x, 'conclusion-string'))) texts.push(str(c.raw.valueString, 2000));
    const narrative = isRec(o.text) ? clip(o.text.div, 2000) : undefined;
    if (narrative) texts.push(narrative.replace(/<[^<>]{0,200}>/g, ' '));
    const mentioned = genesMentioned(texts.filter(Boolean).join(' '));
    if (mentioned.size > 1) return { error: `text names several genes (${[...mentioned].join(', ')})` };
    const [m] = mentioned;
    if (m) genes.add(m);
  }
  if (genes.size > 1) return { error: `derived from several genes (${[...genes].sort().join(', ')}): the phenotype cannot be attributed to one gene` };
  const [g] = genes;
  return g ? { value: g } : undefined;
}

function readPhenotypeLike(e: Entry, kind: 'implication' | 'phenotype', codeGene: string | undefined, byRef: Map<string, Entry>, opts: ReadGeneResultsOptions): ReadOutcome {
  const o = e.obs;
  // gene
  let gene: string | undefined;
  if (kind === 'phenotype') {
    const g = geneFor(o, codeGene);
    if (g && 'error' in g) return g;
    gene = g?.value;
  } else {
    const g = implicationGene(o, byRef);
    if (g && 'error' in g) return g;
    gene = g?.value;
  }
  if (!gene) return { error: 'gene could not be determined (derivedFrom not among the Observations read, no gene component)' };

  // phenotype: the implication component (STU3/STU2), else the Observation value (STU1, pre-coordinated codes)
  const phenoComps = componentsWith(o, (c) => isIgCode(c, 'therapeutic-implication', 'predicted-therapeutic-implication') || isLoinc(c, '53040-2'));
  let ph: ReturnType<typeof phenotypeOf>;
  if (phenoComps.length > 0) {
    const all = phenoComps.map((c) => phenotypeOf(c.raw.valueCodeableConcept, c.raw.valueString));
    const good = all.filter((p): p is Exclude<typeof p, { error: string }> => !('error' in p));
    if (good.length !== all.length) return all.find((p) => 'error' in p) as { error: string };
    if (new Set(good.map((p) => p.phenotype)).size > 1) return { error: 'several different implications in one Observation' };
    ph = good[0]!;
  } else ph = phenotypeOf(o.valueCodeableConcept, o.valueString);
  if ('error' in ph) return ph;

  // drugs
  const drugs: { code: string; name: string }[] = [];
  for (const comp of componentsWith(o, (c) => isLoinc(c, '51963-7'))) {
    const cc = comp.raw.valueCodeableConcept;
    const rx = codingsOf(cc).find((c) => RXNORM_SYSTEMS.has(c.system) && /^\d{1,10}$/.test(c.code));
    if (!rx) return { error: 'medication assessed (51963-7) has no RxNorm code' };
    if (!drugs.some((d) => d.code === rx.code)) drugs.push({ code: rx.code, name: rx.display || ccText(cc) || `RxNorm ${rx.code}` });
  }
  const drafts: Draft[] = [];
  for (const drug of drugs.length ? drugs.slice(0, 10) : [undefined]) {
    const text = clip(drug ? `${ph.text} (${drug.name})` : ph.text) ?? ph.phenotype;
    const source = sourceOf(e, opts);
    const result: GeneResult = drug
      ? { gene, phenotype: ph.phenotype, drugRxNorm: drug.code, text, source }
      : { gene, phenotype: ph.phenotype, text, source };
    if (!ph.recognised) result.notes = ['phenotype is not a CPIC term; kept as sent'];
    drafts.push({ key: `phenotype:${drug?.code ?? '*'}`, when: e.when, priority: 0, refs: [e.ref], result });
  }
  return { drafts };
}

// ---------------------------------------------------------------------------------------------------------------
// Choosing between results
// ---------------------------------------------------------------------------------------------------------------

/** Do two results state the same value (diplotype, haplotype, HLA allele and presence, SNP genotype, phenotype)? */
function sameValue(a: GeneResult, b: GeneResult): boolean {
  return (
    a.diplotype === b.diplotype &&
    a.haplotype === b.haplotype &&
    (a.hla === undefined) === (b.hla === undefined) &&
    a.hla?.allele === b.hla?.allele &&
    a.hla?.positive === b.hla?.positive &&
    a.variant?.genotype === b.variant?.genotype &&
    a.phenotype === b.phenotype
  );
}

const dayOf = (r: GeneResult): string => r.source.date ?? 'undated';

function choose(drafts: Draft[], ignored: IgnoredObservation[]): GeneResult[] {
  const groups = new Map<string, Draft[]>();
  for (const d of drafts) {
    const k = `${d.result.gene}|${d.key}`;
    const group = groups.get(k);
    if (group) group.push(d);
    else groups.set(k, [d]);
  }
  const out: GeneResult[] = [];
  for (const group of groups.values()) {
    if (group.length === 1) {
      out.push(group[0]!.result);
      continue;
    }
    group.sort(
      (a, b) =>
        (b.when ?? -Infinity) - (a.when ?? -Infinity) || a.priority - b.priority || (a.refs[0] ?? '').localeCompare(b.refs[0] ?? ''),
    );
    const chosen = group[0]!;
    const gene = chosen.result.gene;
    const others = group.slice(1);
    const disagree = others.filter((d) => !sameValue(d.result, chosen.result));
    // undated results cannot be ordered, and results of the same date cannot be ranked: a disagreement is a conflict
    const conflict = disagree.some((d) => d.when === undefined || d.when === chosen.when);
    if (conflict) {
      const refs = group.flatMap((d) => d.refs);
      for (const d of group) {
        for (const ref of d.refs) {
          ignored.push({ reference: ref, reason: `${group.length} results for ${gene} disagree and none is newer (${refs.join(', ')}); none was used` });
        }
      }
      continue;
    }
    const notes = [...(chosen.result.notes ?? [])];
    if (disagree.length) {
      notes.push(
        `${group.length} results for ${gene} disagree; the newest (${dayOf(chosen.result)}, ${chosen.result.source.reference}) was used; set aside: ` +
          disagree.map((d) => `${d.result.source.reference} (${dayOf(d.result)})`).join(', '),
      );
    }
    const agree = others.filter((d) => !disagree.includes(d));
    if (agree.length) notes.push(`${agree.length} other result(s) for ${gene} agree: ${agree.map((d) => d.result.source.reference).join(', ')}`);
    for (const d of others) {
      const how = disagree.includes(d) ? 'disagrees with' : 'agrees with';
      for (const ref of d.refs) ignored.push({ reference: ref, reason: `superseded: ${how} ${chosen.result.source.reference}, which was used` });
    }
    out.push({ ...chosen.result, notes });
  }
  // Metabolizer/function phenotypes are statements about the gene, whatever the drug: flag results that differ
  const byGene = new Map<string, GeneResult[]>();
  for (const r of out) {
    if (!r.phenotype || !/ (?:Metabolizer|Function)$/.test(r.phenotype)) continue;
    const rs = byGene.get(r.gene);
    if (rs) rs.push(r);
    else byGene.set(r.gene, [r]);
  }
  for (const [gene, rs] of byGene) {
    if (new Set(rs.map((r) => r.phenotype)).size < 2) continue;
    const note = `the phenotypes stated for ${gene} differ between ${rs.map((r) => r.source.reference).sort().join(', ')}`;
    for (const r of rs) r.notes = [...(r.notes ?? []), note];
  }
  // HLA: a presence result and a typing of the same gene must not contradict each other
  for (const r of out) {
    if (!r.hla) continue;
    for (const t of out) {
      if (t.gene !== r.gene || !t.diplotype?.includes(':')) continue;
      if (t.diplotype.split('/').includes(r.hla.allele) !== r.hla.positive) {
        const note = `${r.source.reference} and ${t.source.reference} contradict each other about ${r.gene}${r.hla.allele}`;
        r.notes = [...(r.notes ?? []), note];
        t.notes = [...(t.notes ?? []), note];
      }
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------------------------

const kindRank = (r: GeneResult): number => (r.diplotype ? 0 : r.hla ? 1 : r.variant ? 2 : r.haplotype ? 3 : 4);

function readAll(items: readonly unknown[], opts: ReadGeneResultsOptions, ignored: IgnoredObservation[]): GeneResultsReading {
  const entries: Entry[] = [];
  const byRef = new Map<string, Entry>();
  const n = items.length;
  for (let i = 0; i < n; i++) {
    if (!(i in items)) continue; // a hole in a sparse array is not an item
    if (i >= MAX_OBSERVATIONS) {
      if (i === MAX_OBSERVATIONS) ignored.push({ reference: `(items ${i + 1}…)`, reason: `more than ${MAX_OBSERVATIONS} Observations; the rest were not read` });
      break;
    }
    const item = items[i];
    if (!isRec(item) || item.resourceType !== 'Observation') {
      const rt = isRec(item) ? str(item.resourceType, 40) : undefined;
      ignored.push({ reference: `(item ${i + 1})`, reason: rt ? `not an Observation (${rt})` : 'not a FHIR Observation' });
      continue;
    }
    const id = typeof item.id === 'string' && OBS_ID.test(item.id) ? item.id : undefined;
    const ref = id ? `Observation/${id}` : `(Observation at item ${i + 1}, no valid id)`;
    const status = str(item.status, 40) ?? '';
    const { date, when } = dateOf(item);
    const entry: Entry = { obs: item, ref, status, date, when };
    if (id) {
      const prior = byRef.get(ref);
      if (prior) {
        ignored.push({ reference: ref, reason: 'the same Observation was supplied twice; the first copy was read' });
        continue;
      }
      byRef.set(ref, entry);
    }
    entries.push(entry);
  }

  const drafts: Draft[] = [];
  const haplotypes: Haplotype[] = [];
  for (const e of entries) {
    let outcome: ReadOutcome | Haplotype;
    try {
      outcome = readOne(e, byRef, opts);
    } catch {
      outcome = { error: 'Observation could not be read' };
    }
    if ('error' in outcome) ignored.push({ reference: e.ref, reason: outcome.error });
    else if ('drafts' in outcome) drafts.push(...outcome.drafts);
    else haplotypes.push(outcome);
  }
  drafts.push(...pairHaplotypes(haplotypes, opts, ignored));
  const results = choose(drafts, ignored);
  results.sort(
    (a, b) =>
      a.gene.localeCompare(b.gene) ||
      kindRank(a) - kindRank(b) ||
      (a.drugRxNorm ?? '').localeCompare(b.drugRxNorm ?? '') ||
      a.source.reference.localeCompare(b.source.reference),
  );
  return { results, ignored };
}

function readOne(e: Entry, byRef: Map<string, Entry>, opts: ReadGeneResultsOptions): ReadOutcome | Haplotype {
  const o = e.obs;
  if (!USABLE_STATUS.has(e.status)) {
    return { error: e.status ? `status ${e.status} is not usable (only final, amended, corrected)` : 'Observation has no status' };
  }
  if (opts.patientId !== undefined) {
    const subject = isRec(o.subject) ? str(o.subject.reference, 300) : undefined;
    const m = subject ? /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]{1,64})?$/.exec(subject) : null;
    if (!m || m[1] !== opts.patientId) return { error: 'Observation is not about this patient' };
  }
  const k = classify(o);
  if ('error' in k) return k;
  switch (k.kind) {
    case 'genotype':
      return readGenotype(e, k.gene, opts);
    case 'haplotype':
      return readHaplotype(e);
    case 'variant':
      return readVariant(e, opts);
    case 'hla-presence':
      return readHlaPresence(e, opts);
    case 'implication':
    case 'phenotype':
      return readPhenotypeLike(e, k.kind, k.gene, byRef, opts);
  }
}
