// One gene's CPIC lookup value for one drug, from every result on file for that gene: each result is interpreted with
// the CPIC tables; the newest current ones are used (a newer result of any kind supersedes an older one); current
// results that disagree are all kept (the most cautious row is chosen by the engine) and the disagreement is stated;
// results that cannot be interpreted are returned as unreadable, never as "no result". Pure.
//
// Decisions (tested in test/unit/pgx-engine.test.ts, test/unit/genomics-named.test.ts and
// test/integration/genomic-results.test.ts):
// - A diplotype is interpreted with the CPIC tables; a lab-stated phenotype of the same date that agrees is noted,
//   one that disagrees is a disagreement. A diplotype with an allele missing from the CPIC tables gives way to a
//   stated phenotype (noted); alone it is CPIC's Indeterminate / n/a where the drug has such rows, else unreadable.
// - Activity-score genes given only a phenotype: every score with that phenotype is a key (the engine picks one row,
//   or the most protective, and says so).
// - Likely / Possible qualifiers are not a disagreement ("Likely Intermediate Metabolizer" vs "Intermediate Metabolizer").
// - An unreadable result older than the result used is a note; one as new or newer is returned as unreadable.
// - A lone haplotype is checked against a diplotype on file: part of it → noted; not part of it → unreadable.
import type { GeneResult, SourceRef, UnreadGeneResult } from '../../domain/facts.js';
import { resultsForGene } from '../../fhir/genomics/index.js';
import type { GeneKnowledge, PgxKnowledge } from '../../knowledge/pgx.js';
import { alleleAlias, canonicalDiplotype, diplotypeActivity, formatActivity, parseActivity, phenotypeOfActivity, splitDiplotype } from './alleles.js';
import { functionLookup } from './functionRules.js';

/** A result on file for the gene that could not be interpreted for this drug. */
export interface UnreadableResult {
  reason: string;
  text?: string;
  source: SourceRef;
}

/** How one gene was turned into a CPIC lookup value. */
export interface GeneLookup {
  gene: string;
  /** lookup values accepted for this gene (one, unless the results are ambiguous or disagree) */
  keys: string[];
  /** the value finally used (set once a row is chosen) */
  key?: string;
  phenotype?: string;
  /** activity score, for activity-score genes */
  activityScore?: string;
  basis: 'diplotype' | 'variant' | 'phenotype' | 'hla' | 'activity' | 'allele' | 'none';
  /** what the chart says, e.g. "*2/*2", "HLA-B*57:01 positive" */
  resultText?: string;
  source?: SourceRef;
  notes: string[];
  /** current results that disagree: one sentence naming each Observation and what it says */
  disagreement?: string;
  /** results on file that could not be interpreted (and are not older than the result used) */
  unreadable: UnreadableResult[];
  /** an active interacting drug changed the value (src/dosing/pgx/phenoconversion.ts): the genotype's own, and the drug */
  phenoconverted?: { by: string; genotypePhenotype?: string; genotypeActivityScore?: string };
  /** when current results disagree: what each lookup value stands for, so the finding follows the row chosen */
  byKey?: Record<string, { phenotype: string; activityScore?: string; basis: GeneLookup['basis']; resultText: string; source: SourceRef }>;
}

/** Make the lookup describe the result behind the key the row was chosen by (results that disagree). */
export function settleLookup(l: GeneLookup, key: string): void {
  l.key = key;
  const b = l.byKey?.[key];
  if (!b) return;
  l.phenotype = b.phenotype;
  l.basis = b.basis;
  l.resultText = b.resultText;
  l.source = b.source;
  if (b.activityScore) l.activityScore = b.activityScore;
  else delete l.activityScore;
}

interface Interpretation {
  keys: string[];
  phenotype: string;
  activityScore?: string;
  basis: GeneLookup['basis'];
  result: GeneResult;
  resultText: string;
  notes: string[];
  /** an allele is missing from the CPIC tables: the result gives way to a stated phenotype */
  weak?: boolean;
}

