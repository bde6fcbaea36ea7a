// CPIC recommendation lookup, pure: gene results → lookup values (phenotype / activity score / HLA carriage) →
// population → the one CPIC recommendation row for the ordered drug. No I/O; the knowledge is passed in.
//
// Decisions (each is tested in test/unit/pgx-engine.test.ts and test/unit/pgx-coverage.test.ts):
// - A diplotype is interpreted with the CPIC tables even when the lab also states a phenotype; a disagreement is
//   noted. A phenotype alone is used when there is no interpretable diplotype.
// - Activity-score genes (CYP2D6, CYP2C9, DPYD) given only a phenotype: every score with that phenotype is a
//   candidate. If all candidates lead to the same recommendation, that one is used; otherwise the most protective
//   (avoid > alternative > dose > caution > standard > none) is chosen and the ambiguity is stated.
// - An allele missing from the CPIC table makes the diplotype uninterpretable: Indeterminate (n/a), with a note.
// - A gene with no result uses the lookup value "No Result" where the drug has such rows; otherwise the drug
//   cannot be looked up (the evaluator may suggest the test).
// - Populations come from conditions, age and earlier use of the drug (knowledge `populations`); when none can be
//   determined the policy's default row is used and the reason is stated.
import type { ConditionFact, GeneResult, SourceRef } from '../../domain/facts.js';
import { phenotypeForGene, resultsForGene } from '../../fhir/genomics/index.js';
import type { GeneKnowledge, PgxAction, PgxKnowledge, PopulationPolicy, RecommendationRow } from '../../knowledge/pgx.js';
import { alleleAlias, canonicalDiplotype, diplotypeActivity, formatActivity, parseActivity, phenotypeOfActivity, splitDiplotype } from './alleles.js';

/** How one gene was turned into a CPIC lookup value. */
export interface GeneLookup {
  gene: string;
  /** lookup values accepted for this gene (one, unless only an ambiguous phenotype is known) */
  keys: string[];
  /** the value finally used (set once a row is chosen) */
  key?: string;
  phenotype?: string;
  /** activity score, for activity-score genes */
  activityScore?: string;
  basis: 'diplotype' | 'variant' | 'phenotype' | 'hla' | 'none';
  /** what the chart says, e.g. "*2/*2", "HLA-B*57:01 positive" */
  resultText?: string;
  source?: SourceRef;
  notes: string[];
}

export interface MedicationUse {
  ingredients: string[];
  /** when the use started (authoredOn / dateAsserted / effective), ISO date */
  date?: string;
  source: SourceRef;
}

export interface PgxInput {
  drug: string;
  drugRxcui?: string;
  genes: readonly GeneResult[];
  conditions: readonly ConditionFact[];
  ageYears?: number;
  medications: readonly MedicationUse[];
  now: Date;
}

export interface PopulationChoice {
  population: string;
  /** why this population: the rule that matched, or the default's reason */
  reason: string;
  determined: boolean;
  sources: SourceRef[];
}

export type PgxOutcome =
  | { status: 'no-guideline' }
  | { status: 'matched'; row: RecommendationRow; population: PopulationChoice; lookups: GeneLookup[]; missingGenes: string[]; notes: string[] }
  | { status: 'no-result'; population: PopulationChoice; lookups: GeneLookup[]; missingGenes: string[]; notes: string[] };

const ACTION_RANK: Record<PgxAction, number> = { avoid: 5, alternative: 4, dose: 3, caution: 2, standard: 1, none: 0 };
const STRENGTH_RANK: Record<string, number> = { Strong: 3, Moderate: 2, Optional: 1 };

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

interface Interpreted {
  key: string;
  phenotype: string;
  activityScore?: string;
  note?: string;
}

