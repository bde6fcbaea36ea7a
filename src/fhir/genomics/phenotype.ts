// Phenotypes and therapeutic implications: LOINC answers and lab wording → CPIC terms.
import { LOINC_SYSTEMS, PHENOTYPE_ANSWERS } from './codes.js';
import { canonicalGene } from './genes.js';
import { ccText, clip, codingsOf, isRec, str } from './json.js';

/** Phenotype wording (lower case) → CPIC wording. "Likely"/"Possible" may precede the metabolizer/function terms. */
const PHENOTYPE_TERMS: ReadonlyMap<string, string> = new Map([
  ['ultrarapid metabolizer', 'Ultrarapid Metabolizer'],
  ['rapid metabolizer', 'Rapid Metabolizer'],
  ['normal metabolizer', 'Normal Metabolizer'],
  ['extensive metabolizer', 'Normal Metabolizer'], // pre-2017 term for normal (CPIC term standardisation, Caudle 2017)
  ['intermediate metabolizer', 'Intermediate Metabolizer'],
  ['poor metabolizer', 'Poor Metabolizer'],
  ['increased function', 'Increased Function'],
  ['normal function', 'Normal Function'],
  ['decreased function', 'Decreased Function'],
  ['poor function', 'Poor Function'],
]);
const PHENOTYPE_OTHER: ReadonlyMap<string, string> = new Map([
  ['indeterminate', 'Indeterminate'],
  ['high risk', 'High Risk'],
  ['low risk', 'Low Risk'],
  ['responsive', 'Responsive'],
  ['resistant', 'Resistant'],
  ['um', 'Ultrarapid Metabolizer'],
  ['rm', 'Rapid Metabolizer'],
  ['nm', 'Normal Metabolizer'],
  ['em', 'Normal Metabolizer'],
  ['im', 'Intermediate Metabolizer'],
  ['pm', 'Poor Metabolizer'],
]);


/** Phenotype wording → CPIC term, or undefined. */
export function phenotypeTerm(raw: string): string | undefined {
  let s = str(raw, 120)?.toLowerCase();
  if (!s) return undefined;
  s = s.replace(/_/g, ' ').replace(/metaboli[sz]er/g, 'metabolizer').replace(/ultra[- ]?rapid/g, 'ultrarapid');
  s = s.replace(/^[a-z][a-z0-9-]{1,14} (?=\S)/, (w) => (canonicalGene(w.trim()) ? '' : w));
  s = s.replace(/^(?:predicted )?(?:phenotype|metabolizer status)\s?:\s?/, '').replace(/[.;]$/, '').trim();
  const other = PHENOTYPE_OTHER.get(s);
  if (other) return other;
  const q = /^(likely|possible) (.{3,40})$/.exec(s);
  const core = PHENOTYPE_TERMS.get(q ? (q[2] ?? '') : s);
  if (!core) return undefined;
  return q ? `${q[1] === 'likely' ? 'Likely' : 'Possible'} ${core}` : core;
}

/** Phenotype from a value CodeableConcept (and/or a valueString): code first, text may refine it (Likely/Possible). */
export function phenotypeOf(cc: unknown, valueString: unknown): { phenotype: string; text: string; recognised: boolean } | { error: string } {
  const coded = new Set<string>();
  const worded = new Set<string>();
  const texts: string[] = [];
  for (const c of codingsOf(cc)) {
    const t = (c.system === '' || LOINC_SYSTEMS.has(c.system)) && PHENOTYPE_ANSWERS[c.code];
    if (t) coded.add(t);
    if (c.display) texts.push(c.display);
    const w = c.display ? phenotypeTerm(c.display) : undefined;
    if (w && !t) worded.add(w);
  }
  for (const t of [ccText(cc), str(valueString, 120)]) {
    if (!t) continue;
    texts.push(t);
    const w = phenotypeTerm(t);
    if (w) worded.add(w);
  }
  const all = new Set([...coded, ...worded]);
  const shown = texts[texts.length - 1] ?? texts[0] ?? '';
  if (all.size === 0) {
    const verbatim = clip(isRec(cc) ? cc.text : undefined, 120) ?? clip(valueString, 120) ?? texts[0];
    return verbatim ? { phenotype: verbatim, text: verbatim, recognised: false } : { error: 'no phenotype value' };
  }
  if (all.size === 1) return { phenotype: [...all][0]!, text: shown, recognised: true };
  // a text may refine the coded answer: LA10317-8 Intermediate + "Likely Intermediate Metabolizer"
  const qualified = [...all].filter((t) => /^(?:Likely|Possible) /.test(t));
  if (qualified.length === 1) {
    const base = qualified[0]!.replace(/^(?:Likely|Possible) /, '');
    if ([...all].every((t) => t === qualified[0] || t === base)) return { phenotype: qualified[0]!, text: shown, recognised: true };
  }
  return { error: 'phenotype codes and text disagree' };
}

// ---------------------------------------------------------------------------------------------------------------
// Observation kinds
// ---------------------------------------------------------------------------------------------------------------
