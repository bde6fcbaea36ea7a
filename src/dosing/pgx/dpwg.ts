// DPWG evaluation for one ordered drug: each DPWG guideline of the drug through the CPIC engine and evaluator (the
// same genotype → phenotype step), with DPWG's own forms: VKORC1 read from the rs9923231 genotype, a row for the exact
// diplotype (allele-count keys) in place of the phenotype row, and genes without a phenotype table (CYP3A4) reported
// as not interpretable.
import type { DraftOrder } from '../../cds/orders.js';
import type { GeneResult, PatientFacts, UnreadGeneResult } from '../../domain/facts.js';
import type { Recommendation } from '../../domain/recommendation.js';
import { vkorc1IwpcGenotype } from '../../fhir/genomics/results.js';
import type { DpwgGuidelineKnowledge, DpwgKnowledge } from '../../knowledge/dpwg.js';
import { canonicalDiplotype, splitDiplotype } from './alleles.js';
import type { MedicationUse, PgxOutcome } from './engine.js';
import { evaluatePgx, type PgxEvaluationOptions } from './evaluator.js';

const VKORC1_KEY: Record<string, string> = { 'G/G': '-1639 GG', 'A/G': '-1639 AG', 'A/A': '-1639 AA' };

/** The patient's facts as DPWG's rows read them: VKORC1 as "-1639 XY", uninterpretable genes' results as unread. */
function dpwgFacts(facts: PatientFacts, entry: DpwgGuidelineKnowledge, uninterpretable: Record<string, string>): PatientFacts {
  const genes: GeneResult[] = facts.genes.filter((g) => g.gene !== 'VKORC1');
  if (entry.guideline.genes.includes('VKORC1')) {
    const v = vkorc1IwpcGenotype(facts.genes);
    if (v) genes.push({ gene: 'VKORC1', phenotype: VKORC1_KEY[v.genotype]!, text: v.result.text, source: v.result.source });
  }
  const unread: UnreadGeneResult[] = [...(facts.unreadGenes ?? [])];
  for (const gene of entry.guideline.genes) {
    const reason = uninterpretable[gene];
    if (!reason) continue;
    for (const r of facts.genes.filter((g) => g.gene === gene)) unread.push({ genes: [gene], reason, text: r.text, source: r.source });
  }
  return { ...facts, genes, unreadGenes: unread };
}

/** A DPWG row for the exact diplotype on file (e.g. CYP2C9 *2/*2) replaces the phenotype row found by the engine. */
function exactDiplotype(entry: DpwgGuidelineKnowledge): (o: PgxOutcome) => PgxOutcome {
  return (o) => {
    if (o.status !== 'matched' || entry.diplotypeRows.size === 0) return o;
    for (const l of o.lookups) {
      // an interacting drug changed the phenotype: the genotype's own diplotype row no longer applies
      if (l.phenoconverted) continue;
      const rows = entry.diplotypeRows.get(l.gene);
      const parts = l.basis === 'diplotype' && l.resultText ? splitDiplotype(l.resultText) : undefined;
      const row = rows && parts ? rows.get(canonicalDiplotype(parts[0], parts[1])) : undefined;
      if (row) return { ...o, row, notes: [...o.notes, `DPWG has a recommendation for ${l.gene} ${row.diplotype!.diplotype} itself; it is used instead of the ${l.phenotype ?? 'phenotype'} row`] };
    }
    return o;
  };
}

/** DPWG recommendations for one drug (one guideline after another); [] when DPWG has no guideline for it. */
export function evaluateDpwg(dk: DpwgKnowledge, facts: PatientFacts, order: DraftOrder, drug: { ingredient: string; rxcui: string }, medications: MedicationUse[], o: PgxEvaluationOptions): Recommendation[] {
  const out: Recommendation[] = [];
  for (const entry of dk.byDrug.get(drug.ingredient) ?? []) {
    const recs = evaluatePgx(entry.k, dpwgFacts(facts, entry, dk.file.uninterpretableGenes), order, drug, medications, { ...o, adjust: exactDiplotype(entry) });
    const gl = entry.guideline;
    for (const r of recs) {
      r.evidence = [{ citation: `DPWG: ${gl.name}, guideline version ${gl.guidelineVersion} (PharmGKB ${gl.id}, data ${gl.dataDate})`, url: gl.pharmgkbUrl, strength: 'N/A' }, ...r.evidence.slice(1)];
      if (r.guideline) r.guideline.classification = 'N/A';
      if (r.pgx) r.pgx.source = 'DPWG';
      // the reason of a gene without a phenotype table is on the result itself; the engine's "no CPIC table" is not news
      r.notes = r.notes.filter((n) => !/: no CPIC table for /.test(n));
    }
    out.push(...recs);
  }
  return out;
}
