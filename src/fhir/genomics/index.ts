// Pharmacogenomic results from FHIR R4 Observations, in every pattern EHRs send (HL7 Genomics Reporting IG STU1,
// STU2, STU3 and the FHIR R4 core examples; see ../shared/reference/fhir-pgx-coding.md and docs/pgx.md).
//
// readGeneResults() is pure, synchronous and never throws. A genomic Observation it cannot interpret is returned in
// `unread` (with the genes it concerns, as far as they can be told): it is on file, and never "no result". Whatever
// else it cannot use goes to `ignored` with a reason. Reasons name Observations, codes and dates but never the
// patient's result values, so they can be logged; `unread[].text` is the value as sent, for the card only.
//
// Decisions on ambiguous input (tested in test/unit/genomics*.test.ts):
// - Two results of the same gene and kind: the newest (effective, else issued) is used and the others are named in a
//   note on it. Results of the same date (or undated) that disagree are all kept, each with a note; the engine says
//   so on the card and takes the more cautious. Results of different kinds are ranked by the engine (newest first).
// - Star alleles are normalised ("CYP2C9 *3/*1" → "*1/*3") and sorted by allele number. Copy-number and tandem
//   notations ("*2x2", "*2xN", "*36+*10") are kept verbatim: they are never expanded or interpreted.
// - Haplotypes: two of a gene from one report (same specimen; without a specimen, the same day) form a diplotype;
//   a haplotype left alone is kept as `haplotype` (the engine reads it against a genotype on file, or as unread).
// - Named-allele genes (DPYD, RYR1, CACNA1S, G6PD, MT-RNR1): src/fhir/genomics/named.ts.
// - SNP genotypes: the strand is decided from the letters (src/fhir/genomics/snp.ts).
// - HLA: "HLA-B*15:02" as the value of a genotype Observation means the allele was found (the IG's
//   GenotypeExample1). Alleles are cut to two fields ("*57:01:01" → "*57:01") unless they carry an expression
//   suffix (N, L, S, Q, C, A), which is kept so that it never matches a CPIC lookup key by accident.
// - A therapeutic implication gets its gene from derivedFrom (resolved against the Observations passed in, or the
//   reference's display), its own gene component, or, failing both, from exactly one PGx gene named in its text.
// - Status: final, amended and corrected are read; preliminary, registered-but-valued and unknown are on file but
//   not final (unread); cancelled and entered-in-error are not results.
import type { Observation } from 'fhir/r4';
import type { GeneResult, UnreadGeneResult } from '../../domain/facts.js';
import { defaultVariantCatalogue } from '../../knowledge/pgxVariants.js';
import { choose } from './choose.js';
import { classify, observationTexts } from './classify.js';
import { genomicCodeOf } from './codes.js';
import { dateOf, sourceOf, type Draft, type Entry, type ReadContext, type ReadGeneResultsOptions, type ReadOutcome } from './entry.js';
import { componentGene, genesMentioned, leadingGene } from './genes.js';
import { clip, codingsOf, isRec, list, OBS_ID, str } from './json.js';
import { snpLookup } from './named.js';
import { readGeneric, readGenotype } from './readers/genotype.js';
import { pairHaplotypes, readHaplotype, type Haplotype, type IgnoredObservation } from './readers/haplotype.js';
import { readHlaPresence } from './readers/hla.js';
import { observationGene, readPhenotypeLike } from './readers/implication.js';
import { assembleNamedCalls, readVariant, type NamedCall } from './readers/variant.js';
import { KNOWN_SNPS } from './snp.js';
import { valueStrings } from './values.js';

export type { ReadGeneResultsOptions } from './entry.js';
export type { IgnoredObservation } from './readers/haplotype.js';
export { hgncId, hgncSymbol } from './genes.js';
export { phenotypeTerm as normalisePhenotype } from './phenotype.js';
export { hlaCarrier, phenotypeForGene, resultForGene, resultsForGene, vkorc1IwpcGenotype, type Vkorc1IwpcGenotype } from './results.js';