export interface LookupInput {
  results: readonly GeneResult[];
  unread: readonly UnreadGeneResult[];
  drugRxcui?: string;
  sex?: string;
}

const qualifierFree = (p: string): string => p.replace(/^(?:Likely|Possible) /i, '').trim().toLowerCase();
const sameTerm = (a: string, b: string): boolean => a.trim().toLowerCase() === b.trim().toLowerCase();
const dayOf = (s: SourceRef): string => (s.date ? s.date.slice(0, 10) : 'undated');
const whenOf = (s: SourceRef): number | undefined => {
  if (!s.date) return undefined;
  const ms = Date.parse(s.date.length === 4 ? `${s.date}-01-01` : s.date.length === 7 ? `${s.date}-01` : s.date);
  return Number.isFinite(ms) ? ms : undefined;
};

const diplotypeIndex = new WeakMap<GeneKnowledge, Map<string, string>>();
function phenotypeByDiplotype(g: GeneKnowledge): Map<string, string> {
  let m = diplotypeIndex.get(g);
  if (!m) {
    m = new Map();
    for (const [p, ds] of Object.entries(g.phenotypes ?? {})) for (const d of ds) m.set(d, p);
    diplotypeIndex.set(g, m);
  }
  return m;
}

function resolveAllele(g: GeneKnowledge, a: string): string | undefined {
  const t = g.alleles ?? {};
  if (a in t) return a;
  const al = g.aliases?.[a] ?? g.aliases?.[alleleAlias(a)];
  return al && al in t ? al : undefined;
}

/** ABCG2-style tables name alleles "rs2231142 reference (G)": map a SNP genotype onto them. */
function diplotypeFromVariant(g: GeneKnowledge, v: NonNullable<GeneResult['variant']>): string | undefined {
  if (v.strand !== 'plus') return undefined;
  const byBase = new Map<string, string>();
  for (const name of Object.keys(g.alleles ?? {})) {
    const m = /^(rs\d+) (?:reference|variant) \(([ACGT])\)$/.exec(name);
    if (m && m[1] === v.rsid) byBase.set(m[2]!, name);
  }
  const bases = v.genotype.split('/');
  if (bases.length !== 2) return undefined;
  const names = bases.map((b) => byBase.get(b));
  return names[0] && names[1] ? canonicalDiplotype(names[0], names[1]) : undefined;
}

/** Lookup values that an activity-score key may match in a drug's rows: the key itself or the "≥" row covering it. */
export function activityKeys(computed: string, allowed: ReadonlySet<string>): string[] {
  if (allowed.has(computed)) return [computed];
  const a = parseActivity(computed);
  if (a === 'n/a') return [];
  let best: { t: number; k: string } | undefined;
  for (const k of allowed) {
    if (!k.startsWith('≥')) continue;
    const t = parseActivity(k);
    if (t !== 'n/a' && t.value <= a.value && (!best || t.value > best.t)) best = { t: t.value, k };
  }
  return best ? [best.k] : [];
}

type Interpreted = Interpretation | { unreadable: string } | undefined;

