// Choosing between results of one gene and kind: the newest is used; results that disagree and cannot be ordered
// (same date, or undated) are all kept, each noting the others, so that the engine can say so and take the more
// cautious one. Results of different kinds (diplotype, phenotype, activity score …) are ranked by the engine, per drug.
import type { GeneResult } from '../../domain/facts.js';
import type { Draft } from './entry.js';
import type { IgnoredObservation } from './readers/haplotype.js';

function sameValue(a: GeneResult, b: GeneResult): boolean {
  return (
    a.diplotype === b.diplotype &&
    a.haplotype === b.haplotype &&
    (a.hla === undefined) === (b.hla === undefined) &&
    a.hla?.allele === b.hla?.allele &&
    a.hla?.positive === b.hla?.positive &&
    a.variant?.genotype === b.variant?.genotype &&
    a.allele === b.allele &&
    a.activityScore === b.activityScore &&
    a.phenotype === b.phenotype
  );
}

const dayOf = (r: GeneResult): string => r.source.date ?? 'undated';

export function choose(drafts: Draft[], ignored: IgnoredObservation[]): GeneResult[] {
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
      // every result that cannot be ranked below another stays: the engine says they disagree and takes the cautious one
      const kept = group.filter((d) => d === chosen || d.when === undefined || d.when === chosen.when);
      const refs = kept.flatMap((d) => d.refs);
      for (const d of kept) {
        const note = `${kept.length} results for ${gene} disagree and none is newer (${refs.join(', ')})`;
        out.push({ ...d.result, notes: [...(d.result.notes ?? []), note] });
      }
      for (const d of group) {
        if (kept.includes(d)) continue;
        for (const ref of d.refs) ignored.push({ reference: ref, reason: `superseded: older than ${refs.join(', ')}` });
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