/** Diplotype → lookup value with the gene's tables; undefined when the diplotype is not of this gene's kind. */
function interpretDiplotype(g: GeneKnowledge, diplotype: string): Interpreted | undefined {
  const parts = splitDiplotype(diplotype);
  if (!parts) return undefined;
  if (g.method === 'activity') {
    const overrides = g.overrides ?? {};
    const canon = canonicalDiplotype(parts[0], parts[1]);
    const resolved = parts.map((p) => resolveAllele(g, p) ?? p);
    // usually the alleles are already the table's names: no second collation
    const canonResolved = resolved[0] === parts[0] && resolved[1] === parts[1] ? canon : canonicalDiplotype(resolved[0]!, resolved[1]!);
    const ov = overrides[canon] ?? overrides[canonResolved];
    if (ov !== undefined) {
      const a = parseActivity(ov);
      return { key: ov, phenotype: phenotypeOfActivity(a, g.scorePhenotypes ?? []), activityScore: ov };
    }
    const a = diplotypeActivity(diplotype, g.alleles ?? {}, g.aliases ?? {});
    if (a === undefined) return { key: 'n/a', phenotype: 'Indeterminate', note: `an allele of ${diplotype} is not in the CPIC allele table, so no activity score can be assigned` };
    const key = formatActivity(a);
    return { key, phenotype: phenotypeOfActivity(a, g.scorePhenotypes ?? []), activityScore: key };
  }
  if (g.method === 'diplotype') {
    const resolved = parts.map((p) => resolveAllele(g, p));
    if (!resolved[0] || !resolved[1]) return { key: 'Indeterminate', phenotype: 'Indeterminate', note: `an allele of ${diplotype} is not in the CPIC allele table` };
    const p = phenotypeByDiplotype(g).get(canonicalDiplotype(resolved[0], resolved[1])) ?? 'Indeterminate';
    return { key: p, phenotype: p };
  }
  return undefined;
}

