// The reader's working types: an Observation with its reference and date, a draft result, and what every reader needs.
import type { GeneResult, SourceRef } from '../../domain/facts.js';
import type { VariantsFile } from '../../knowledge/pgxVariants.js';
import type { Parsed } from './alleles.js';
import { componentGene } from './genes.js';
import { clip, isRec, str, type Found, type Rec } from './json.js';
import type { SnpLookup } from './snp.js';

export interface ReadGeneResultsOptions {
  /** how the Observations were obtained; copied into every result's source */
  via?: 'prefetch' | 'query';
  /** when given, Observations about another subject are ignored */
  patientId?: string;
  /** the named-allele variant catalogue (default: knowledge/pgx-variants.json) */
  catalogue?: VariantsFile;
}

export interface ReadContext {
  opts: ReadGeneResultsOptions;
  catalogue: VariantsFile;
  snp: SnpLookup;
}

export interface Entry {
  obs: Rec;
  ref: string;
  date?: string;
  when?: number;
  status: string;
}

export interface Draft {
  result: GeneResult;
  /** results of the same gene and key compete (newest wins) */
  key: string;
  when?: number;
  /** tie-break: lower wins (direct genotype 0, assembled from haplotypes 1) */
  priority: number;
  /** Observations this result stands for */
  refs: string[];
}

export type ReadOutcome = { drafts: Draft[] } | { error: string; genes?: string[] };

const FHIR_DATE = /^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})?)?)?)?$/;

export function dateOf(o: Rec): { date?: string; when?: number } {
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

export function sourceOf(e: Entry, opts: ReadGeneResultsOptions): SourceRef {
  const source: SourceRef = { reference: e.ref };
  if (e.date) source.date = e.date;
  if (opts.via) source.via = opts.via;
  return source;
}

/** The gene of an Observation: its gene component, checked against the gene its code or wording names (`hint`). */
export function geneFor(o: Rec, hint: string | undefined): Found<string> {
  const cg = componentGene(o);
  if (cg && 'error' in cg) return cg;
  if (cg && hint && cg.value !== hint) return { error: `gene component (${cg.value}) does not match the code (${hint})` };
  return cg ?? (hint ? { value: hint } : undefined);
}

/** A result from a parsed value. */
export function draftFromParsed(e: Entry, gene: string, p: Parsed, textValue: string, opts: ReadGeneResultsOptions): Draft {
  const text = clip(textValue) ?? textValue;
  const source = sourceOf(e, opts);
  // object literals rather than spreads of a shared base: this runs for every result
  let key: string;
  let result: GeneResult;
  switch (p.t) {
    case 'diplotype':
      key = 'diplotype';
      result = { gene, text, source, diplotype: p.diplotype };
      if (p.notes?.length) result.notes = [...p.notes];
      break;
    case 'single':
      key = 'single';
      result = { gene, text, source, allele: p.allele };
      if (p.notes?.length) result.notes = [...p.notes];
      break;
    case 'allele':
      key = `haplotype:${e.ref}`;
      result = { gene, text, source, haplotype: p.allele };
      break;
    case 'hla':
      key = `hla:${p.allele}`;
      result = { gene, text, source, hla: { allele: p.allele, positive: p.positive } };
      break;
    case 'activity':
      key = 'activity';
      result = { gene, text, source, activityScore: p.score };
      break;
    case 'variant': {
      const variant: NonNullable<GeneResult['variant']> = { rsid: p.rsid, genotype: p.genotype };
      if (p.strand) variant.strand = p.strand;
      // a strand conversion is said where the result is shown ("reported C/T = A/G on the gene strand")
      if (p.reported) source.reported = { value: p.reported.genotype, strand: p.reported.strand };
      key = `variant:${p.rsid}`;
      result = { gene, text, source, variant };
      break;
    }
  }
  if (e.status === 'amended' || e.status === 'corrected') result.status = e.status;
  return { key, when: e.when, priority: 0, refs: [e.ref], result };
}
