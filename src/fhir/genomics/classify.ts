// Which kind of genomic result an Observation is (genotype, haplotype, variant, implication, phenotype, HLA presence,
// or genomic of a kind its value decides), and whether an Observation that cannot be classified is genomic at all.
import { genomicCodeOf, isGeneticsCategory, type ObsKind } from './codes.js';
import { genesMentioned, leadingGene } from './genes.js';
import { ccText, codingsOf, isRec, recordsOf, str, type Rec } from './json.js';

export type Classified = { kind: ObsKind; gene?: string; allele?: string; code?: string; verified?: false } | { error: string; genomic: boolean };

const GENOMIC_WORDS = /\b(?:genotype|diplotype|haplotype|allele|variant|metaboli[sz]er|activity score|pharmacogen\w*|genetic|gene)\b/i;
const IG_PROFILE = /genomics-reporting/i;

/** Signs, apart from Observation.code, that an Observation is a genomic result: the genetics category, an IG profile, a gene component. */
export function looksGenomic(o: Rec): boolean {
  for (const cat of recordsOf(o.category, 10)) if (codingsOf(cat).some(isGeneticsCategory)) return true;
  const meta = isRec(o.meta) ? o.meta : undefined;
  if (Array.isArray(meta?.profile) && meta!.profile.some((p) => typeof p === 'string' && IG_PROFILE.test(p))) return true;
  for (const comp of recordsOf(o.component, 100)) if (codingsOf(comp.code).some((c) => c.code === '48018-6')) return true;
  return false;
}

export function classify(o: Rec): Classified {
  const codes = codingsOf(o.code);
  const kinds = new Set<ObsKind>();
  let gene: string | undefined;
  let allele: string | undefined;
  let unverified: string | undefined;
  for (const c of codes) {
    const def = genomicCodeOf(c);
    if (!def) continue;
    kinds.add(def.kind);
    if (def.gene) gene = def.gene;
    if (def.allele) allele = def.allele;
    if (def.verified === false) unverified = def.code;
  }
  if (kinds.size > 1) return { error: 'Observation.code has codings of different result kinds', genomic: true };
  const [known] = kinds;
  const words = [...codes.map((c) => c.display), ccText(o.code) ?? ''].filter(Boolean);
  if (known && known !== 'generic') return { kind: known, ...(gene ? { gene } : {}), ...(allele ? { allele } : {}), ...(unverified ? { code: unverified, verified: false as const } : {}) };

  // Generic or local codes: recognise by wording.
  for (const w of words) {
    if (/genetic variation'?s effect on drug/i.test(w)) return { kind: 'implication' };
    if (/^HLA-[A-Z]{1,4}\d? ?\* ?\d{2,3}:?\d{2,3}/i.test(w)) return { kind: 'hla-presence' };
    const lg = leadingGene(w);
    if (/\bactivity score\b/i.test(w)) return { kind: 'generic', ...(lg ? { gene: lg.gene } : {}) };
    if (!lg) continue;
    if (/^gene product (?:metabolic activity|functional) interpretation\b|^(?:metabolizer )?phenotype\b|^metabolizer status\b/i.test(lg.rest)) {
      return { kind: 'phenotype', gene: lg.gene };
    }
    if (/^(?:gene )?(?:genotype|diplotype)\b/i.test(lg.rest)) return { kind: 'genotype', gene: lg.gene };
    if (/^(?:gene )?(?:haplotype)\b/i.test(lg.rest)) return { kind: 'haplotype', gene: lg.gene };
    if (/^(?:gene )?(?:variant|mutation)s?\b/i.test(lg.rest)) return { kind: 'generic', gene: lg.gene };
  }
  if (known === 'generic') return { kind: 'generic' };
  const genomic = looksGenomic(o) || words.some((w) => GENOMIC_WORDS.test(w) && genesMentioned(w).size > 0);
  if (genomic) return { kind: 'generic' };
  if (codes.length === 0 && !ccText(o.code)) return { error: 'Observation has no code', genomic: false };
  return { error: 'not a pharmacogenomic result (Observation.code not recognised)', genomic: false };
}

/** Free text of an Observation that may name its gene: code, value, conclusion, narrative (for attributing an unread result). */
export function observationTexts(o: Rec): string[] {
  const out: string[] = [];
  for (const c of codingsOf(o.code)) if (c.display) out.push(c.display);
  const t = ccText(o.code);
  if (t) out.push(t);
  if (isRec(o.valueCodeableConcept)) {
    for (const c of codingsOf(o.valueCodeableConcept)) out.push(c.code, c.display);
    const vt = ccText(o.valueCodeableConcept);
    if (vt) out.push(vt);
  }
  const vs = str(o.valueString, 2000);
  if (vs) out.push(vs);
  for (const comp of recordsOf(o.component, 100)) {
    for (const c of codingsOf(comp.valueCodeableConcept)) out.push(c.code, c.display);
    const s = str(comp.valueString, 2000);
    if (s) out.push(s);
  }
  const narrative = isRec(o.text) ? str(o.text.div, 4000) : undefined;
  if (narrative) out.push(narrative.replace(/<[^<>]{0,200}>/g, ' '));
  return out.filter(Boolean);
}