/** A diplotype → its CPIC key with the gene's tables. */
function fromDiplotype(g: GeneKnowledge, gene: string, r: GeneResult, diplotype: string, basis: GeneLookup['basis'], allowed: ReadonlySet<string>, sex?: string): Interpreted {
  const parts = splitDiplotype(diplotype);
  if (!parts) return { unreadable: `${gene} ${diplotype} is not a diplotype` };
  if (g.method === 'activity') {
    const canon = canonicalDiplotype(parts[0], parts[1]);
    const resolved = parts.map((p) => resolveAllele(g, p) ?? p);
    const ov = g.overrides?.[canon] ?? g.overrides?.[canonicalDiplotype(resolved[0]!, resolved[1]!)];
    const a = ov !== undefined ? parseActivity(ov) : diplotypeActivity(diplotype, g.alleles ?? {}, g.aliases ?? {});
    if (a === undefined) {
      const note = `an allele of ${diplotype} is not in the CPIC allele table, so no activity score can be assigned`;
      const keys = activityKeys('n/a', allowed);
      return keys.length ? { keys, phenotype: 'Indeterminate', basis, result: r, resultText: diplotype, notes: [note], weak: true } : { unreadable: note };
    }
    const key = ov ?? formatActivity(a);
    const keys = activityKeys(key, allowed);
    const phenotype = phenotypeOfActivity(a, g.scorePhenotypes ?? []);
    if (!keys.length) return { unreadable: `${gene} activity score ${key} is not a value this drug's recommendations use` };
    return { keys, phenotype, activityScore: key, basis, result: r, resultText: diplotype, notes: [] };
  }
  if (g.method === 'diplotype') {
    const resolved = parts.map((p) => resolveAllele(g, p));
    if (!resolved[0] || !resolved[1]) {
      const note = `an allele of ${diplotype} is not in the CPIC allele table`;
      return allowed.has('Indeterminate') ? { keys: ['Indeterminate'], phenotype: 'Indeterminate', basis, result: r, resultText: diplotype, notes: [note], weak: true } : { unreadable: note };
    }
    const p = phenotypeByDiplotype(g).get(canonicalDiplotype(resolved[0], resolved[1])) ?? 'Indeterminate';
    if (!allowed.has(p)) return { unreadable: `${gene} ${p} is not a value this drug's recommendations use` };
    return { keys: [p], phenotype: p, basis, result: r, resultText: diplotype, notes: [] };
  }
  if (g.method === 'function') {
    const f = functionLookup(g, gene, parts, sex);
    if ('error' in f) return { unreadable: f.error };
    if (!allowed.has(f.key)) return { unreadable: `${gene} ${f.key} is not a value this drug's recommendations use` };
    return { keys: [f.key], phenotype: f.key, basis, result: r, resultText: diplotype, notes: f.notes };
  }
  return { unreadable: `${gene} results are read as phenotypes; a diplotype cannot be interpreted` };
}

/** One result → its CPIC key(s) for this drug, or why it cannot be interpreted; undefined for HLA (handled apart). */
function interpret(g: GeneKnowledge, gene: string, r: GeneResult, allowed: ReadonlySet<string>, sex: string | undefined): Interpreted {
  if (r.diplotype) return fromDiplotype(g, gene, r, r.diplotype, 'diplotype', allowed, sex);
  if (r.allele) {
    if (g.method !== 'function') return { unreadable: `a single ${gene} allele is not a complete result` };
    const f = functionLookup(g, gene, [r.allele], sex);
    if ('error' in f) return { unreadable: f.error };
    if (!allowed.has(f.key)) return { unreadable: `${gene} ${f.key} is not a value this drug's recommendations use` };
    return { keys: [f.key], phenotype: f.key, basis: 'allele', result: r, resultText: r.text || r.allele, notes: f.notes };
  }
  if (r.variant) {
    const d = diplotypeFromVariant(g, r.variant);
    if (d) {
      const it = fromDiplotype(g, gene, r, d, 'variant', allowed, sex);
      if (it && 'keys' in it) it.resultText = r.text;
      return it;
    }
    return { unreadable: `${gene} ${r.variant.rsid} alone does not give a CPIC ${gene} result` };
  }
  if (r.activityScore) {
    if (g.method !== 'activity') return { unreadable: `${gene} has no CPIC activity score` };
    const a = parseActivity(r.activityScore);
    const keys = activityKeys(r.activityScore, allowed);
    if (a === 'n/a' || !keys.length) return { unreadable: `${gene} activity score ${r.activityScore} is not a value this drug's recommendations use` };
    return { keys, phenotype: phenotypeOfActivity(a, g.scorePhenotypes ?? []), activityScore: r.activityScore, basis: 'activity', result: r, resultText: r.text, notes: [] };
  }
  if (r.phenotype) {
    const p = r.phenotype;
    const base = p.replace(/^(?:Likely|Possible) /, '');
    if (g.method === 'activity') {
      const target = sameTerm(base, 'Indeterminate') ? ['n/a'] : (g.scorePhenotypes ?? []).filter(([, ph]) => sameTerm(ph, base)).map(([key]) => key);
      const keys = [...new Set(target.flatMap((t) => activityKeys(t, allowed)))];
      if (!keys.length) return { unreadable: `stated phenotype "${p}" could not be mapped to a CPIC activity score` };
      const notes = base !== p ? [`"${p}" was read as ${base}`] : [];
      if (keys.length > 1) notes.push(`only the phenotype is on file (no diplotype): ${gene} activity score could be ${keys.join(', ')}`);
      return { keys, phenotype: p, basis: 'phenotype', result: r, resultText: r.text, notes };
    }
    const exact = [...allowed].find((v) => sameTerm(v, p)) ?? [...allowed].find((v) => sameTerm(v, base));
    if (!exact) return { unreadable: `stated phenotype "${p}" is not a CPIC ${gene} term` };
    return { keys: [exact], phenotype: p, basis: 'phenotype', result: r, resultText: r.text, notes: sameTerm(exact, p) ? [] : [`"${p}" was read as ${exact}`] };
  }
  if (r.haplotype) return undefined; // checked against the diplotype below
  return { unreadable: `the ${gene} result on file is not a CPIC ${gene} result` };
}

