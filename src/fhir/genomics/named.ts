// Named-allele genes (DPYD, RYR1, CACNA1S, G6PD, MT-RNR1): CPIC allele names, their star aliases, rsIDs and HGVS
// (c., g., m., with or without NM_/NC_ accessions) → the CPIC diplotype (or the one mitochondrial / hemizygous
// allele), from text or from a set of variant calls. The variants come from the knowledge (knowledge/pgx-variants.json).
//
// Decisions (tested in test/unit/genomics-named.test.ts):
// - Variants without phase: they are assumed on different chromosomes (in trans), CPIC's rule for DPYD, which gives
//   the lowest activity score; more than two variant alleles: the two of lowest activity are used. Both are noted.
// - One variant named without its zygosity ("c.1905+1G>A detected") is not read: heterozygous and homozygous lead to
//   different guidance. Two or more distinct variants without zygosity are read as one copy each (in trans).
// - "not detected" / negative for the variants named → the reference allele (only those variants were tested: noted).
// - A GRCh37 position is read only where the knowledge has it verified; a g. HGVS without accession only on GRCh38.
import type { NamedGeneVariants, VariantsFile } from '../../knowledge/pgxVariants.js';
import { presenceWords, type ParseOutcome } from './alleles.js';
import { leadingGene } from './genes.js';
import type { KnownSnp } from './snp.js';

/** How many copies of a variant an Observation says the patient carries. */
export type Copies = 0 | 1 | 2 | 'hemizygous' | 'homoplasmic' | 'heteroplasmic';

export interface VariantCall {
  /** index into the gene's catalogue variants */
  variant: number;
  copies: Copies;
}

const COMPLEMENT: Record<string, string> = { A: 'T', T: 'A', C: 'G', G: 'C' };

export function namedGene(c: VariantsFile, gene: string | undefined): NamedGeneVariants | undefined {
  return gene ? c.genes[gene] : undefined;
}

/** The catalogue's variants as SNPs the rsID/letters parser can resolve (plus-strand bases, gene strand). */
export function snpLookup(c: VariantsFile): (rsid: string) => KnownSnp | undefined {
  return (rsid) => {
    const gene = c.rsidGenes[rsid];
    const g = gene ? c.genes[gene] : undefined;
    const vs = g?.variants.filter((v) => v.rsid === rsid) ?? [];
    const v = vs.length === 1 ? vs[0]! : undefined;
    if (!g || !v || !/^[ACGT]$/.test(v.ref) || !/^[ACGT]$/.test(v.alt)) return undefined;
    return { gene: gene!, ref: v.ref, alt: v.alt, geneOnMinusStrand: g.strand === 'minus', positions: { [g.refseq]: v.pos, ...(g.refseq37 && v.pos37 ? { [g.refseq37]: v.pos37 } : {}) } };
  };
}

export type Resolved = { allele: string; note?: string } | { variant: number } | { error: string } | undefined;

const SUBST = /^(\d{1,6})([ACGT])>([ACGT])$/i;

