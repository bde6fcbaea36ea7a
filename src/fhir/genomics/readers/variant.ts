// Variant Observations (69548-6): rsID, genomic/coding/mitochondrial HGVS, ref/alt and allelic state. A variant of a
// named-allele gene (DPYD, RYR1, MT-RNR1, …) becomes a call that is assembled with the other calls of its report;
// any other variant is an SNP genotype (strand-resolved where the SNP is known).
import { ALLELIC_STATES, isLoinc, PRESENCE_ANSWERS, VARIANT_COMPONENTS as V } from '../codes.js';
import { draftFromParsed, geneFor, sourceOf, type Draft, type Entry, type ReadContext, type ReadOutcome } from '../entry.js';
import { ccText, clip, codingsOf, componentsOf, str, type Component } from '../json.js';
import { assembleCalls, resolveToken, type Copies, type VariantCall } from '../named.js';
import type { NamedGeneVariants } from '../../../knowledge/pgxVariants.js';
import { KNOWN_SNPS, resolveSnp } from '../snp.js';
import { reportKey, type IgnoredObservation } from './haplotype.js';

/** A variant call of a named-allele gene, waiting for the other calls of its report. */
export interface NamedCall {
  entry: Entry;
  gene: string;
  call: VariantCall;
  text: string;
}

/** Allele letter(s) of a ref/alt component: valueString, or a CodeableConcept's code/display/text. */
function baseOf(comp: Component | undefined): string | undefined {
  if (!comp) return undefined;
  const cc = comp.raw.valueCodeableConcept;
  const s = str(comp.raw.valueString, 20) ?? codingsOf(cc).map((c) => c.code || c.display).find(Boolean) ?? ccText(cc);
  const u = s?.toUpperCase();
  return u && /^[ACGT]$/.test(u) ? u : undefined;
}

/** Strings a component carries (codings, text, valueString). */
function stringsOf(comp: Component | undefined): string[] {
  if (!comp) return [];
  const cc = comp.raw.valueCodeableConcept;
  return [...codingsOf(cc).flatMap((c) => [c.code, c.display]), ccText(cc) ?? '', str(comp.raw.valueString) ?? ''].map((s) => s.trim()).filter(Boolean);
}

type State = 'het' | 'hom' | 'hemi' | 'heteroplasmic' | 'homoplasmic';

function stateOf(comp: Component | undefined): State | { error: string } | undefined {
  if (!comp) return undefined;
  const cc = comp.raw.valueCodeableConcept;
  const found = new Set<State>();
  for (const c of codingsOf(cc)) {
    const s = ALLELIC_STATES[c.code];
    if (s) found.add(s.state);
  }
  const words = [...codingsOf(cc).map((c) => c.display), ccText(cc) ?? '', str(comp.raw.valueString) ?? ''].join(' ').toLowerCase();
  if (/\bheterozygous\b/.test(words)) found.add('het');
  if (/\bhomozygous\b/.test(words)) found.add('hom');
  if (/\bhemizygous\b/.test(words)) found.add('hemi');
  if (/\bheteroplasmic\b/.test(words)) found.add('heteroplasmic');
  if (/\bhomoplasmic\b/.test(words)) found.add('homoplasmic');
  if (found.size !== 1) return { error: 'allelic state (53034-5) is not one of heterozygous, homozygous, hemizygous, homoplasmic, heteroplasmic' };
  return [...found][0];
}

function resolvesVariant(ng: NamedGeneVariants, token: string): boolean {
  const r = resolveToken(ng, token);
  return !!r && !('error' in r);
}