const unreadOf = (r: GeneResult, reason: string): UnreadableResult => ({ reason, text: r.text, source: r.source });

function noResult(gene: string, allowed: ReadonlySet<string>, notes: string[], unreadable: UnreadableResult[]): GeneLookup {
  return { gene, keys: allowed.has('No Result') ? ['No Result'] : [], basis: 'none', notes, unreadable };
}

/** The genomic results on file for this gene that the reader could not interpret, and those of no known gene. */
function unreadFor(gene: string, unread: readonly UnreadGeneResult[]): UnreadableResult[] {
  return unread.filter((u) => u.genes.length === 0 || u.genes.includes(gene)).map((u) => ({ reason: u.reason, ...(u.text ? { text: u.text } : {}), source: u.source }));
}

function describe(i: Interpretation): string {
  const what = i.activityScore && i.basis !== 'phenotype' ? `${i.resultText} (${i.phenotype}, activity score ${i.activityScore})` : i.resultText && !sameTerm(i.resultText, i.phenotype) ? `${i.resultText} (${i.phenotype})` : i.phenotype;
  return `${i.result.source.reference} (${dayOf(i.result.source)}${i.result.status ? `, ${i.result.status}` : ''}) says ${what}`;
}

/** Turn the patient's results for one gene into the lookup values the drug's rows use. */
export function lookupGene(k: PgxKnowledge, gene: string, input: LookupInput, allowed: ReadonlySet<string>): GeneLookup {
  const g = k.genes[gene];
  const attributed = unreadFor(gene, input.unread.filter((u) => u.genes.length > 0));
  const unattributed = unreadFor(gene, input.unread.filter((u) => u.genes.length === 0));
  if (!g) return noResult(gene, allowed, [`no CPIC table for ${gene}`], attributed);
  const list = resultsForGene(input.results, gene).filter((r) => r.drugRxNorm === undefined || r.drugRxNorm === input.drugRxcui);
  if (g.method === 'hla') return lookupHla(gene, list, allowed, attributed, unattributed);

  const notes: string[] = [];
  const unreadable: UnreadableResult[] = [...attributed];
  const readings: Interpretation[] = [];
  const haplotypes: GeneResult[] = [];
  for (const r of list) {
    const it = interpret(g, gene, r, allowed, input.sex);
    if (it === undefined) haplotypes.push(r);
    else if ('unreadable' in it) unreadable.push(unreadOf(r, it.unreadable));
    else readings.push(it);
  }
  // recency across kinds: the newest dated readings, plus undated ones (they cannot be ordered)
  const byTime = readings.filter((x) => whenOf(x.result.source) !== undefined).sort((a, b) => whenOf(b.result.source)! - whenOf(a.result.source)!);
  const newestDay = byTime[0] ? dayOf(byTime[0].result.source) : undefined;
  let current = readings.filter((x) => newestDay === undefined || whenOf(x.result.source) === undefined || dayOf(x.result.source) === newestDay);
  for (const old of readings.filter((x) => !current.includes(x))) {
    const by = current.filter((c) => c.result.source.date).sort((a, b) => (whenOf(b.result.source) ?? 0) - (whenOf(a.result.source) ?? 0))[0];
    notes.push(`${old.result.source.reference} (${dayOf(old.result.source)}) is superseded by the newer ${by ? `${by.result.source.reference} (${dayOf(by.result.source)}${by.result.status ? `, ${by.result.status}` : ''})` : 'result'}`);
  }
  // an allele missing from the CPIC tables gives way to a stated phenotype
  if (current.some((x) => !x.weak) && current.some((x) => x.weak)) {
    for (const w of current.filter((x) => x.weak)) notes.push(`${w.notes.join('; ')}; the phenotype stated by the lab (${current.find((x) => !x.weak)!.result.source.reference}) is used instead`);
    current = current.filter((x) => !x.weak);
  }
  if (current.length === 0) {
    for (const h of haplotypes) unreadable.push(unreadOf(h, `a single ${gene} haplotype (${h.haplotype}) is on file; the other allele is not reported with it`));
    unreadable.push(...unattributed);
    return noResult(gene, allowed, notes, unreadable);
  }
  // the lead reading: a diplotype (or the one complete allele) first, then activity score, variant, phenotype
  const order: GeneLookup['basis'][] = ['diplotype', 'allele', 'activity', 'variant', 'phenotype'];
  current.sort((a, b) => order.indexOf(a.basis) - order.indexOf(b.basis));
  const lead = current[0]!;
  // the reader's own notes on a result used (variants assumed in trans, heteroplasmy, Observations assembled) go on the card
  for (const x of current) for (const n of [...(x.result.notes ?? []), ...x.notes]) if (!notes.includes(n)) notes.push(n);
  const phenotypes = new Set(current.map((x) => qualifierFree(x.phenotype)));
  let disagreement: string | undefined;
  if (phenotypes.size > 1) {
    disagreement = `The ${gene} results on file disagree: ${current.map(describe).join('; ')}. The more cautious recommendation is used; review the results.`;
  } else if (current.length > 1) {
    const others = current.filter((x) => x !== lead && x.result.source.reference !== lead.result.source.reference);
    if (others.length) notes.push(`${others.map((x) => x.result.source.reference).join(', ')} agree${others.length === 1 ? 's' : ''} (${lead.phenotype})`);
  }
  // lone haplotypes: part of the diplotype used, or not
  const alleles: string[] = lead.basis === 'diplotype' && lead.result.diplotype ? splitDiplotype(lead.result.diplotype) ?? [] : [];
  for (const h of haplotypes) {
    if (alleles.includes(h.haplotype!)) notes.push(`the haplotype ${h.haplotype} (${h.source.reference}) is part of ${lead.result.diplotype}`);
    else unreadable.push(unreadOf(h, `the single ${gene} haplotype ${h.haplotype} does not fit the ${gene} result used (${lead.resultText})`));
  }
  // unread results older than the result used are a note; as new or newer, they must be reviewed
  const used = Math.max(...current.map((x) => whenOf(x.result.source) ?? Number.NEGATIVE_INFINITY));
  const pending = unreadable.filter((u) => (whenOf(u.source) ?? Number.POSITIVE_INFINITY) >= used);
  for (const u of unreadable) if (!pending.includes(u)) notes.push(`an older ${gene} result (${u.source.reference}, ${dayOf(u.source)}) could not be interpreted: ${u.reason}`);
  const keys = [...new Set(current.flatMap((x) => x.keys))];
  const lookup: GeneLookup = { gene, keys, phenotype: lead.phenotype, basis: lead.basis, resultText: lead.resultText, source: lead.result.source, notes, unreadable: pending };
  if (lead.activityScore) lookup.activityScore = lead.activityScore;
  if (disagreement) {
    lookup.disagreement = disagreement;
    lookup.byKey = {};
    for (const x of current) {
      for (const key of x.keys) {
        if (lookup.byKey[key]) continue;
        const b: NonNullable<GeneLookup['byKey']>[string] = { phenotype: x.phenotype, basis: x.basis, resultText: x.resultText, source: x.result.source };
        if (x.activityScore) b.activityScore = x.activityScore;
        lookup.byKey[key] = b;
      }
    }
  }
  return lookup;
}