/** One token → an allele of the gene or one of its variants; undefined when it does not look like this gene's. */
export function resolveToken(g: NamedGeneVariants, raw: string): Resolved {
  let t = raw.trim().replace(/[.;,]$/, '').trim();
  if (!t) return undefined;
  const lower = t.toLowerCase();
  if (lower === g.reference.toLowerCase() || lower === 'ref' || lower === 'wt') return { allele: g.reference };
  const exact = g.alleles.find((a) => a.name.toLowerCase() === lower)?.name ?? g.aliases[lower];
  if (exact) return { allele: exact };
  // "c.1905+1G>A (*2A)": both parts must name the same allele
  const withAlias = /^(.+?)\s*\(([^()]+)\)$/.exec(t);
  if (withAlias) {
    const a = resolveToken(g, withAlias[1]!);
    const b = resolveToken(g, withAlias[2]!);
    const an = a && 'allele' in a ? a.allele : a && 'variant' in a ? alleleOfVariant(g, a.variant) : undefined;
    const bn = b && 'allele' in b ? b.allele : b && 'variant' in b ? alleleOfVariant(g, b.variant) : undefined;
    if (an && bn && an === bn) return { allele: an };
    if (an || bn) return { error: `"${clipName(t)}" names two different alleles` };
    return undefined;
  }
  // accessions: NM_000110.4:c.1905+1G>A, NM_000110.4(DPYD):c.…, NC_000001.11:g.…, NC_012920.1:m.1555A>G
  const acc = /^(N[CMG]_\d{6,9}(?:\.\d{1,2})?)(?:\([A-Za-z0-9-]+\))?:(.+)$/.exec(t);
  let accession: string | undefined;
  if (acc) {
    accession = acc[1]!;
    t = acc[2]!.trim();
  }
  const rs = /^rs(\d{1,12})$/i.exec(t);
  if (rs) {
    const hits = g.variants.map((v, i) => ({ v, i })).filter((x) => x.v.rsid === `rs${rs[1]}`);
    if (hits.length === 1) return { variant: hits[0]!.i };
    return hits.length > 1 ? { error: `rs${rs[1]} has several alternate alleles: the change must be stated` } : undefined;
  }
  const gh = /^g\.(\d{1,10})([ACGT])>([ACGT])$/i.exec(t);
  if (gh) {
    const pos = Number(gh[1]);
    const [ref, alt] = [gh[2]!.toUpperCase(), gh[3]!.toUpperCase()];
    const build37 = accession !== undefined && accession.split('.')[0] === g.refseq37?.split('.')[0] && accession === g.refseq37;
    if (accession && !build37 && accession !== g.refseq) return accession.split('.')[0] === g.refseq.split('.')[0] || accession.split('.')[0] === g.refseq37?.split('.')[0] ? { error: `${accession} is a reference sequence version whose positions are not in the knowledge` } : undefined;
    const i = g.variants.findIndex((v) => (build37 ? v.pos37 === pos : v.pos === pos) && v.ref === ref && v.alt === alt);
    if (i >= 0) return { variant: i };
    if (build37 && !g.variants.some((v) => v.pos37 !== undefined)) return { error: 'GRCh37 positions of this gene are not in the knowledge' };
    // only some GRCh37 positions are verified (G6PD): any other GRCh37 position is not read, and says so
    if (build37 && g.transcripts) return { error: `${accession}:g.${pos} is not one of the verified GRCh37 positions of this gene` };
    return undefined;
  }
  // c. names on a curated transcript (G6PD: NM_001360016.2): another transcript or version numbers differently
  if (g.transcripts && /^c\./i.test(t)) return codingName(g, accession, t);
  // c. names, m. names and the legacy mitochondrial notation (A1555G, 1555A>G)
  let name = t;
  if (g.kind === 'mitochondrial') {
    const legacy = /^(?:m\.)?([ACGT])(\d{1,5})([ACGT])$/i.exec(t);
    const plain = SUBST.exec(t.replace(/^m\./i, ''));
    if (legacy) name = `m.${legacy[2]}${legacy[1]!.toUpperCase()}>${legacy[3]!.toUpperCase()}`;
    else if (plain) name = `m.${plain[1]}${plain[2]!.toUpperCase()}>${plain[3]!.toUpperCase()}`;
  }
  const nl = name.toLowerCase();
  const i = g.variants.findIndex((v) => v.name?.toLowerCase() === nl);
  return i >= 0 ? { variant: i } : undefined;
}

/**
 * A c. HGVS of a gene whose c. names are curated on a transcript (G6PD). Without accession it is read on the first
 * curated transcript (NM_001360016.2, the numbering of the literature and of CPIC's allele names); with an accession
 * only on a curated transcript and version (NM_000402.4 numbers the longer isoform: its c.563 is another codon). A
 * known position with other bases contradicts the knowledge and is an error; an unknown position is not this gene's.
 */
function codingName(g: NamedGeneVariants, accession: string | undefined, t: string): Resolved {
  const tx = g.transcripts ?? [];
  if (accession && !tx.includes(accession)) {
    const base = accession.split('.')[0];
    if (tx.some((x) => x.split('.')[0] === base)) return { error: `${accession} is a transcript version whose c. numbering is not in the knowledge (only ${tx.join(', ')})` };
    if (/^NM_/.test(accession)) return { error: `${accession} is a transcript whose c. numbering is not in the knowledge (only ${tx.join(', ')})` };
    return undefined;
  }
  const m = /^c\.(\d{1,5})([ACGT])>([ACGT])$/i.exec(t);
  const name = m ? `c.${m[1]}${m[2]!.toUpperCase()}>${m[3]!.toUpperCase()}` : t;
  const i = g.variants.findIndex((v) => v.name === name);
  if (i >= 0) return { variant: i };
  if (m) {
    const at = g.variants.filter((v) => v.name && new RegExp(`^c\\.${m[1]}[ACGT]>`).test(v.name)).map((v) => v.name!);
    if (at.length) return { error: `${name} contradicts the knowledge: at c.${m[1]} it has ${at.join(', ')}` };
  }
  return undefined;
}

