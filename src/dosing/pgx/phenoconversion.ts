// Drug-induced phenoconversion, pure: the genotype-derived lookup value of CYP2D6 / CYP2C19 / CYP2C9 and the
// patient's active interacting drugs (knowledge/phenoconversion.json) → the lookup value the guideline row is found
// with, and one step per interacting drug saying what it changed and why. No I/O; the table and the clock are passed.
//
// Rules (docs/pgx.md, Phenoconversion; tested in test/unit/phenoconversion.test.ts):
// - Only active medications count: the facts keep MedicationRequests and MedicationStatements of status active
//   (src/fhir/facts.ts); a statement whose effective period ended before now does not count.
// - The ordered drug never converts its own metabolism (paroxetine ordered: a paroxetine on file is not an inhibitor
//   of the paroxetine row).
// - Strong inhibitor: activity score x 0 (Poor Metabolizer), CYP2C19 (no activity score): Poor Metabolizer; with no
//   result on file too ("whatever the genotype"). Moderate: the table's factor (CYP2D6 x 0.5), rounded down to a CPIC
//   0.25 step, or a caution where no adjustment is documented. Inducers: a caution only.
// - Several converting drugs: the strongest (lowest factor) is used; the others are listed as also active.
import type { SourceRef } from '../../domain/facts.js';
import { PHENO_ENZYMES, type PhenoconversionRow, type PhenoconversionStep, type PhenoconversionTable, type PhenoEnzyme } from '../../domain/phenoconversion.js';
import { formatActivity, parseActivity, phenotypeOfActivity } from './alleles.js';
import { activityKeys } from './lookup.js';

/** A medication on file as the evaluator reads it (src/dosing/pgx/evaluator.ts medicationUses). */
export interface MedicationOnFile {
  /** ingredients recognised by the drug dictionary */
  ingredients: readonly string[];
  rxnorm?: readonly string[];
  text?: string;
  /** end of the effective period (MedicationStatement), ISO date */
  end?: string;
  source: SourceRef;
}

/** The genotype-derived lookup of one gene (src/dosing/pgx/lookup.ts GeneLookup, the fields used here). */
export interface GenotypeLookup {
  gene: string;
  keys: readonly string[];
  phenotype?: string;
  activityScore?: string;
  /** what the chart says, e.g. "*1/*1" */
  resultText?: string;
  /** 'none': no result on file */
  basis: string;
}

export interface ConversionInput {
  lookup: GenotypeLookup;
  /** how the gene's results are read: 'activity' (CYP2D6, CYP2C9) or phenotype terms (CYP2C19) */
  method: string;
  /** the lookup values the ordered drug's rows use for this gene */
  allowed: ReadonlySet<string>;
  /** CPIC activity score → phenotype table of the gene */
  scorePhenotypes: readonly (readonly [string, string])[];
  /** the ordered drug (ingredient) */
  orderedDrug: string;
  medications: readonly MedicationOnFile[];
  now: Date;
}

export interface ConversionResult {
  /** the lookup values to use instead of the genotype's; absent: the genotype's are kept */
  keys?: string[];
  phenotype?: string;
  activityScore?: string;
  /** the interacting drug that changed the phenotype */
  by?: string;
  steps: PhenoconversionStep[];
}

export const isPhenoEnzyme = (gene: string): gene is PhenoEnzyme => (PHENO_ENZYMES as readonly string[]).includes(gene);

const wholeWords = new Map<string, RegExp>();
function mentions(text: string, word: string): boolean {
  let re = wholeWords.get(word);
  if (!re) {
    re = new RegExp(`(^|[^a-z])${word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z]|$)`);
    wholeWords.set(word, re);
  }
  return re.test(text);
}

function matches(row: PhenoconversionRow, m: MedicationOnFile): boolean {
  if (m.ingredients.includes(row.drug)) return true;
  if (row.rxcui !== undefined && m.rxnorm?.includes(row.rxcui)) return true;
  const t = (m.text ?? '').toLowerCase().slice(0, 1000);
  return t !== '' && row.synonyms.some((s) => mentions(t, s));
}

/** Is the medication active now (its effective period, when stated, has not ended)? */
function activeNow(m: MedicationOnFile, now: Date): boolean {
  if (!m.end) return true;
  const end = Date.parse(m.end.length === 10 ? `${m.end}T23:59:59Z` : m.end);
  return !Number.isFinite(end) || end >= now.getTime();
}

/** The active interacting drugs of `gene` on file, the ordered drug excluded; one per table row (the first medication). */
export function activeInteractions(t: PhenoconversionTable, gene: string, orderedDrug: string, medications: readonly MedicationOnFile[], now: Date): { row: PhenoconversionRow; medication: SourceRef }[] {
  const out: { row: PhenoconversionRow; medication: SourceRef }[] = [];
  for (const row of t.rows) {
    if (row.enzyme !== gene || row.drug === orderedDrug) continue;
    const m = medications.find((x) => activeNow(x, now) && matches(row, x));
    if (m) out.push({ row, medication: m.source });
  }
  return out;
}

function who(row: PhenoconversionRow, medication: SourceRef): string {
  const what = row.strength === 'inducer' ? `${row.enzyme} inducer` : `${row.strength} ${row.enzyme} inhibitor`;
  return `${row.drug} (${what}, ${medication.reference})`;
}
const described = (phenotype: string | undefined, as: string | undefined): string => `${phenotype ?? 'unknown'}${as ? ` (activity score ${as})` : ''}`;