export interface GeneResultsReading {
  results: GeneResult[];
  /** genomic results on file that could not be interpreted */
  unread: UnreadGeneResult[];
  ignored: IgnoredObservation[];
}

const USABLE_STATUS = new Set(['final', 'amended', 'corrected']);
/** statuses of an Observation that is not a result (withdrawn or a mistake) */
const NOT_A_RESULT = new Set(['cancelled', 'entered-in-error']);
const MAX_OBSERVATIONS = 2000;

/**
 * Read pharmacogenomic results from Observations (any mixture of IG generations). Non-Observations and
 * unrelated Observations are listed in `ignored` too, so every input is accounted for.
 */
export function readGeneResults(observations: readonly Observation[] | readonly unknown[], opts: ReadGeneResultsOptions = {}): GeneResultsReading {
  const ignored: IgnoredObservation[] = [];
  if (!Array.isArray(observations)) return { results: [], unread: [], ignored: [{ reference: '(input)', reason: 'not a list of Observations' }] };
  try {
    const catalogue = opts.catalogue ?? defaultVariantCatalogue();
    return readAll(observations, { opts, catalogue, snp: snpLookup(catalogue) }, ignored);
  } catch {
    // Defensive only: every reader below is written not to throw.
    return { results: [], unread: [], ignored: [...ignored, { reference: '(input)', reason: 'genomic results could not be read' }] };
  }
}

/** Observations from a Bundle (searchset or prefetch), ignoring other resources and malformed entries. */
export function observationsFromBundle(bundle: unknown): unknown[] {
  if (!isRec(bundle)) return [];
  return list(bundle.entry, MAX_OBSERVATIONS)
    .map((e) => (isRec(e) ? e.resource : undefined))
    .filter((r) => isRec(r) && r.resourceType === 'Observation');
}

const kindRank = (r: GeneResult): number => (r.diplotype ? 0 : r.allele ? 0 : r.hla ? 1 : r.variant ? 2 : r.activityScore ? 3 : r.haplotype ? 4 : 5);

/** The genes an Observation that could not be read is about, as far as its own data tell. */
function genesOf(e: Entry, said: string[] | undefined, byRef: Map<string, Entry>, ctx: ReadContext): string[] {
  const out = new Set<string>(said ?? []);
  const cg = componentGene(e.obs);
  if (cg && 'value' in cg) out.add(cg.value);
  for (const c of codingsOf(e.obs.code)) {
    const def = genomicCodeOf(c);
    if (def?.gene) out.add(def.gene);
  }
  const k = classify(e.obs);
  if ('kind' in k && k.gene) out.add(k.gene);
  for (const s of valueStrings(e.obs)) {
    const lg = leadingGene(s);
    if (lg) out.add(lg.gene);
  }
  const texts = observationTexts(e.obs).join(' ');
  for (const g of genesMentioned(texts)) out.add(g);
  for (const m of texts.matchAll(/(?<![A-Za-z0-9])(rs\d{1,12})(?!\d)/gi)) {
    const rsid = m[1]!.toLowerCase();
    const g = KNOWN_SNPS[rsid]?.gene ?? ctx.catalogue.rsidGenes[rsid];
    if (g) out.add(g);
  }
  if (out.size === 0) {
    const g = observationGene(e.obs, byRef, 0, ctx);
    if (g && 'value' in g) out.add(g.value);
  }
  return [...out].sort();
}

/** The value of an unread Observation as sent, for the card: value text, codings, or the code's display. */
function sentText(e: Entry): string | undefined {
  const o = e.obs;
  const q = isRec(o.valueQuantity) ? o.valueQuantity : undefined;
  const quantity = q && typeof q.value === 'number' ? `${q.value}${typeof q.unit === 'string' ? ` ${q.unit}` : ''}` : undefined;
  const value = valueStrings(o)[0] ?? quantity ?? (typeof o.valueInteger === 'number' ? String(o.valueInteger) : undefined) ?? str(o.valueString);
  const code = codingsOf(o.code).map((c) => c.display).find(Boolean);
  return clip(value && code ? `${code}: ${value}` : (value ?? code), 200);
}

