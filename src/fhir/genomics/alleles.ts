// Parsed result values (star-allele genotypes, HLA carriage and typings) and the words for found / not found.
import { canonicalGene, leadingGene, type LeadingGene } from './genes.js';

/** What one value string says. */
export type Parsed =
  | { t: 'diplotype'; gene?: string; diplotype: string; notes?: string[] }
  /** one star allele on its own (a haplotype): never a complete result */
  | { t: 'allele'; gene?: string; allele: string }
  /** a complete result of one allele: a mitochondrial variant, or an X-linked gene in a male (hemizygous) */
  | { t: 'single'; gene?: string; allele: string; notes?: string[] }
  | { t: 'hla'; gene?: string; allele: string; positive: boolean }
  /** `reported`: the letters as written and their strand, when `genotype` is their complement on the other strand */
  | { t: 'variant'; gene?: string; rsid: string; genotype: string; strand?: 'plus' | 'gene'; reported?: { genotype: string; strand: 'plus' | 'gene' } }
  /** an activity score stated by the lab, in CPIC notation ("0.0", "1.25", "≥3.0") */
  | { t: 'activity'; gene?: string; score: string };

export type ParseOutcome = { ok: Parsed } | { error: string };

const STAR_ALLELE = /^\*(\d{1,4})([A-Z]{0,2}?)(\.\d{1,4})?(?:[xX×](\d{1,2}|[nN]|≥ ?\d{1,2}|> ?\d{1,2}))?$/;
const HLA_ALLELE = /^\*(\d{2,3}(?::\d{2,3}){0,3})([NLSQCA]?)$/;

/** Normalise one star allele; tandems ("*36+*10") are kept in the order sent. */
export function starAllele(tok: string): string | undefined {
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
export function hlaTwoField(a: string): string {
  const m = HLA_ALLELE.exec(a);
  if (!m || m[2]) return a;
  return `*${(m[1] ?? '').split(':').slice(0, 2).join(':')}`;
}

const alleleNumber = (a: string): number => Number(/^\*(\d{1,4})/.exec(a)?.[1] ?? 1e6);
export function sortAlleles(a: string, b: string): [string, string] {
  const d = alleleNumber(a) - alleleNumber(b);
  return d < 0 || (d === 0 && a <= b) ? [a, b] : [b, a];
}

/** Strip the leading gene symbol `lg` (leadingGene(s)), checking it is the expected gene. */
export function stripGene(s: string, gene: string | undefined, lg: LeadingGene): { gene?: string; rest: string } | { error: string } {
  if (!lg) return { rest: s.trim(), gene };
  if (gene && lg.gene !== gene) return { error: `value names ${lg.gene} but the Observation is about ${gene}` };
  return { gene: lg.gene, rest: lg.rest };
}

/** Star-allele genotype or single allele ("CYP2C9 *1/*3", "*2x2/*4"). `lg` is leadingGene(s). */
export function parseStar(s: string, gene: string | undefined, lg: LeadingGene): ParseOutcome {
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

const NEGATIVE_WORDS = /\b(?:negative|not detected|absent|not present|non-? ?carrier|not a carrier|not carried|not found)\b/gi;
const POSITIVE_WORDS = /\b(?:positive|detected|present|carrier|found)\b/i;

/** true/false when the text says found/not found, undefined when it says neither, 'both' when it says both. */
export function presenceWords(s: string): boolean | 'both' | undefined {
  const neg = NEGATIVE_WORDS.test(s);
  NEGATIVE_WORDS.lastIndex = 0;
  const pos = POSITIVE_WORDS.test(s.replace(NEGATIVE_WORDS, ' '));
  NEGATIVE_WORDS.lastIndex = 0;
  return neg && pos ? 'both' : neg ? false : pos ? true : undefined;
}

/**
 * HLA: "HLA-B*57:01 positive", "HLA-B*15:02 carrier", "Negative for HLA-B*15:02", "HLA-B*15:02" (allele found),
 * the legacy four-digit form "HLA-B*5801", typings "HLA-B*07:02/*15:02". `presence` comes from a coded
 * Positive/Negative answer, when there is one.
 */
export function parseHla(s: string, gene: string | undefined, presence?: boolean): ParseOutcome {
  const alleles: string[] = [];
  let named: string | undefined;
  const re = /(?:(HLA-[A-Z]{1,4}\d?) ?)?\* ?(?:(\d{2})(\d{2})(?![\d:])|(\d{2,3}(?::\d{2,3}){0,3}[NLSQCA]?)(?![\d:]))/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null && alleles.length < 5) {
    if (m[1]) {
      const g = canonicalGene(m[1]);
      if (!g) return { error: 'value names an unknown HLA gene' };
      if ((gene && g !== gene) || (named && g !== named)) return { error: 'value names another HLA gene' };
      named = g;
    }
    const allele = m[2] && m[3] ? `*${m[2]}:${m[3]}` : hlaTwoField(`*${(m[4] ?? '').toUpperCase()}`);
    alleles.push(allele);
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

/**
 * An activity score as a lab writes it: "Activity score: 0", "AS 1.5", "activity score 2.25", "≥3" (copy number),
 * or a bare number when the Observation itself says it is an activity score. CPIC notation: one decimal unless a
 * quarter step needs two.
 */
export function parseActivityScore(s: string, bareNumberAllowed: boolean): string | undefined {
  const m = /^(?:(?:[A-Za-z0-9-]{3,10}\s)?(?:activity score|AS)\s?(?:[:=]|is)?\s?)?(≥|>=)?\s?(\d(?:\.\d{1,2})?)$/i.exec(s.trim());
  if (!m) return undefined;
  const labelled = /activity score|\bAS\b/i.test(s);
  if (!labelled && !bareNumberAllowed) return undefined;
  return formatScore(Number(m[2]), m[1] !== undefined);
}

/** CPIC lookup notation of an activity score ("1.0", "0.25", "≥3.0"); undefined outside 0–8 or off the quarter grid. */
export function formatScore(v: number, atLeast = false): string | undefined {
  if (!Number.isFinite(v) || v < 0 || v > 8 || Math.round(v * 4) !== v * 4) return undefined;
  const s = Number.isInteger(v * 2) ? v.toFixed(1) : v.toFixed(2);
  return `${atLeast ? '≥' : ''}${s}`;
}