/** Activity × factor, rounded down to a CPIC 0.25 step (the lower activity: the cautious reading). */
function scaled(key: string, factor: number): string | undefined {
  const a = parseActivity(key);
  if (a === 'n/a') return undefined;
  const v = Math.floor((a.value * factor + 1e-9) * 4) / 4;
  return formatActivity({ value: v, atLeast: a.atLeast && factor > 0 });
}

/** The phenotype the ordered drug's guideline row is looked up with, given the active interacting drugs. */
export function phenoconvert(t: PhenoconversionTable, input: ConversionInput): ConversionResult {
  const { lookup: l } = input;
  if (!isPhenoEnzyme(l.gene)) return { steps: [] };
  const active = activeInteractions(t, l.gene, input.orderedDrug, input.medications, input.now);
  if (active.length === 0) return { steps: [] };
  const gene = l.gene;
  const noResult = l.basis === 'none';
  const genotype = noResult ? undefined : { phenotype: l.phenotype, as: l.activityScore, text: l.resultText && l.resultText !== l.phenotype ? l.resultText : undefined };
  const fromGenotype = genotype ? `${gene} ${genotype.text ? `${genotype.text}, ` : ''}${described(genotype.phenotype, genotype.as)}` : '';
  const sourcesOf = (row: PhenoconversionRow) => row.sources.map((id) => t.sources.find((s) => s.id === id)!).map((s) => ({ citation: s.citation, url: s.url }));
  const step = (row: PhenoconversionRow, medication: SourceRef, text: string, effect: PhenoconversionStep['effect'], resulting?: { phenotype: string; as?: string }): PhenoconversionStep => {
    const s: PhenoconversionStep = { gene, drug: row.drug, strength: row.strength, effect, medication, text, sources: sourcesOf(row) };
    if (genotype?.text) s.genotype = genotype.text;
    if (genotype?.phenotype) s.genotypePhenotype = genotype.phenotype;
    if (genotype?.as) s.genotypeActivityScore = genotype.as;
    if (resulting) {
      s.resultingPhenotype = resulting.phenotype;
      if (resulting.as) s.resultingActivityScore = resulting.as;
    }
    if (row.note) s.note = row.note;
    return s;
  };
  const caution = (row: PhenoconversionRow, medication: SourceRef, why: string) =>
    step(row, medication, `${who(row, medication)} is active: ${why}; the ${noResult ? 'guidance without a result' : `genotype phenotype (${fromGenotype})`} is used — use with caution.`, 'caution');

  // the converting drug: the lowest factor (a Poor Metabolizer effect counts as 0)
  const factorOf = (row: PhenoconversionRow) => (row.effect.kind === 'activity-factor' ? row.effect.factor : row.effect.kind === 'poor-metabolizer' ? 0 : undefined);
  const converting = active.filter((a) => factorOf(a.row) !== undefined).sort((a, b) => factorOf(a.row)! - factorOf(b.row)!);
  const lead = converting[0];
  const steps: PhenoconversionStep[] = [];
  const result: ConversionResult = { steps };
  if (lead) {
    const f = factorOf(lead.row)!;
    let keys: string[] = [];
    let phenotype: string | undefined;
    let as: string | undefined;
    if (input.method === 'activity') {
      const base = f === 0 ? ['0.0'] : noResult ? [] : l.keys.filter((k) => k !== 'n/a').map((k) => scaled(k, f)).filter((k): k is string => !!k);
      keys = [...new Set(base.flatMap((k) => activityKeys(k, input.allowed)))];
      const phenotypes = [...new Set(base.map((k) => phenotypeOfActivity(parseActivity(k), input.scorePhenotypes)))];
      phenotype = phenotypes.join(' or ');
      as = base.length === 1 ? base[0] : undefined;
    } else if (f === 0 && input.allowed.has('Poor Metabolizer')) {
      keys = ['Poor Metabolizer'];
      phenotype = 'Poor Metabolizer';
    }
    if (keys.length > 0 && phenotype) {
      const to = described(phenotype, as);
      const how = lead.row.effect.kind === 'activity-factor' && f > 0 ? ` (activity score x ${f}, rounded down to a 0.25 step)` : '';
      const text = noResult
        ? `${who(lead.row, lead.medication)} is active: the patient behaves as a ${gene} ${to} whatever the genotype (no ${gene} result on file).`
        : `${who(lead.row, lead.medication)} is active: ${fromGenotype} from the genotype is treated as ${gene} ${to}${how}.`;
      steps.push(step(lead.row, lead.medication, text, lead.row.effect.kind, as ? { phenotype, as } : { phenotype }));
      Object.assign(result, { keys, phenotype, by: lead.row.drug }, as ? { activityScore: as } : {});
    } else {
      const why = noResult
        ? `without a ${gene} result the effect on the phenotype cannot be computed`
        : keys.length === 0 && phenotype === ''
          ? `the genotype gives no ${gene} activity score to adjust (${l.phenotype ?? 'Indeterminate'}), so the effect cannot be computed`
          : `the converted ${gene} activity is not a value this drug's recommendations use`;
      steps.push(caution(lead.row, lead.medication, why));
    }
  }
  for (const a of active) {
    if (a === lead) continue;
    if (factorOf(a.row) !== undefined) steps.push(step(a.row, a.medication, `${who(a.row, a.medication)} is also active; the effect of ${lead!.row.drug}, as strong or stronger, is used.`, a.row.effect.kind));
    else steps.push(caution(a.row, a.medication, a.row.strength === 'inducer' ? `${gene} metabolism may be faster than the genotype predicts (no documented phenotype adjustment)` : `it may lower ${gene} activity (no documented phenotype adjustment)`));
  }
  return result;
}
