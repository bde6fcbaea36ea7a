// Haplotype Observations (84414-2): one allele each; two of a gene from one report form the diplotype.
import type { GeneResult } from '../../../domain/facts.js';
import { sortAlleles } from '../alleles.js';
import { geneFor, sourceOf, type Draft, type Entry, type ReadContext } from '../entry.js';
import { clip, isRec, str } from '../json.js';
import { parseValues, valuePresence, valueStrings } from '../values.js';

export interface Haplotype {
  entry: Entry;
  gene: string;
  allele: string;
  hla: boolean;
  text: string;
}

export interface IgnoredObservation {
  /** "Observation/<id>", or a positional description when the item has no usable id */
  reference: string;
  reason: string;
}

export function readHaplotype(e: Entry, ctx: ReadContext): Haplotype | { error: string; genes?: string[] } {
  const g = geneFor(e.obs, undefined);
  if (g && 'error' in g) return g;
  const values = valueStrings(e.obs);
  const parsed = parseValues(e.obs, values, g?.value, ctx);
  if ('error' in parsed) return g ? { ...parsed, genes: [g.value] } : parsed;
  const p = parsed.parsed;
  const gene = g?.value ?? p.gene;
  if (!gene) return { error: 'gene could not be determined' };
  if (p.t === 'allele') return { entry: e, gene, allele: p.allele, hla: false, text: parsed.text };
  if (p.t === 'hla' && valuePresence(e.obs, values) === undefined) return { entry: e, gene, allele: p.allele, hla: true, text: parsed.text };
  return { error: 'haplotype Observation does not carry one allele', genes: [gene] };
}

/** Which report a haplotype belongs to: its specimen, or (without a specimen) its day; undefined when it has neither. */
export function reportKey(e: Entry): string | undefined {
  const specimen = isRec(e.obs.specimen) ? str(e.obs.specimen.reference, 200) : undefined;
  if (specimen) return `specimen:${specimen}`;
  return e.date ? `day:${e.date.slice(0, 10)}` : undefined;
}

/**
 * Two haplotypes of a gene from one report (same specimen; or, without a specimen, the same day) form a diplotype.
 * A haplotype left alone stays a `haplotype` result: not a complete result (the engine says it cannot be used alone).
 */
export function pairHaplotypes(haps: Haplotype[], ctx: ReadContext, ignored: IgnoredObservation[], unreadable: (h: Haplotype, reason: string) => void): Draft[] {
  const groups = new Map<string, Haplotype[]>();
  const singles: Haplotype[] = [];
  for (const h of haps) {
    const report = reportKey(h.entry);
    if (!report) {
      singles.push(h);
      continue;
    }
    const k = `${h.gene}|${report}`;
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
      const newest = Math.max(h1.entry.when ?? -Infinity, h2.entry.when ?? -Infinity);
      drafts.push({
        key: 'diplotype',
        when: Number.isFinite(newest) ? newest : undefined,
        priority: 1,
        refs,
        result: {
          gene: h1.gene,
          diplotype: `${a}/${b}`,
          text: clip(`${h1.text} + ${h2.text}`) ?? '',
          source: sourceOf(first, ctx.opts),
          from: refs.filter((r) => r !== first.ref),
          notes: [`diplotype assembled from the haplotype Observations ${refs.join(' and ')}`],
        },
      });
    } else if (group.length === 1) singles.push(group[0]!);
    else {
      for (const h of group) {
        ignored.push({ reference: h.entry.ref, reason: `${group.length} haplotypes of ${h.gene} from one report cannot be combined into a diplotype` });
        unreadable(h, `${group.length} haplotypes of ${h.gene} from one report cannot be combined into a diplotype`);
      }
    }
  }
  for (const h of singles) {
    const result: GeneResult = h.hla
      ? { gene: h.gene, hla: { allele: h.allele, positive: true }, text: clip(h.text) ?? '', source: sourceOf(h.entry, ctx.opts) }
      : { gene: h.gene, haplotype: h.allele, text: clip(h.text) ?? '', source: sourceOf(h.entry, ctx.opts) };
    drafts.push({ key: h.hla ? `hla:${h.allele}` : `haplotype:${h.entry.ref}`, when: h.entry.when, priority: 0, refs: [h.entry.ref], result });
  }
  return drafts;
}