export function readVariant(e: Entry, ctx: ReadContext): ReadOutcome | NamedCall {
  const o = e.obs;
  const g = geneFor(o, undefined);
  if (g && 'error' in g) return g;
  const components = componentsOf(o);
  const one = (code: string): Component | undefined => components.find((comp) => comp.codes.some((c) => isLoinc(c, code)));

  let rsid: string | undefined;
  for (const s of stringsOf(one(V.rsid))) {
    const m = /^(?:rs)?(\d{1,12})$/i.exec(s);
    if (m) {
      rsid = `rs${m[1]}`;
      break;
    }
  }
  const genomic = stringsOf(one(V.genomicHgvs));
  const coding = stringsOf(one(V.cdnaHgvs));
  const state = stateOf(one(V.allelicState));
  if (state && typeof state === 'object') return state;
  const presence = codingsOf(o.valueCodeableConcept)
    .map((c) => PRESENCE_ANSWERS[c.code])
    .find((p) => p !== undefined);

  // named-allele genes: the gene from the component, the rsID, or the reference sequence of the HGVS
  const c = ctx.catalogue;
  // several genes share a chromosome (DPYD and CACNA1S on chr1): the gene is the one that has the variant
  const accGene = [...genomic, ...coding]
    .map((s) => {
      const acc = /^(NC_\d{6})/.exec(s)?.[1];
      // a c. HGVS on a curated transcript (G6PD NM_001360016.2) names its gene
      const nm = /^(NM_\d{6,9})/.exec(s)?.[1];
      if (nm) {
        const tx = Object.entries(c.genes).filter(([, ng]) => ng.transcripts?.some((t) => t.split('.')[0] === nm));
        return tx.length === 1 ? tx[0]![0] : undefined;
      }
      if (!acc) return undefined;
      const hits = Object.entries(c.genes).filter(([, ng]) => (ng.refseq.startsWith(acc) || ng.refseq37?.startsWith(acc)) && resolvesVariant(ng, s));
      return hits.length === 1 ? hits[0]![0] : undefined;
    })
    .find(Boolean);
  const cluster = rsid ? KNOWN_SNPS[rsid] : undefined;
  // a cluster SNP is reported under its own name whichever gene of the cluster the lab filed it under
  const gene = cluster?.alsoGenes && (!g?.value || cluster.alsoGenes.includes(g.value)) ? cluster.gene : (g?.value ?? (rsid ? c.rsidGenes[rsid] : undefined) ?? accGene ?? (rsid ? KNOWN_SNPS[rsid]?.gene : undefined));
  const ng = gene ? c.genes[gene] : undefined;
  if (gene && ng) {
    const idx = new Set<number>();
    // an rsID with several alternate alleles (G6PD rs137852336: c.406C>T Japan, c.406C>G Kawasaki) is read only
    // when the HGVS or the alternate allele says which change it is
    const sameRs = rsid ? ng.variants.map((v, i) => ({ v, i })).filter((x) => x.v.rsid === rsid) : [];
    let rsAmbiguous: string | undefined;
    for (const token of [...(rsid ? [rsid] : []), ...genomic, ...coding]) {
      const r = resolveToken(ng, token);
      if (r && 'error' in r && token === rsid && sameRs.length > 1) {
        rsAmbiguous = r.error;
        continue;
      }
      if (r && 'error' in r) return { error: r.error, genes: [gene] };
      if (r && 'variant' in r) idx.add(r.variant);
      if (r && 'allele' in r) {
        const a = ng.alleles.find((x) => x.name === r.allele);
        if (a?.variants.length === 1) idx.add(a.variants[0]!);
      }
    }
    const ref = baseOf(one(V.ref));
    const alt = baseOf(one(V.alt));
    if (rsAmbiguous) {
      if (idx.size > 0 && ![...idx].every((i) => ng.variants[i]!.rsid === rsid)) return { error: 'the rsID and HGVS components name different variants', genes: [gene] };
      if (idx.size === 0) {
        const byAlt = sameRs.filter((x) => alt !== undefined && x.v.alt === alt && (ref === undefined || x.v.ref === ref));
        if (byAlt.length !== 1) return { error: rsAmbiguous, genes: [gene] };
        idx.add(byAlt[0]!.i);
      }
    }
    if (idx.size === 0) return { error: `the variant is not one of the CPIC ${gene} allele definitions`, genes: [gene] };
    if (idx.size > 1) return { error: 'the rsID and HGVS components name different variants', genes: [gene] };
    let copies: Copies;
    if (presence === false) copies = 0;
    else if (state === 'het') copies = 1;
    else if (state === 'hom') copies = 2;
    else if (state === 'hemi') copies = 'hemizygous';
    else if (state === 'homoplasmic' || state === 'heteroplasmic') copies = state;
    else if (ng.kind === 'mitochondrial') copies = 'homoplasmic';
    else return { error: `${gene} variant has no allelic state (53034-5): heterozygous and homozygous lead to different guidance`, genes: [gene] };
    const v = ng.variants[[...idx][0]!]!;
    // ref/alt components are genomic (plus-strand) bases: they must be the variant's
    if ((ref !== undefined && ref !== v.ref) || (alt !== undefined && alt !== v.alt)) return { error: `ref/alt components (${ref ?? '?'}>${alt ?? '?'}) are not the bases of ${gene} ${v.rsid ?? `g.${v.pos}`} (${v.ref}>${v.alt})`, genes: [gene] };
    const zyg = copies === 0 ? 'absent' : copies === 1 ? 'heterozygous' : copies === 2 ? 'homozygous' : copies;
    return { entry: e, gene, call: { variant: [...idx][0]!, copies }, text: `${gene} ${v.name ?? v.rsid ?? ''}${v.rsid && v.name ? ` (${v.rsid})` : ''} ${zyg}`.replace(/\s+/g, ' ') };
  }

  // genomic HGVS of an SNP
  let hgvs: { acc: string; pos: number; ref: string; alt: string } | undefined;
  for (const s of genomic) {
    const m = /^(NC_\d{6}\.\d{1,2}):g\.(\d{1,10})([ACGT])>([ACGT])$/.exec(s);
    if (m) {
      hgvs = { acc: m[1]!, pos: Number(m[2]), ref: m[3]!, alt: m[4]! };
      break;
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
  const genes = gene ? { genes: [gene] } : {};
  if (!rsid) return { error: 'variant has no rsID (81252-9) or known genomic HGVS', ...genes };

  // an rsID with its allelic state and no bases (the IG allows it): a curated single-alternate SNP gives them
  const curated = rsid && !one(V.ref) && !one(V.alt) && !hgvs ? KNOWN_SNPS[rsid] : undefined;
  const ref = baseOf(one(V.ref)) ?? hgvs?.ref ?? curated?.ref;
  const alt = baseOf(one(V.alt)) ?? hgvs?.alt ?? curated?.alt;
  if (hgvs && (ref !== hgvs.ref || alt !== hgvs.alt)) return { error: 'ref/alt components disagree with the genomic HGVS', ...genes };
  if (!ref || !alt) return { error: 'variant has no reference and alternate allele', ...genes };
  if (ref === alt) return { error: 'variant reference and alternate allele are the same', ...genes };

  let alleles: string[];
  if (presence === false) {
    if (state) return { error: 'variant is Absent but has an allelic state', ...genes };
    alleles = [ref, ref];
  } else if (state === 'het') alleles = [ref, alt];
  else if (state === 'hom') alleles = [alt, alt];
  else if (state) return { error: `allelic state ${state} does not fit ${rsid}, which is not X-linked or mitochondrial`, ...genes };
  else return { error: 'variant has no allelic state (53034-5)', ...genes };

  const r = resolveSnp(rsid, alleles, KNOWN_SNPS[rsid] ? undefined : 'plus', gene);
  if ('error' in r) return { ...r, ...genes };
  const resultGene = cluster?.alsoGenes ? cluster.gene : (gene ?? r.ok.gene);
  if (!resultGene) return { error: 'gene could not be determined' };
  const zyg = presence === false ? 'absent' : state === 'het' ? 'heterozygous' : 'homozygous';
  const desc = hgvs ? `${hgvs.acc}:g.${hgvs.pos}${hgvs.ref}>${hgvs.alt}` : `${ref}>${alt}`;
  return { drafts: [draftFromParsed(e, resultGene, r.ok, `${resultGene} ${rsid} ${desc} ${zyg}`, ctx.opts)] };
}

/**
 * The calls of one named-allele gene from one report (same specimen; without a specimen, the same day) → one result.
 * A report whose calls cannot be assembled makes each of its Observations an unread result.
 */
export function assembleNamedCalls(calls: NamedCall[], ctx: ReadContext, ignored: IgnoredObservation[], unreadable: (c: NamedCall, reason: string) => void): Draft[] {
  const groups = new Map<string, NamedCall[]>();
  for (const call of calls) {
    const k = `${call.gene}|${reportKey(call.entry) ?? `obs:${call.entry.ref}`}`;
    const list = groups.get(k);
    if (list) list.push(call);
    else groups.set(k, [call]);
  }
  const drafts: Draft[] = [];
  for (const group of groups.values()) {
    const gene = group[0]!.gene;
    const r = assembleCalls(ctx.catalogue.genes[gene]!, gene, group.map((x) => x.call));
    if ('error' in r) {
      for (const x of group) {
        ignored.push({ reference: x.entry.ref, reason: r.error });
        unreadable(x, r.error);
      }
      continue;
    }
    group.sort((a, b) => a.entry.ref.localeCompare(b.entry.ref));
    const refs = group.map((x) => x.entry.ref);
    const first = group[0]!.entry;
    const draft = draftFromParsed(first, gene, r.ok, group.map((x) => x.text).join('; '), ctx.opts);
    const whens = group.map((x) => x.entry.when).filter((w): w is number => w !== undefined);
    draft.when = whens.length ? Math.max(...whens) : undefined;
    draft.refs = refs;
    draft.result.source = sourceOf(first, ctx.opts);
    draft.result.text = clip(draft.result.text) ?? draft.result.text;
    if (refs.length > 1) {
      draft.result.from = refs.slice(1);
      draft.result.notes = [...(draft.result.notes ?? []), `${gene} result assembled from the variant Observations ${refs.join(', ')}`];
    }
    drafts.push(draft);
  }
  return drafts;
}