function clipName(s: string): string {
  return s.length > 60 ? `${s.slice(0, 59)}…` : s;
}

/** The allele a single variant stands for: the allele defined by it alone, else the allele it is the tag of. */
function alleleOfVariant(g: NamedGeneVariants, variant: number): string | undefined {
  return g.alleles.find((a) => a.variants.length === 1 && a.variants[0] === variant)?.name ?? g.proxies?.find((p) => p.variant === variant)?.allele;
}

const HET = /\bhet(?:erozygous|erozygote)?\b|\bcarrier\b|\bone copy\b/i;
const HOM = /\bhom(?:ozygous|ozygote)?\b|\btwo copies\b|\bbiallelic\b/i;
const HEMI = /\bhemizygous\b|\bhemizygote\b/i;
const HOMOPLASMIC = /\bhomoplasm(?:ic|y)\b/i;
const HETEROPLASMIC = /\bheteroplasm(?:ic|y)\b/i;
const FILLER = /\b(?:heterozygous|heterozygote|homozygous|homozygote|hemizygous|hemizygote|homoplasmic|homoplasmy|heteroplasmic|heteroplasmy|het|hom|carrier|one copy|two copies|biallelic|positive|negative|detected|not detected|absent|not present|present|found|not found|variant|variants|genotype|result|for|of|the|and|with|no|mutation|allele|alleles|identified|was|were|is)\b/gi;

export interface NamedReading {
  parsed: ParseOutcome;
  /** variant calls, when the text named variants rather than alleles (assembled later with the others of the report) */
  calls?: VariantCall[];
}

/**
 * Read a named-allele genotype text: "c.1905+1G>A (*2A)/Reference", "DPYD*2A/*1", "c.2846A>T/c.1905+1G>A (*2A)",
 * "DPYD c.1905+1G>A heterozygous", "c.1679T>G + c.1905+1G>A", "m.1555A>G homoplasmic", "A1555G detected",
 * "RYR1 NM_000540.3:c.7300G>A het", "negative for c.1905+1G>A".
 */