function readAll(items: readonly unknown[], ctx: ReadContext, ignored: IgnoredObservation[]): GeneResultsReading {
  const { opts } = ctx;
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
      if (byRef.has(ref)) {
        ignored.push({ reference: ref, reason: 'the same Observation was supplied twice; the first copy was read' });
        continue;
      }
      byRef.set(ref, entry);
    }
    entries.push(entry);
  }

  const unread: UnreadGeneResult[] = [];
  const markUnread = (e: Entry, reason: string, genes?: string[]) => {
    const u: UnreadGeneResult = { genes: genes ?? [], reason, source: sourceOf(e, opts) };
    try {
      u.genes = genesOf(e, genes, byRef, ctx);
      const text = sentText(e);
      if (text) u.text = text;
    } catch {
      // an Observation whose fields throw when read: on file, genes unknown
    }
    unread.push(u);
  };
  const drafts: Draft[] = [];
  const haplotypes: Haplotype[] = [];
  const calls: NamedCall[] = [];
  for (const e of entries) {
    let outcome: ReturnType<typeof readOne>;
    try {
      outcome = readOne(e, byRef, ctx);
    } catch {
      outcome = { error: 'Observation could not be read' };
    }
    if ('skip' in outcome) ignored.push({ reference: e.ref, reason: outcome.skip });
    else if ('error' in outcome) {
      ignored.push({ reference: e.ref, reason: outcome.error });
      markUnread(e, outcome.error, outcome.genes);
    } else if ('drafts' in outcome) drafts.push(...outcome.drafts);
    else if ('call' in outcome) calls.push(outcome);
    else haplotypes.push(outcome);
  }
  drafts.push(...pairHaplotypes(haplotypes, ctx, ignored, (h, reason) => markUnread(h.entry, reason, [h.gene])));
  drafts.push(...assembleNamedCalls(calls, ctx, ignored, (c, reason) => markUnread(c.entry, reason, [c.gene])));
  const results = choose(drafts, ignored);
  results.sort(
    (a, b) =>
      a.gene.localeCompare(b.gene) ||
      kindRank(a) - kindRank(b) ||
      (a.drugRxNorm ?? '').localeCompare(b.drugRxNorm ?? '') ||
      a.source.reference.localeCompare(b.source.reference),
  );
  return { results, unread, ignored };
}

type OneOutcome = ReadOutcome | Haplotype | NamedCall | { skip: string };

function readOne(e: Entry, byRef: Map<string, Entry>, ctx: ReadContext): OneOutcome {
  const o = e.obs;
  if (ctx.opts.patientId !== undefined) {
    const subject = isRec(o.subject) ? str(o.subject.reference, 300) : undefined;
    const m = subject ? /(?:^|\/)Patient\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]{1,64})?$/.exec(subject) : null;
    if (!m || m[1] !== ctx.opts.patientId) return { skip: 'Observation is not about this patient' };
  }
  const k = classify(o);
  if ('error' in k && !k.genomic) return { skip: k.error };
  if (NOT_A_RESULT.has(e.status)) return { skip: `status ${e.status}: not a result` };
  if (!USABLE_STATUS.has(e.status)) {
    // a genomic result on file that is not final (preliminary, unknown, no status) is said, never dropped silently
    return { error: e.status ? `status ${e.status}: the result is on file but not final` : 'Observation has no status' };
  }
  if ('error' in k) return { error: k.error };
  switch (k.kind) {
    case 'genotype':
      return readGenotype(e, k.gene, ctx);
    case 'haplotype':
      return readHaplotype(e, ctx);
    case 'variant':
      return readVariant(e, ctx);
    case 'hla-presence':
      return readHlaPresence(e, k, ctx);
    case 'implication':
    case 'phenotype':
      return readPhenotypeLike(e, k.kind, k.gene, byRef, ctx);
    case 'generic':
      return readGeneric(e, k.gene, ctx, byRef);
  }
}

