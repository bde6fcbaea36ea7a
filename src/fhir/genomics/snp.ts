// SNP genotypes: rsID and VKORC1 -1639 notations in text, strand resolution for the SNPs whose strand is known.
import { stripGene, type ParseOutcome } from './alleles.js';
import type { LeadingGene } from './genes.js';

export interface KnownSnp {
  gene: string;
  /** GRCh38 plus-strand reference and alternate allele */
  ref: string;
  alt: string;
  /** the gene is transcribed from the minus strand, so the gene-strand alleles are the complements */
  geneOnMinusStrand: boolean;
  /** RefSeq chromosome accession → position of the SNP on it */
  positions: Readonly<Record<string, number>>;
  /** genes a lab may file the SNP under (a SNP between genes of a cluster); the result is reported under `gene` */
  alsoGenes?: readonly string[];
}

/**
 * SNPs whose strand we can resolve. GRCh38 positions and alleles from ../shared/data/cpic/allele_definition_variants.tsv;
 * GRCh37 position of rs9923231 (chr16:31107689) from dbSNP.
 */
export const KNOWN_SNPS: Readonly<Record<string, KnownSnp>> = {
  rs9923231: { gene: 'VKORC1', ref: 'C', alt: 'T', geneOnMinusStrand: true, positions: { 'NC_000016.10': 31096368, 'NC_000016.9': 31107689 } },
  rs2108622: { gene: 'CYP4F2', ref: 'C', alt: 'T', geneOnMinusStrand: true, positions: { 'NC_000019.10': 15879621 } },
  rs2231142: { gene: 'ABCG2', ref: 'G', alt: 'T', geneOnMinusStrand: true, positions: { 'NC_000004.12': 88131171 } },
  // CPIC warfarin 2017: rs12777823 G>A in the CYP2C gene cluster (chromosome 10; Perera et al., Lancet 2013); reported
  // on the plus strand (G/G, G/A, A/A). No position is encoded, so it is read by rsID, not by HGVS alone.
  rs12777823: { gene: 'CYP2C cluster', ref: 'G', alt: 'A', geneOnMinusStrand: false, positions: {}, alsoGenes: ['CYP2C9', 'CYP2C18', 'CYP2C19'] },
};

/** SNPs known from elsewhere (the named-allele catalogue), looked up by rsID. */
export type SnpLookup = (rsid: string) => KnownSnp | undefined;

export const COMPLEMENT: Readonly<Record<string, string>> = { A: 'T', T: 'A', C: 'G', G: 'C' };

/** Decide the strand of a SNP genotype from its letters and express it in our output convention. */
export function resolveSnp(
  rsid: string,
  alleles: readonly string[],
  notation: 'gene' | 'plus' | undefined,
  gene: string | undefined,
  more?: SnpLookup,
): ParseOutcome {
  const snp = KNOWN_SNPS[rsid] ?? more?.(rsid);
  if (alleles.length !== 2 || alleles.some((a) => !COMPLEMENT[a])) return { error: `genotype for ${rsid} is not two bases` };
  if (!snp) {
    return { ok: { t: 'variant', rsid, genotype: alleles.join('/'), strand: notation, gene } };
  }
  if (gene && gene !== snp.gene && !snp.alsoGenes?.includes(gene)) return { error: `${rsid} is in ${snp.gene}, not ${gene}` };
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
  // the letters as the lab wrote them, kept when the result is given on the other strand (their complements)
  const reported = { genotype: alleles.join('/'), strand };
  if (rsid === 'rs9923231') {
    // IWPC notation: gene strand, alphabetical (G/G, A/G, A/A)
    const geneAlleles = plusAlleles.map((a) => COMPLEMENT[a]!).sort();
    return { ok: { t: 'variant', gene: snp.gene, rsid, genotype: geneAlleles.join('/'), strand: 'gene', ...(strand === 'plus' ? { reported } : {}) } };
  }
  const ordered = [...plusAlleles].sort((a, b) => (a === snp.ref ? 0 : 1) - (b === snp.ref ? 0 : 1));
  return { ok: { t: 'variant', gene: snp.gene, rsid, genotype: ordered.join('/'), strand: 'plus', ...(strand === 'gene' && snp.geneOnMinusStrand ? { reported } : {}) } };
}

/** Pairs of alleles, unordered duplicates removed (the last of equal pairs kept, at the place of the first). */
export function distinctPairs(pairs: string[][]): string[][] {
  const seen = new Map<string, string[]>();
  for (const p of pairs) {
    const [a = '', b = ''] = p;
    seen.set(a <= b ? `${a}/${b}` : `${b}/${a}`, p);
  }
  return [...seen.values()];
}

/** Capture groups 1 and 2 of every match of a global regex. */
export function matchPairs(re: RegExp, s: string): string[][] {
  const out: string[][] = [];
  for (let m = re.exec(s); m !== null; m = re.exec(s)) out.push([m[1] ?? '', m[2] ?? '']);
  return out;
}

/**
 * rsID / VKORC1 -1639 genotypes in text: "VKORC1 rs9923231 C/T", "rs9923231 A/A", "rs9923231(C;T)",
 * "VKORC1 -1639 AA", "-1639 G>A heterozygous", "rs9923231 reference (C)/rs9923231 variant (T)". `lg` is leadingGene(s).
 */
export function parseSnpText(s: string, gene: string | undefined, lg: LeadingGene, more?: SnpLookup): ParseOutcome {
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
  } else if (het && (KNOWN_SNPS[rsid] ?? more?.(rsid))) {
    // biallelic SNP: heterozygous has one meaning
    const snp = (KNOWN_SNPS[rsid] ?? more?.(rsid))!;
    alleles = notation === 'gene' && snp.geneOnMinusStrand ? [COMPLEMENT[snp.ref]!, COMPLEMENT[snp.alt]!] : [snp.ref, snp.alt];
  } else return { error: 'value has no genotype' };
  return resolveSnp(rsid, alleles, notation, g, more);
}

export const looksLikeSnp = (s: string): boolean => /(?<![A-Za-z0-9])rs\d|\b(?:reference|variant) ?\([ACGT]\)|(?<![0-9])-?1639(?![0-9])/i.test(s);

