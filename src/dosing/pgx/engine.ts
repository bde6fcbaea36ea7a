// CPIC recommendation lookup, pure: gene results → lookup values (src/dosing/pgx/lookup.ts: phenotype / activity
// score / HLA carriage / allele function, newest result first, disagreements and unreadable results kept) →
// population → the one CPIC recommendation row for the ordered drug. No I/O; the knowledge is passed in.
//
// Decisions (each is tested in test/unit/pgx-engine.test.ts and test/unit/pgx-coverage.test.ts):
// - Several lookup values for a gene (a phenotype alone for an activity-score gene, or current results that
//   disagree): if all lead to the same recommendation, that one is used; otherwise the most protective
//   (avoid > alternative > dose > caution > standard > none) is chosen and the reason is stated.
// - A gene with no result uses the lookup value "No Result" where the drug has such rows; otherwise the drug
//   cannot be looked up (the evaluator may suggest the test). A gene whose only results on file could not be
//   interpreted is never "missing": it is reported as unreadable and no test is suggested.
// - Phenoconversion (src/dosing/pgx/phenoconversion.ts): an active interacting drug changes the CYP2D6 / CYP2C19 /
//   CYP2C9 lookup value before the row is chosen (strong inhibitor: Poor Metabolizer, even with no result on file);
//   the genotype's own value is kept on the lookup (phenoconverted) and every step is returned with the outcome.
// - Populations come from conditions, age and earlier use of the drug (knowledge `populations`); when none can be
//   determined the policy's default row is used and the reason is stated.
import type { ConditionFact, GeneResult, SourceRef, UnreadGeneResult } from '../../domain/facts.js';
import type { PhenoconversionStep, PhenoconversionTable } from '../../domain/phenoconversion.js';
import type { PgxAction, PgxKnowledge, PopulationPolicy, RecommendationRow } from '../../knowledge/pgx.js';
import { lookupGene, settleLookup, type GeneLookup } from './lookup.js';
import { isPhenoEnzyme, phenoconvert } from './phenoconversion.js';

export type { GeneLookup, UnreadableResult } from './lookup.js';

export interface MedicationUse {
  ingredients: string[];
  /** when the use started (authoredOn / dateAsserted / effective), ISO date */
  date?: string;
  /** RxNorm codes and text as sent (the phenoconversion table is matched on them too) */
  rxnorm?: string[];
  text?: string;
  /** end of the effective period (MedicationStatement), ISO date */
  end?: string;
  source: SourceRef;
}

export interface PgxInput {
  drug: string;
  drugRxcui?: string;
  genes: readonly GeneResult[];
  /** genomic results on file that could not be read (PatientFacts.unreadGenes) */
  unread?: readonly UnreadGeneResult[];
  /** administrative sex, for X-linked genes (G6PD) */
  sex?: string;
  conditions: readonly ConditionFact[];
  ageYears?: number;
  medications: readonly MedicationUse[];
  now: Date;
  /** the phenoconversion table; absent: the genotype alone decides */
  phenoconversion?: PhenoconversionTable;
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
  | { status: 'matched'; row: RecommendationRow; population: PopulationChoice; lookups: GeneLookup[]; missingGenes: string[]; unreadableGenes: string[]; notes: string[]; phenoconversion: PhenoconversionStep[] }
  | { status: 'no-result'; population: PopulationChoice; lookups: GeneLookup[]; missingGenes: string[]; unreadableGenes: string[]; notes: string[]; phenoconversion: PhenoconversionStep[] };

const ACTION_RANK: Record<PgxAction, number> = { avoid: 5, alternative: 4, dose: 3, caution: 2, standard: 1, none: 0 };
const STRENGTH_RANK: Record<string, number> = { Strong: 3, Moderate: 2, Optional: 1 };

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
  const lookupInput = { results: input.genes, unread: input.unread ?? [], drugRxcui: rxcui, ...(input.sex ? { sex: input.sex } : {}) };
  const lookups = drug.genes.map((gene) => lookupGene(k, gene, lookupInput, allowed.get(gene)!));
  // a gene with a result on file that cannot be read is never "missing": no test suggestion, a review instead
  const missingGenes = lookups.filter((l) => l.basis === 'none' && l.unreadable.length === 0).map((l) => l.gene);
  const unreadableGenes = lookups.filter((l) => l.unreadable.length > 0).map((l) => l.gene);
  const phenoconversion = input.phenoconversion ? convertLookups(k, input.phenoconversion, lookups, allowed, input) : [];
  const candidates = usable.filter((r) => lookups.every((l) => r.lookup[l.gene] === undefined || l.keys.includes(r.lookup[l.gene]!)));
  const notes: string[] = [];
  if (candidates.length === 0) return { status: 'no-result', population, lookups, missingGenes, unreadableGenes, notes, phenoconversion };
  const picked = pickRow(candidates);
  if (picked.note) notes.push(picked.note);
  for (const l of lookups) {
    const key = picked.row.lookup[l.gene];
    if (key !== undefined) settleLookup(l, key);
  }
  return { status: 'matched', row: picked.row, population, lookups, missingGenes, unreadableGenes, notes, phenoconversion };
}

/** Apply the active interacting drugs to the CYP2D6 / CYP2C19 / CYP2C9 lookups (in place); the steps, in gene order. */
function convertLookups(k: PgxKnowledge, table: PhenoconversionTable, lookups: GeneLookup[], allowed: Map<string, ReadonlySet<string>>, input: PgxInput): PhenoconversionStep[] {
  const steps: PhenoconversionStep[] = [];
  for (const l of lookups) {
    const g = k.genes[l.gene];
    // a result on file that could not be read is reviewed first: no conversion is built on it
    if (!g || !isPhenoEnzyme(l.gene) || (l.basis === 'none' && l.unreadable.length > 0)) continue;
    const r = phenoconvert(table, { lookup: l, method: g.method, allowed: allowed.get(l.gene)!, scorePhenotypes: g.scorePhenotypes ?? [], orderedDrug: input.drug, medications: input.medications, now: input.now });
    steps.push(...r.steps);
    if (!r.keys || !r.by) continue;
    const from: NonNullable<GeneLookup['phenoconverted']> = { by: r.by };
    if (l.basis !== 'none' && l.phenotype) from.genotypePhenotype = l.phenotype;
    if (l.basis !== 'none' && l.activityScore) from.genotypeActivityScore = l.activityScore;
    l.phenoconverted = from;
    l.keys = r.keys;
    if (r.phenotype) l.phenotype = r.phenotype;
    if (r.activityScore) l.activityScore = r.activityScore;
    else delete l.activityScore;
    // the genotype's per-key readings no longer describe the key used
    delete l.byKey;
  }
  return steps;
}