/** HLA: per allele the drug's rows ask about, the newest answer; same-date answers that disagree → positive (cautious). */
function lookupHla(gene: string, list: GeneResult[], allowed: ReadonlySet<string>, attributed: UnreadableResult[], unattributed: UnreadableResult[]): GeneLookup {
  const alleles = [...new Set([...allowed].map((v) => /^(\*\d{2,3}:\d{2,3}) (?:positive|negative)$/.exec(v)?.[1]).filter((x): x is string => !!x))];
  for (const allele of alleles) {
    const answers: { positive: boolean; r: GeneResult }[] = [];
    for (const r of list) {
      if (r.hla && r.hla.allele === allele) answers.push({ positive: r.hla.positive, r });
      else if (r.diplotype && r.diplotype.includes(':')) answers.push({ positive: r.diplotype.split('/').includes(allele), r });
    }
    if (answers.length === 0) continue;
    const newest = Math.max(...answers.map((a) => whenOf(a.r.source) ?? Number.NEGATIVE_INFINITY));
    const current = answers.filter((a) => (whenOf(a.r.source) ?? Number.NEGATIVE_INFINITY) === newest || whenOf(a.r.source) === undefined);
    const notes = answers.filter((a) => !current.includes(a)).map((a) => `${a.r.source.reference} (${dayOf(a.r.source)}) is superseded by a newer ${gene}${allele} result`);
    const values = new Set(current.map((a) => a.positive));
    const positive = values.has(true);
    const chosen = current.find((a) => a.positive === positive)!;
    const key = `${allele} ${positive ? 'positive' : 'negative'}`;
    const lookup: GeneLookup = { gene, keys: [key], phenotype: key, basis: 'hla', resultText: chosen.r.text, source: chosen.r.source, notes, unreadable: attributed.filter((u) => (whenOf(u.source) ?? Number.POSITIVE_INFINITY) >= newest) };
    if (values.size > 1) {
      const neg = current.find((a) => !a.positive)!;
      lookup.byKey = {
        [key]: { phenotype: key, basis: 'hla', resultText: chosen.r.text, source: chosen.r.source },
        [`${allele} negative`]: { phenotype: `${allele} negative`, basis: 'hla', resultText: neg.r.text, source: neg.r.source },
      };
      lookup.keys = [key];
      lookup.disagreement = `The ${gene}${allele} results on file disagree: ${current.map((a) => `${a.r.source.reference} (${dayOf(a.r.source)}) says ${a.positive ? 'positive' : 'negative'}`).join('; ')}. It is treated as positive (the cautious reading); review the results.`;
    }
    return lookup;
  }
  // an HLA result on file that does not answer the allele this drug needs (another allele's presence test, or a value
  // that names no HLA allele) is never "no result": it is on file, and must be reviewed
  const unanswered = list.map((r) =>
    unreadOf(r, r.hla ? `the ${gene} result on file reports ${r.hla.allele} only, not ${alleles.join(' or ')}, which this drug's recommendation needs` : `the ${gene} result on file names no HLA allele that can be read as ${alleles.join(' or ')} carriage`),
  );
  return noResult(gene, allowed, [], [...attributed, ...unanswered, ...unattributed]);
}