/** Lookup values that an activity-score key may match in a drug's rows: the key itself or the "≥" row covering it. */
function activityKeys(computed: string, allowed: ReadonlySet<string>): string[] {
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

function sameTerm(a: string, b: string): boolean {
  return a.trim().toLowerCase() === b.trim().toLowerCase();
}

/** No usable result for the gene: the "No Result" rows where the drug has them. */
function noResult(gene: string, allowed: ReadonlySet<string>, notes: string[]): GeneLookup {
  return { gene, keys: allowed.has('No Result') ? ['No Result'] : [], basis: 'none', notes };
}

/** Turn the patient's results for one gene into the lookup values the drug's rows use. */
export function lookupGene(k: PgxKnowledge, gene: string, results: readonly GeneResult[], allowed: ReadonlySet<string>, drugRxcui?: string): GeneLookup {
  const g = k.genes[gene];
  if (!g) return noResult(gene, allowed, [`no CPIC table for ${gene}`]);
  const list = resultsForGene(results, gene);

  if (g.method === 'hla') {
    const alleles = [...new Set([...allowed].map((v) => /^(\*\d{2,3}:\d{2,3}) (?:positive|negative)$/.exec(v)?.[1]).filter((x): x is string => !!x))];
    for (const allele of alleles) {
      const answers = new Map<boolean, GeneResult>();
      for (const r of list) {
        if (r.hla && r.hla.allele === allele) answers.set(r.hla.positive, r);
        else if (r.diplotype && r.diplotype.includes(':')) answers.set(r.diplotype.split('/').includes(allele), r);
      }
      if (answers.size === 1) {
        const [pos, r] = [...answers.entries()][0]!;
        const key = `${allele} ${pos ? 'positive' : 'negative'}`;
        return { gene, keys: [key], phenotype: key, basis: 'hla', resultText: r.text, source: r.source, notes: [] };
      }
      if (answers.size > 1) return noResult(gene, allowed, [`${gene} results on file disagree about ${allele}; treated as no result`]);
    }
    return noResult(gene, allowed, list.length > 0 ? [`the ${gene} result on file does not report ${alleles.join(' or ')}`] : []);
  }

  const notes: string[] = [];
  const stated = phenotypeForGene(results, gene, drugRxcui);
  if (g.method === 'activity' || g.method === 'diplotype') {
    const withDiplo = list.find((r) => r.diplotype !== undefined);
    const withVariant = list.find((r) => r.variant !== undefined);
    const diplo = withDiplo?.diplotype ?? (withVariant?.variant ? diplotypeFromVariant(g, withVariant.variant) : undefined);
    const from = withDiplo ?? (diplo ? withVariant : undefined);
    if (diplo && from) {
      const it = interpretDiplotype(g, diplo);
      if (it && !(it.phenotype === 'Indeterminate' && it.note && stated)) {
        if (it.note) notes.push(it.note);
        if (stated?.phenotype && !sameTerm(stated.phenotype, it.phenotype) && it.phenotype !== 'Indeterminate') {
          notes.push(`the lab states "${stated.phenotype}" (${stated.source.reference}); the CPIC tables give ${it.phenotype} for ${diplo}, which is used`);
        }
        const keys = g.method === 'activity' ? activityKeys(it.key, allowed) : allowed.has(it.key) ? [it.key] : [];
        if (keys.length === 0) notes.push(`${gene} ${it.key} is not a value this drug's recommendations use`);
        // fields in the order of GeneLookup, the optional one assigned in place (no object spread)
        const lookup = { gene, keys, phenotype: it.phenotype } as GeneLookup;
        if (it.activityScore) lookup.activityScore = it.activityScore;
        lookup.basis = withDiplo ? 'diplotype' : 'variant';
        lookup.resultText = withDiplo ? diplo : from.text;
        lookup.source = from.source;
        lookup.notes = notes;
        return lookup;
      }
      if (it?.note) notes.push(`${it.note}; the phenotype stated by the lab is used instead`);
    }
  }

  if (stated?.phenotype) {
    const p = stated.phenotype;
    const base = p.replace(/^(?:Likely|Possible) /, '');
    const common = { gene, phenotype: p, basis: 'phenotype' as const, resultText: stated.text, source: stated.source };
    if (g.method === 'activity') {
      const target = sameTerm(base, 'Indeterminate') ? ['n/a'] : (g.scorePhenotypes ?? []).filter(([, ph]) => sameTerm(ph, base)).map(([key]) => key);
      const keys = [...new Set(target.flatMap((t) => activityKeys(t, allowed)))];
      if (keys.length === 0) return noResult(gene, allowed, [...notes, `stated phenotype "${p}" could not be mapped to a CPIC activity score; treated as no result`]);
      if (base !== p) notes.push(`"${p}" was read as ${base}`);
      if (keys.length > 1) notes.push(`only the phenotype is on file (no diplotype): ${gene} activity score could be ${keys.join(', ')}`);
      return { ...common, keys, notes };
    }
    const exact = [...allowed].find((v) => sameTerm(v, p)) ?? [...allowed].find((v) => sameTerm(v, base));
    if (exact) {
      if (!sameTerm(exact, p)) notes.push(`"${p}" was read as ${exact}`);
      return { ...common, keys: [exact], notes };
    }
    return noResult(gene, allowed, [...notes, `stated phenotype "${p}" is not a CPIC ${gene} term; treated as no result`]);
  }
  return noResult(gene, allowed, notes);
}

function conditionMatches(c: ConditionFact, rule: NonNullable<PolicyRule['conditions']>): boolean {
  for (const code of c.codes) {
    const sys = (code.system ?? '').toLowerCase();
    const value = (code.code ?? '').toUpperCase();
    if (!value) continue;
    if (sys.includes('icd-10') || sys.includes('icd10')) {
      const v = value.replace(/\./g, '');
      if (icd10Prefixes(rule).some((p) => v.startsWith(p))) return true;
    }
    if (sys.includes('snomed') && rule.snomed.includes(value)) return true;
  }
  const text = [c.text, ...c.codes.map((x) => x.display ?? '')].join(' | ').toLowerCase();
  return rule.words.some((w) => wholeWord(w).test(text));
}

/** A rule's ICD-10 prefixes without dots, upper case: normalised once per rule (knowledge, not patient data). */
const normalisedPrefixes = new WeakMap<NonNullable<PolicyRule['conditions']>, string[]>();
function icd10Prefixes(rule: NonNullable<PolicyRule['conditions']>): string[] {
  let p = normalisedPrefixes.get(rule);
  if (!p) {
    p = rule.icd10Prefixes.map((x) => x.replace(/\./g, '').toUpperCase());
    normalisedPrefixes.set(rule, p);
  }
  return p;
}

/** Whole-word matcher for a knowledge word, compiled once (the words come from the knowledge files: a bounded set). */
const wholeWords = new Map<string, RegExp>();
function wholeWord(w: string): RegExp {
  let re = wholeWords.get(w);
  if (!re) {
    re = new RegExp(`(^|[^a-z])${w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z]|$)`);
    wholeWords.set(w, re);
  }
  return re;
}
type PolicyRule = PopulationPolicy['rules'][number];

/** The recommendation population for this patient, with the reason. */
export function choosePopulation(k: PgxKnowledge, drug: string, input: Pick<PgxInput, 'conditions' | 'ageYears' | 'medications' | 'now'>): PopulationChoice {
  const pops = k.drugs[drug]?.populations ?? [];
  const policy = k.populations[drug];
  if (!policy) return { population: pops[0] ?? 'general', reason: '', determined: true, sources: [] };
  for (const rule of policy.rules) {
    if (rule.conditions) {
      const hits = input.conditions.filter((c) => conditionMatches(c, rule.conditions!));
      if (hits.length > 0) return { population: rule.population, reason: `${rule.label}: ${hits.map((h) => h.text || h.source.reference).slice(0, 3).join('; ')}`, determined: true, sources: hits.map((h) => h.source) };
      continue;
    }
    if (rule.ageBelow !== undefined || rule.ageAtLeast !== undefined) {
      if (input.ageYears === undefined) continue;
      if (rule.ageBelow !== undefined && !(input.ageYears < rule.ageBelow)) continue;
      if (rule.ageAtLeast !== undefined && !(input.ageYears >= rule.ageAtLeast)) continue;
      return { population: rule.population, reason: `${rule.label} (${input.ageYears} years)`, determined: true, sources: [] };
    }
    if (rule.priorUseOf) {
      const limit = input.now.getTime() - (rule.priorUseDays ?? 90) * 86400000;
      const hits = input.medications.filter((m) => m.ingredients.some((i) => rule.priorUseOf!.includes(i)) && m.date !== undefined && Date.parse(m.date) <= limit);
      if (hits.length > 0) return { population: rule.population, reason: `${rule.label} (${hits.map((h) => `${h.source.reference}, ${h.date!.slice(0, 10)}`).join('; ')})`, determined: true, sources: hits.map((h) => h.source) };
    }
  }
  return { population: policy.default, reason: policy.defaultReason, determined: policy.rules.length === 0, sources: [] };
}

/** Pick one row from candidates: identical recommendations → the first; otherwise the most protective. */
function pickRow(rows: RecommendationRow[]): { row: RecommendationRow; note?: string } {
  if (rows.length === 1) return { row: rows[0]! };
  const same = rows.every((r) => r.text === rows[0]!.text && r.classification === rows[0]!.classification);
  if (same) return { row: rows[0]!, note: 'every activity score possible for the stated phenotype leads to the same recommendation' };
  const sorted = [...rows].sort((a, b) => ACTION_RANK[b.action] - ACTION_RANK[a.action] || (STRENGTH_RANK[b.classification] ?? 0) - (STRENGTH_RANK[a.classification] ?? 0));
  const first = sorted[0]!;
  return { row: first, note: `the stated phenotype allows ${rows.length} CPIC rows with different recommendations; the most protective one (${first.action}, ${first.classification}) is shown; the diplotype from the lab report would settle it` };
}

/** A drug's rows for one population, indexed once from the knowledge (never from patient data). */
interface PopulationRows {
  /** per gene of the drug: the lookup values these rows use */
  allowed: Map<string, ReadonlySet<string>>;
  /** the rows, in knowledge order, that name no gene outside the drug's genes (the only ones that can match) */
  usable: RecommendationRow[];
}
const populationIndex = new WeakMap<readonly RecommendationRow[], { genes: readonly string[]; byPopulation: Map<string, PopulationRows> }>();
function populationRows(rows: readonly RecommendationRow[], genes: readonly string[], population: string): PopulationRows {
  let index = populationIndex.get(rows);
  if (!index || index.genes !== genes) {
    index = { genes, byPopulation: new Map() };
    populationIndex.set(rows, index);
  }
  let p = index.byPopulation.get(population);
  if (!p) {
    const popRows = rows.filter((r) => r.population === population);
    p = {
      allowed: new Map(genes.map((gene) => [gene, new Set(popRows.map((r) => r.lookup[gene]).filter((v): v is string => v !== undefined))])),
      usable: popRows.filter((r) => Object.keys(r.lookup).every((g) => genes.includes(g))),
    };
    index.byPopulation.set(population, p);
  }
  return p;
}

/** The CPIC recommendation for `drug` given the patient's results and context. */
export function evaluatePgxGuidance(k: PgxKnowledge, input: PgxInput): PgxOutcome {
  const drug = k.drugs[input.drug];
  const rows = k.byDrug.get(input.drug);
  if (!drug || !rows || rows.length === 0) return { status: 'no-guideline' };
  const population = choosePopulation(k, input.drug, input);
  const { allowed, usable } = populationRows(rows, drug.genes, population.population);
  const rxcui = input.drugRxcui ?? drug.rxcui;
  const lookups = drug.genes.map((gene) => lookupGene(k, gene, input.genes, allowed.get(gene)!, rxcui));
  const missingGenes = lookups.filter((l) => l.basis === 'none').map((l) => l.gene);
  const candidates = usable.filter((r) => lookups.every((l) => r.lookup[l.gene] === undefined || l.keys.includes(r.lookup[l.gene]!)));
  const notes: string[] = [];
  if (candidates.length === 0) return { status: 'no-result', population, lookups, missingGenes, notes };
  const picked = pickRow(candidates);
  if (picked.note) notes.push(picked.note);
  for (const l of lookups) {
    const key = picked.row.lookup[l.gene];
    if (key !== undefined) l.key = key;
  }
  return { status: 'matched', row: picked.row, population, lookups, missingGenes, notes };
}
