// The value of a genotype-like Observation: its candidate strings (codings, text, valueString), and what they say.
import { parseActivityScore, parseHla, parseStar, presenceWords, type Parsed, type ParseOutcome } from './alleles.js';
import { CLINVAR, CLINVAR_DISPLAYS, PRESENCE_ANSWERS } from './codes.js';
import type { ReadContext } from './entry.js';
import { canonicalGene, leadingGene } from './genes.js';
import { addNew, ccOf, ccText, codingsOf, str, type Rec } from './json.js';
import { assembleCalls, copiesFromGenotype, namedGeneOfText, parseNamedText } from './named.js';
import { looksLikeSnp, parseSnpText } from './snp.js';

/** Candidate value strings of a genotype/haplotype Observation, most specific first, without duplicates. */
export function valueStrings(o: Rec): string[] {
  const out: string[] = [];
  const cc = o.valueCodeableConcept;
  for (const c of codingsOf(cc)) {
    if (c.system === CLINVAR) {
      addNew(out, c.display || CLINVAR_DISPLAYS[c.code]);
      continue;
    }
    // PharmVar codings may carry the gene symbol as code and the allele(s) in the display (the IG's examples)
    if (c.code && /[*/>]|rs\d/i.test(c.code) && !/^LA\d{3,5}-\d$/.test(c.code) && !canonicalGene(c.code)) addNew(out, c.code);
    addNew(out, c.display);
  }
  addNew(out, ccText(cc));
  addNew(out, str(o.valueString));
  return out;
}

const VARIANTISH = /(?:^|[\s/(:])(?:[cgm]\.|\d{2,6}[ACGT]>|[ACGT]\d{3,5}[ACGT]\b)/;

/** Any genotype-like value for a gene. `presence` is a coded positive/negative answer that accompanies HLA text. */
export function parseGenotypeText(s: string, gene: string | undefined, ctx: ReadContext, presence?: boolean): ParseOutcome {
  const lg = leadingGene(s);
  const g = gene ?? lg?.gene;
  if (g?.startsWith('HLA-') || /^HLA-/i.test(s)) return parseHla(s, gene, presence);
  const score = parseActivityScore(s, false);
  if (score) return { ok: { t: 'activity', gene: g, score } };
  const c = ctx.catalogue;
  const named = g ? (c.genes[g] ? g : undefined) : VARIANTISH.test(s) || /\breference\b/i.test(s) ? namedGeneOfText(c, s) : undefined;
  const asNamed = named ? parseNamedText(c, s, named).parsed : undefined;
  if (asNamed && ('ok' in asNamed || !looksLikeSnp(s))) return asNamed;
  if (looksLikeSnp(s)) {
    // "rs3918290 C/T": letters of an rsID; for a named-allele gene they become copies of its CPIC allele
    const r = parseSnpText(s, gene, lg, ctx.snp);
    const p = 'ok' in r ? r.ok : undefined;
    const ng = p?.gene && c.genes[p.gene] ? p.gene : undefined;
    if (!p || p.t !== 'variant' || !ng) return asNamed && 'error' in r ? asNamed : r;
    const call = copiesFromGenotype(c, ng, p.rsid, p.genotype, p.strand);
    if ('error' in call) return call;
    return assembleCalls(c.genes[ng]!, ng, [call]);
  }
  if (s.includes('*')) return parseStar(s, gene, lg);
  return { error: 'value is not a recognised genotype' };
}

export const parsedKey = (p: Parsed): string =>
  p.t === 'diplotype'
    ? `d:${p.diplotype}`
    : p.t === 'single'
      ? `s:${p.allele}`
      : p.t === 'allele'
        ? `a:${p.allele}`
        : p.t === 'hla'
          ? `h:${p.allele}:${p.positive}`
          : p.t === 'activity'
            ? `as:${p.score}`
            : `v:${p.rsid}:${p.genotype}`;

/** Parse every value string (`candidates`: valueStrings(o)); they must agree. */
export function parseValues(o: Rec, candidates: readonly string[], gene: string | undefined, ctx: ReadContext, presence?: boolean): { parsed: Parsed; text: string } | { error: string } {
  if (candidates.length === 0) {
    if (typeof o.valueString === 'string' || typeof ccOf(o)?.text === 'string') return { error: 'value is empty or too long to read' };
    if (codingsOf(o.valueCodeableConcept).length) return { error: 'value coding carries no genotype (no allele in code or display)' };
    return { error: 'no value (valueCodeableConcept or valueString)' };
  }
  let firstError: string | undefined;
  const ok: { parsed: Parsed; text: string }[] = [];
  for (const c of candidates) {
    const r = parseGenotypeText(c, gene, ctx, presence);
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
export function valuePresence(o: Rec, values: readonly string[]): boolean | 'conflict' | undefined {
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

export const isHlaContext = (values: readonly string[], gene: string | undefined): boolean =>
  (gene ?? '').startsWith('HLA-') || values.some((s) => /^HLA-/i.test(s));

/** An activity score given as a number (valueQuantity, valueInteger, valueString) on an Observation that says it is one. */
export function numericActivityScore(o: Rec): string | undefined {
  const q = o.valueQuantity;
  const n = typeof o.valueInteger === 'number' ? o.valueInteger : q && typeof (q as Rec).value === 'number' ? ((q as Rec).value as number) : undefined;
  if (n !== undefined) return parseActivityScore(String(n), true);
  const s = str(o.valueString, 40);
  return s ? parseActivityScore(s, true) : undefined;
}
