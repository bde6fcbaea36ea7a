// Genotype Observations (84413-4 and genotype wording), and genomic Observations whose kind their value decides.
import { parseActivityScore } from '../alleles.js';
import { draftFromParsed, geneFor, type Entry, type ReadContext, type ReadOutcome } from '../entry.js';
import { ccText, codingsOf, str } from '../json.js';
import { phenotypeOf } from '../phenotype.js';
import { isHlaContext, numericActivityScore, parseValues, valuePresence, valueStrings } from '../values.js';
import { readHlaPresence } from './hla.js';
import { readPhenotypeLike } from './implication.js';

export function readGenotype(e: Entry, hint: string | undefined, ctx: ReadContext): ReadOutcome {
  const g = geneFor(e.obs, hint);
  if (g && 'error' in g) return g;
  const values = valueStrings(e.obs);
  let presence: boolean | undefined;
  if (isHlaContext(values, g?.value)) {
    // "HLA-B*57:01" as text with a coded Negative answer is a negative result, not a carrier
    const p = valuePresence(e.obs, values);
    if (p === 'conflict') return { error: 'value says both positive and negative' };
    presence = p;
  }
  const parsed = parseValues(e.obs, values, g?.value, ctx, presence);
  if ('error' in parsed) return g ? { ...parsed, genes: [g.value] } : parsed;
  const gene = g?.value ?? parsed.parsed.gene;
  if (!gene) return { error: 'gene could not be determined' };
  if (parsed.parsed.t === 'allele') {
    return { error: 'genotype Observation carries a single star allele (not a diplotype)', genes: [gene] };
  }
  return { drafts: [draftFromParsed(e, gene, parsed.parsed, parsed.text, ctx.opts)] };
}

/** The Observation's own words say it is an activity score ("CYP2D6 activity score"). */
const saysActivityScore = (e: Entry): boolean => [...codingsOf(e.obs.code).map((c) => c.display), ccText(e.obs.code) ?? ''].some((w) => /\bactivity score\b/i.test(w));

/**
 * A genomic Observation of no known kind (genetics category, a pre-coordinated or local code): an HLA presence test,
 * an activity score, a genotype or a phenotype, whichever its value is; otherwise it is on file and unread.
 */
export function readGeneric(e: Entry, hint: string | undefined, ctx: ReadContext, byRef: Map<string, Entry>): ReadOutcome {
  const g = geneFor(e.obs, hint);
  if (g && 'error' in g) return g;
  const gene = g?.value;
  const words = [...codingsOf(e.obs.code).map((c) => c.display), ccText(e.obs.code) ?? ''];
  if (words.some((w) => /^HLA-/i.test(w))) return readHlaPresence(e, undefined, ctx);
  if (saysActivityScore(e)) {
    const score = numericActivityScore(e.obs) ?? valueStrings(e.obs).map((s) => parseActivityScore(s, true)).find(Boolean);
    if (!score) return { error: 'activity score Observation has no readable score', ...(gene ? { genes: [gene] } : {}) };
    if (!gene) return { error: 'gene of the activity score could not be determined' };
    return { drafts: [draftFromParsed(e, gene, { t: 'activity', gene, score }, `${gene} activity score ${score}`, ctx.opts)] };
  }
  const values = valueStrings(e.obs);
  const parsed = parseValues(e.obs, values, gene, ctx);
  if (!('error' in parsed)) {
    const pg = gene ?? parsed.parsed.gene;
    if (pg && parsed.parsed.t !== 'allele') return { drafts: [draftFromParsed(e, pg, parsed.parsed, parsed.text, ctx.opts)] };
  }
  const ph = phenotypeOf(e.obs.valueCodeableConcept, e.obs.valueString);
  if (!('error' in ph) && ph.recognised) return readPhenotypeLike(e, 'phenotype', gene, byRef, ctx);
  const sent = values[0] ?? str(e.obs.valueString);
  return { error: sent ? 'the value is not a genotype, phenotype or activity score the service reads' : 'genomic Observation without a value', ...(gene ? { genes: [gene] } : {}) };
}