export function parseNamedText(c: VariantsFile, s: string, gene: string): NamedReading {
  const g = c.genes[gene]!;
  const lg = leadingGene(s);
  let rest = s;
  if (lg) {
    if (lg.gene !== gene) return { parsed: { error: `value names ${lg.gene} but the Observation is about ${gene}` } };
    rest = lg.rest; // "DPYD*2A/*1" → "*2A/*1"
  }
  rest = rest.replace(/^[:\-–]\s*/, '').trim();
  // diplotype with a slash: each side one allele (or one variant standing for one)
  if (rest.includes('/')) {
    const parts = rest.split('/').map((p) => p.replace(FILLER, ' ').replace(/\s+/g, ' ').trim());
    if (parts.length !== 2) return { parsed: { error: 'value has more than two alleles' } };
    const names: string[] = [];
    for (const p of parts) {
      const r = resolveToken(g, p);
      if (!r) return { parsed: { error: `"${clipName(p)}" is not a CPIC ${gene} allele` } };
      if ('error' in r) return { parsed: r };
      const name = 'allele' in r ? r.allele : alleleOfVariant(g, r.variant);
      if (!name) return { parsed: { error: `"${clipName(p)}" is one variant of a ${gene} allele defined by several` } };
      names.push(name);
    }
    if (g.kind === 'mitochondrial') return { parsed: { error: 'a mitochondrial result has one allele, not two' } };
    return { parsed: { ok: { t: 'diplotype', gene, diplotype: orderedDiplotype(g, names[0]!, names[1]!) } } };
  }
  // a list of variants (or alleles) with zygosity / presence words
  const presence = presenceWords(rest);
  if (presence === 'both') return { parsed: { error: 'value says both positive and negative' } };
  const words = { het: HET.test(rest), hom: HOM.test(rest), hemi: HEMI.test(rest), homoplasmic: HOMOPLASMIC.test(rest), heteroplasmic: HETEROPLASMIC.test(rest) };
  const body = rest.replace(/\([^()]*\)/g, (m) => (/^\(\*|\(HapB3\)/i.test(m) ? m : ' ')).replace(FILLER, ' ');
  const tokens = body
    // "+" joins variants only with spaces around it: "c.1905+1G>A" is one intronic name
    .split(/\s+\+\s+|\s*(?:,|;|&)\s*|\s+and\s+|\s+/i)
    .map((x) => x.trim())
    .filter(Boolean);
  // re-join "c.1905+1G>A (*2A)": a token in brackets belongs to the one before it
  const joined: string[] = [];
  for (const tok of tokens) {
    if (/^\(.*\)$/.test(tok) && joined.length) joined[joined.length - 1] = `${joined[joined.length - 1]} ${tok}`;
    else joined.push(tok);
  }
  const found: { allele?: string; variant?: number }[] = [];
  const whole = resolveToken(g, body.replace(/\s+/g, ' ').trim());
  if (whole && 'allele' in whole) joined.splice(0, joined.length, whole.allele);
  for (const tok of joined) {
    const r = resolveToken(g, tok);
    // plain words ("patient", "splice") are not results; anything that looks like a variant must be read
    if (!r && /^[A-Za-z-]+$/.test(tok)) continue;
    if (!r) return { parsed: { error: `"${clipName(tok)}" is not read as a ${gene} allele or variant` } };
    if ('error' in r) return { parsed: r };
    found.push('allele' in r ? { allele: r.allele } : { variant: r.variant });
  }
  if (found.length === 0) return { parsed: { error: `value names no ${gene} allele or variant` } };
  if (found.length === 1 && found[0]!.allele === g.reference) {
    if (g.kind === 'mitochondrial') return { parsed: { ok: { t: 'single', gene, allele: g.reference } } };
    return { parsed: { ok: { t: 'diplotype', gene, diplotype: `${g.reference}/${g.reference}` } } };
  }
  const zyg = [words.het, words.hom, words.hemi, words.homoplasmic, words.heteroplasmic].filter(Boolean).length;
  if (zyg > 1) return { parsed: { error: 'value states more than one zygosity' } };
  // alleles the knowledge knows by name only (G6PD): the zygosity words give the result directly
  if (found.some((f) => f.allele !== undefined && !g.alleles.find((a) => a.name === f.allele)?.variants.length)) {
    if (found.some((f) => f.allele === undefined)) return { parsed: { error: `${gene} alleles and variants mixed in one value` } };
    return { parsed: byName(g, gene, found.map((f) => f.allele!), presence, words) };
  }
  const variantsOf = (f: { allele?: string; variant?: number }): number[] => {
    if (f.variant !== undefined) return [f.variant];
    return g.alleles.find((a) => a.name === f.allele)?.variants ?? [];
  };
  let copies: Copies;
  if (presence === false) copies = 0;
  else if (words.het) copies = 1;
  else if (words.hom) copies = 2;
  else if (words.hemi) copies = 'hemizygous';
  else if (words.homoplasmic) copies = 'homoplasmic';
  else if (words.heteroplasmic) copies = 'heteroplasmic';
  else if (g.kind === 'mitochondrial') copies = 'homoplasmic';
  else if (found.length > 1) copies = 1;
  else return { parsed: { error: `zygosity of the ${gene} variant is not stated (heterozygous and homozygous lead to different guidance)` } };
  const calls: VariantCall[] = found.flatMap((f) => variantsOf(f).map((variant) => ({ variant, copies })));
  const notes = copies === 1 && found.length > 1 && !words.het ? [`${gene}: the variants were read as one copy each (zygosity not stated)`] : undefined;
  const assembled = assembleCalls(g, gene, calls);
  if ('error' in assembled) return { parsed: assembled };
  if (notes) assembled.ok.notes = [...(('notes' in assembled.ok && assembled.ok.notes) || []), ...notes];
  return { parsed: assembled, calls };
}

/**
 * A result named by alleles the knowledge has no variants for (G6PD): "Mediterranean hemizygous" → that one allele
 * (a male result); "A- 202A_376G heterozygous" → Reference/A- 202A_376G; "homozygous" → two copies; two alleles
 * named → both (compound heterozygous); "negative" → the reference (only the alleles named were tested: noted).
 */
function byName(g: NamedGeneVariants, gene: string, names: string[], presence: boolean | 'both' | undefined, w: { het: boolean; hom: boolean; hemi: boolean; homoplasmic: boolean; heteroplasmic: boolean }): ParseOutcome {
  const zyg = [w.het, w.hom, w.hemi, w.homoplasmic, w.heteroplasmic].filter(Boolean).length;
  if (zyg > 1) return { error: 'value states more than one zygosity' };
  if (w.homoplasmic || w.heteroplasmic) return { error: `${w.homoplasmic ? 'homoplasmic' : 'heteroplasmic'} is said of mitochondrial variants, not of ${gene}` };
  const variant = names.filter((n) => n !== g.reference);
  if (presence === false) {
    if (w.hemi) return { ok: { t: 'single', gene, allele: g.reference, notes: [`${gene}: only ${variant.join(', ')} tested; not found`] } };
    return { ok: { t: 'diplotype', gene, diplotype: `${g.reference}/${g.reference}`, notes: [`${gene}: only ${variant.join(', ')} tested; not found`] } };
  }
  if (w.hemi) {
    if (g.kind !== 'x-linked') return { error: `hemizygous is said of X-linked genes, not of ${gene}` };
    if (names.length !== 1) return { error: `a hemizygous ${gene} result has one allele, ${names.length} were named` };
    return { ok: { t: 'single', gene, allele: names[0]! } };
  }
  if (names.length === 2) return { ok: { t: 'diplotype', gene, diplotype: orderedDiplotype(g, names[0]!, names[1]!) } };
  if (names.length > 2) return { error: `more than two ${gene} alleles named` };
  if (w.hom) return { ok: { t: 'diplotype', gene, diplotype: `${names[0]}/${names[0]}` } };
  if (w.het) return { ok: { t: 'diplotype', gene, diplotype: orderedDiplotype(g, g.reference, names[0]!) } };
  return { error: `zygosity of ${gene} ${names[0]} is not stated (${g.kind === 'x-linked' ? 'hemizygous, heterozygous and homozygous' : 'heterozygous and homozygous'} lead to different guidance)` };
}

/** CPIC table order: the reference first, then by name (numeric). */
export function orderedDiplotype(g: NamedGeneVariants, a: string, b: string): string {
  if (b === g.reference && a !== g.reference) return `${b}/${a}`;
  if (a === g.reference) return `${a}/${b}`;
  return a.localeCompare(b, 'en', { numeric: true }) <= 0 ? `${a}/${b}` : `${b}/${a}`;
}

/**
 * Variant calls of one report → the CPIC diplotype (nuclear), or the one allele (mitochondrial; X-linked and
 * hemizygous). Multi-variant alleles are taken first when all their variants are present.
 */
export function assembleCalls(g: NamedGeneVariants, gene: string, calls: readonly VariantCall[]): ParseOutcome & { ok?: { notes?: string[] } } {
  const notes: string[] = [];
  const remaining = new Map<number, number>();
  let mito: 'homoplasmic' | 'heteroplasmic' | undefined;
  let hemi = false;
  for (const call of calls) {
    let n: number;
    if (call.copies === 'homoplasmic' || call.copies === 'heteroplasmic') {
      if (g.kind !== 'mitochondrial') return { error: `${call.copies} is said of mitochondrial variants, not of ${gene}` };
      mito = call.copies === 'heteroplasmic' || mito === 'heteroplasmic' ? 'heteroplasmic' : 'homoplasmic';
      n = 1;
    } else if (call.copies === 'hemizygous') {
      if (g.kind !== 'x-linked') return { error: `hemizygous is said of X-linked genes, not of ${gene}` };
      hemi = true;
      n = 1;
    } else n = call.copies;
    if (g.kind === 'mitochondrial' && n === 2) n = 1;
    const prev = remaining.get(call.variant);
    if (prev !== undefined && prev !== n) return { error: `one ${gene} variant is reported with two different zygosities` };
    remaining.set(call.variant, n);
  }
  if (g.kind === 'x-linked' && !hemi && new Set(calls.map((c) => c.variant)).size > 1 && calls.every((c) => c.copies === 1)) {
    const u = unphasedXLinked(g, gene, calls);
    if ('error' in u) return u;
    return { ok: { t: 'diplotype', gene, diplotype: orderedDiplotype(g, u.alleles[0]!, u.alleles[1]!), ...(u.note ? { notes: [u.note] } : {}) } };
  }
  const alleles: string[] = [];
  const byCount = [...g.alleles].sort((a, b) => b.variants.length - a.variants.length || a.name.localeCompare(b.name));
  for (const a of byCount) {
    // an allele known by name only (G6PD: no positions in the knowledge) is never assembled from variants
    while (a.variants.length > 0 && a.variants.every((v) => (remaining.get(v) ?? 0) > 0)) {
      for (const v of a.variants) remaining.set(v, remaining.get(v)! - 1);
      alleles.push(a.name);
    }
  }
  for (const [v, n] of remaining) {
    if (n <= 0) continue;
    const proxy = g.proxies?.find((p) => p.variant === v);
    if (proxy) {
      for (let i = 0; i < n; i++) alleles.push(proxy.allele);
      notes.push(proxy.note);
      continue;
    }
    return { error: `${gene} ${g.variants[v]?.name ?? g.variants[v]?.rsid ?? 'variant'} is not part of a CPIC allele on its own` };
  }
  if (g.kind === 'mitochondrial') {
    if (alleles.length > 1) return { error: `several ${gene} variants in one result` };
    const allele = alleles[0] ?? g.reference;
    if (mito === 'heteroplasmic') notes.push(`${gene} ${allele} is heteroplasmic; CPIC's recommendation for carriers is applied whatever the heteroplasmy level`);
    return { ok: { t: 'single', gene, allele, ...(notes.length ? { notes } : {}) } };
  }
  if (hemi) {
    if (alleles.length > 1) return { error: `a hemizygous ${gene} result has one allele, ${alleles.length} were found` };
    return { ok: { t: 'single', gene, allele: alleles[0] ?? g.reference, ...(notes.length ? { notes } : {}) } };
  }
  if (alleles.length > 2) {
    const activity = (name: string) => Number(g.alleles.find((a) => a.name === name)?.activity ?? Number.NaN);
    if (alleles.some((a) => Number.isNaN(activity(a)))) return { error: `more than two ${gene} variant alleles without phase: cannot be interpreted` };
    alleles.sort((a, b) => activity(a) - activity(b));
    notes.push(`${gene}: ${alleles.length} variant alleles without phase; the two of lowest activity (${alleles.slice(0, 2).join(' and ')}) were used, assumed on different chromosomes (CPIC)`);
    alleles.length = 2;
  } else if (alleles.length === 2 && alleles[0] !== alleles[1] && calls.every((c) => c.copies === 1)) {
    notes.push(`${gene}: ${alleles[0]} and ${alleles[1]} were reported without phase; they are assumed on different chromosomes (in trans), as CPIC advises, which gives the lowest activity`);
  }
  while (alleles.length < 2) alleles.push(g.reference);
  if (calls.every((c) => c.copies === 0)) notes.push(`${gene}: only the variants named were tested; none was found`);
  return { ok: { t: 'diplotype', gene, diplotype: orderedDiplotype(g, alleles[0]!, alleles[1]!), ...(notes.length ? { notes } : {}) } };
}

/** Lower is less function: CNSHA (WHO class I) < deficient (II, III) < uncertain < normal (IV). */
function functionRank(g: NamedGeneVariants, allele: string): number {
  const f = allele === g.reference ? 'normal' : (g.alleles.find((a) => a.name === allele)?.function ?? '');
  if (/CNSHA/i.test(f)) return 0;
  if (/deficient/i.test(f)) return 1;
  if (/normal/i.test(f)) return 3;
  return 2;
}

/**
 * Heterozygous variants of an X-linked gene (a female result) without phase: every way of placing them on the two
 * X chromosomes where each chromosome carries exactly the variants of one CPIC allele (or none: the reference) is a
 * reading: c.202G>A + c.376A>G is "A- 202A_376G" in cis, "Asahi" + "A" in trans. CPIC's rule for unphased calls: the
 * reading of lowest function is used; the card says which readings there were. No reading: not interpretable.
 */
function unphasedXLinked(g: NamedGeneVariants, gene: string, calls: readonly VariantCall[]): { alleles: string[]; note?: string } | { error: string } {
  const distinct = [...new Set(calls.map((c) => c.variant))].sort((a, b) => a - b);
  const label = (v: number) => g.variants[v]!.rsid ?? `g.${g.variants[v]!.pos}${g.variants[v]!.ref}>${g.variants[v]!.alt}`;
  const names = distinct.map(label).join(', ');
  if (distinct.length > 8) return { error: `${distinct.length} heterozygous ${gene} variants without phase: cannot be interpreted` };
  const bySet = new Map(g.alleles.filter((a) => a.variants.length > 0).map((a) => [[...a.variants].sort((x, y) => x - y).join(','), a.name]));
  const readings = new Map<string, string[]>();
  for (let mask = 0; mask < 1 << (distinct.length - 1); mask++) {
    // the first variant on chromosome 0: each split is counted once
    const sets: number[][] = [[], []];
    distinct.forEach((v, i) => sets[i === 0 ? 0 : (mask >> (i - 1)) & 1]!.push(v));
    const pair = sets.map((set) => (set.length === 0 ? g.reference : bySet.get(set.join(','))));
    if (pair.some((a) => a === undefined)) continue;
    const sorted = (pair as string[]).sort();
    readings.set(sorted.join('|'), sorted);
  }
  if (readings.size === 0) return { error: `${gene} ${names} without phase: no placement of these variants on two chromosomes gives CPIC alleles` };
  const rank = (a: string[]) => a.map((x) => functionRank(g, x)).sort((x, y) => x - y);
  const cmp = (a: string[], b: string[]) => rank(a)[0]! - rank(b)[0]! || rank(a)[1]! - rank(b)[1]!;
  const all = [...readings.values()].sort(cmp);
  const chosen = all[0]!;
  if (all.length === 1) return { alleles: chosen };
  const fn = (a: string[]) => a.map((x) => `${x} (${x === g.reference ? 'normal function' : g.alleles.find((y) => y.name === x)?.function})`).join(' + ');
  const tie = all.filter((r) => cmp(r, chosen) === 0).length === all.length;
  const readingsText = all.map(fn).join('; or ');
  return {
    alleles: chosen,
    note: tie
      ? `${gene}: ${names} were reported without phase; they can be read as ${readingsText}; all readings have the same allele functions, so the phenotype does not depend on the phase (CPIC: unphased variants are read as the lowest-function reading)`
      : `${gene}: ${names} were reported without phase; they can be read as ${readingsText}; the reading of lowest function (${chosen.join(' + ')}) is used, as CPIC advises for unphased variants`,
  };
}

/** Letters of an rsID genotype (plus or gene strand, as the SNP parser resolved them) → copies of the alternate allele. */
export function copiesFromGenotype(c: VariantsFile, gene: string, rsid: string, genotype: string, strand: 'plus' | 'gene' | undefined): VariantCall | { error: string } {
  const g = c.genes[gene];
  const i = g?.variants.findIndex((v) => v.rsid === rsid) ?? -1;
  const v = i >= 0 ? g!.variants[i]! : undefined;
  if (!g || !v) return { error: `${rsid} is not a variant of a CPIC ${gene} allele` };
  const bases = genotype.split('/');
  const plus = strand === 'gene' && g.strand === 'minus' ? bases.map((b) => COMPLEMENT[b] ?? b) : bases;
  if (plus.some((b) => b !== v.ref && b !== v.alt)) return { error: `the genotype does not fit ${rsid} (${v.ref}>${v.alt})` };
  const n = plus.filter((b) => b === v.alt).length as 0 | 1 | 2;
  return { variant: i, copies: n };
}

/** Find the named-allele gene a text is about when no gene is given: exactly one gene must read it. */
export function namedGeneOfText(c: VariantsFile, s: string): string | undefined {
  const hits = Object.keys(c.genes).filter((gene) => 'ok' in parseNamedText(c, s, gene).parsed);
  return hits.length === 1 ? hits[0] : undefined;
}
