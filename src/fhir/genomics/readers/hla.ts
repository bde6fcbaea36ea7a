// HLA presence tests: the allele on Observation.code ("HLA-B*58:01 [Presence]", or a presence code of the
// definition), the answer in the value (Positive/Negative, Present/Absent, words).
import { parseHla, presenceWords } from '../alleles.js';
import { PRESENCE_ANSWERS } from '../codes.js';
import { draftFromParsed, geneFor, type Entry, type ReadContext, type ReadOutcome } from '../entry.js';
import { ccText, codingsOf, str } from '../json.js';

/** `fromCode`: the gene and allele the Observation's code stands for in the definition (src/fhir/genomics/codes.ts). */
export function readHlaPresence(e: Entry, fromCode: { gene?: string; allele?: string; code?: string; verified?: false } | undefined, ctx: ReadContext): ReadOutcome {
  const codeWords = [...codingsOf(e.obs.code).map((c) => c.display), ccText(e.obs.code) ?? ''].find((w) => /^HLA-/i.test(w)) ?? '';
  const valueCodes = codingsOf(e.obs.valueCodeableConcept);
  const coded = valueCodes.map((c) => PRESENCE_ANSWERS[c.code]).find((p) => p !== undefined);
  const valueText = [ccText(e.obs.valueCodeableConcept), ...valueCodes.map((c) => c.display), str(e.obs.valueString)].find(Boolean) ?? '';
  const words = presenceWords(valueText);
  const genes = fromCode?.gene ? [fromCode.gene] : undefined;
  if (words === 'both' || (words !== undefined && coded !== undefined && words !== coded)) return { error: 'value says both positive and negative', ...(genes ? { genes } : {}) };
  const presence = words ?? coded;
  if (presence === undefined) return { error: 'HLA test has no positive/negative value', ...(genes ? { genes } : {}) };
  const g = geneFor(e.obs, fromCode?.gene);
  if (g && 'error' in g) return g;
  const allelePart = codeWords.replace(/\b(?:presence|in blood|by .*|\[.*\])/gi, ' ').replace(/\s+/g, ' ').trim();
  let parsed = allelePart ? parseHla(allelePart, g?.value, presence) : undefined;
  if (fromCode?.allele && fromCode.verified === false && !(parsed && 'ok' in parsed && parsed.ok.t === 'hla' && parsed.ok.allele === fromCode.allele)) {
    // an unverified code stands for its allele only when the Observation's own wording names that allele
    return { error: `Observation.code ${fromCode.code ?? ''} is not a verified LOINC code and the Observation does not name ${fromCode.gene}${fromCode.allele} itself`.replace('  ', ' '), ...(genes ? { genes } : {}) };
  }
  if (fromCode?.allele) {
    // the code names the allele; a display that names another one contradicts it
    if (parsed && 'ok' in parsed && parsed.ok.t === 'hla' && parsed.ok.allele !== fromCode.allele) return { error: 'Observation.code and its display name different HLA alleles', ...(genes ? { genes } : {}) };
    if (!parsed || 'error' in parsed) parsed = { ok: { t: 'hla', gene: g?.value ?? fromCode.gene, allele: fromCode.allele, positive: presence } };
  }
  if (!parsed) return { error: 'HLA test names no allele' };
  if ('error' in parsed) return { ...parsed, ...(genes ? { genes } : {}) };
  if (parsed.ok.t !== 'hla' || !parsed.ok.gene) return { error: 'HLA test names no single allele', ...(genes ? { genes } : {}) };
  const label = codeWords || `${parsed.ok.gene}${parsed.ok.allele} [Presence]`;
  return { drafts: [draftFromParsed(e, parsed.ok.gene, parsed.ok, `${label}: ${valueText || (presence ? 'positive' : 'negative')}`, ctx.opts)] };
}
