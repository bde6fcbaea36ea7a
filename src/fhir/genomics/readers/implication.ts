// Phenotypes and therapeutic implications (STU1 53040-2, STU2/STU3 therapeutic-implication, pre-coordinated
// phenotype codes): the gene (own component, derivedFrom, or exactly one gene named in the text), the phenotype, the drugs.
import type { GeneResult } from '../../../domain/facts.js';
import { classify } from '../classify.js';
import { isIgCode, isLoinc, RXNORM_SYSTEMS } from '../codes.js';
import { parseActivityScore } from '../alleles.js';
import { draftFromParsed, sourceOf, geneFor, type Draft, type Entry, type ReadContext, type ReadOutcome } from '../entry.js';
import { componentGene, genesMentioned, leadingGene } from '../genes.js';
import { ccText, clip, codingsOf, componentsOf, componentsWith, isRec, list, observationRef, str, type Found, type Rec } from '../json.js';
import { phenotypeOf } from '../phenotype.js';
import { KNOWN_SNPS } from '../snp.js';
import { valueStrings } from '../values.js';

/** Gene of an Observation that a phenotype/implication was derived from. */
export function observationGene(o: Rec, byRef: Map<string, Entry>, depth: number, ctx?: ReadContext): Found<string> {
  const cg = componentGene(o);
  if (cg) return cg;
  for (const s of valueStrings(o)) {
    const lg = leadingGene(s);
    if (lg) return { value: lg.gene };
    const rs = /(?<![A-Za-z0-9])(rs\d{1,12})(?!\d)/i.exec(s);
    const rsid = rs ? rs[1]!.toLowerCase() : undefined;
    const snpGene = rsid ? (KNOWN_SNPS[rsid]?.gene ?? ctx?.catalogue.rsidGenes[rsid]) : undefined;
    if (snpGene) return { value: snpGene };
  }
  const k = classify(o);
  if ('kind' in k && k.gene) return { value: k.gene };
  if ('kind' in k && k.kind === 'implication' && depth < 2) return implicationGene(o, byRef, depth + 1, ctx);
  return undefined;
}

export function implicationGene(o: Rec, byRef: Map<string, Entry>, depth = 0, ctx?: ReadContext): Found<string> {
  const genes = new Set<string>();
  for (const d of list(o.derivedFrom)) {
    if (!isRec(d)) continue;
    const ref = observationRef(d.reference);
    const target = ref ? byRef.get(ref) : undefined;
    if (target) {
      if (target.status === 'entered-in-error') return { error: `derived from ${target.ref}, which was entered in error` };
      const g = observationGene(target.obs, byRef, depth, ctx);
      if (g && 'error' in g) return g;
      if (g) {
        genes.add(g.value);
        continue;
      }
    }
    const display = str(d.display);
    const lg = display ? leadingGene(display) : undefined;
    if (lg) genes.add(lg.gene);
  }
  const own = componentGene(o);
  if (own && 'error' in own) return own;
  if (own) genes.add(own.value);
  if (genes.size === 0) {
    const texts = [ccText(o.code), ccText(o.valueCodeableConcept), str(o.valueString, 2000)];
    for (const c of componentsOf(o)) if (c.codes.some((x) => isIgCode(x, 'conclusion-string'))) texts.push(str(c.raw.valueString, 2000));
    const narrative = isRec(o.text) ? clip(o.text.div, 2000) : undefined;
    if (narrative) texts.push(narrative.replace(/<[^<>]{0,200}>/g, ' '));
    const mentioned = genesMentioned(texts.filter(Boolean).join(' '));
    if (mentioned.size > 1) return { error: `text names several genes (${[...mentioned].join(', ')})` };
    const [m] = mentioned;
    if (m) genes.add(m);
  }
  if (genes.size > 1) return { error: `derived from several genes (${[...genes].sort().join(', ')}): the phenotype cannot be attributed to one gene` };
  const [g] = genes;
  return g ? { value: g } : undefined;
}

const phenoComps = (o: Rec) => componentsWith(o, (c) => isIgCode(c, 'therapeutic-implication', 'predicted-therapeutic-implication') || isLoinc(c, '53040-2'));

export function readPhenotypeLike(e: Entry, kind: 'implication' | 'phenotype', codeGene: string | undefined, byRef: Map<string, Entry>, ctx: ReadContext): ReadOutcome {
  const o = e.obs;
  // gene
  let gene: string | undefined;
  if (kind === 'phenotype') {
    const g = geneFor(o, codeGene);
    if (g && 'error' in g) return g;
    gene = g?.value;
  } else {
    const g = implicationGene(o, byRef, 0, ctx);
    if (g && 'error' in g) return g;
    gene = g?.value;
  }
  if (!gene) return { error: 'gene could not be determined (derivedFrom not among the Observations read, no gene component)' };

  // "Activity score: 0" as the value of a phenotype Observation is an activity score, not a phenotype term
  if (phenoComps(o).length === 0) {
    const score = valueStrings(o).map((v) => parseActivityScore(v, false)).find(Boolean);
    if (score) return { drafts: [draftFromParsed(e, gene, { t: 'activity', gene, score }, `${gene} activity score ${score}`, ctx.opts)] };
  }

  // phenotype: the implication component (STU3/STU2), else the Observation value (STU1, pre-coordinated codes)
  const comps = phenoComps(o);
  let ph: ReturnType<typeof phenotypeOf>;
  if (comps.length > 0) {
    const all = comps.map((c) => phenotypeOf(c.raw.valueCodeableConcept, c.raw.valueString));
    const good = all.filter((p): p is Exclude<typeof p, { error: string }> => !('error' in p));
    if (good.length !== all.length) return all.find((p) => 'error' in p) as { error: string };
    if (new Set(good.map((p) => p.phenotype)).size > 1) return { error: 'several different implications in one Observation' };
    ph = good[0]!;
  } else ph = phenotypeOf(o.valueCodeableConcept, o.valueString);
  if ('error' in ph) return ph;

  // drugs
  const drugs: { code: string; name: string }[] = [];
  for (const comp of componentsWith(o, (c) => isLoinc(c, '51963-7'))) {
    const cc = comp.raw.valueCodeableConcept;
    const rx = codingsOf(cc).find((c) => RXNORM_SYSTEMS.has(c.system) && /^\d{1,10}$/.test(c.code));
    if (!rx) return { error: 'medication assessed (51963-7) has no RxNorm code' };
    if (!drugs.some((d) => d.code === rx.code)) drugs.push({ code: rx.code, name: rx.display || ccText(cc) || `RxNorm ${rx.code}` });
  }
  const drafts: Draft[] = [];
  for (const drug of drugs.length ? drugs.slice(0, 10) : [undefined]) {
    const text = clip(drug ? `${ph.text} (${drug.name})` : ph.text) ?? ph.phenotype;
    const source = sourceOf(e, ctx.opts);
    const result: GeneResult = drug
      ? { gene, phenotype: ph.phenotype, drugRxNorm: drug.code, text, source }
      : { gene, phenotype: ph.phenotype, text, source };
    if (!ph.recognised) result.notes = ['phenotype is not a CPIC term; kept as sent'];
    if (e.status === 'amended' || e.status === 'corrected') result.status = e.status;
    drafts.push({ key: `phenotype:${drug?.code ?? '*'}`, when: e.when, priority: 0, refs: [e.ref], result });
  }
  return { drafts };
}
