// PGx evaluator: the CPIC row found by the engine → Recommendations (the guidance, and a test suggestion when a
// gene result is missing). Pure apart from the clock value passed in.
//
// Optional fields are added by assignment in their place rather than with `...(cond ? { x } : {})`: the same objects
// (same keys, same order) without an object spread per field, which cost more than the rest of the evaluation.
import type { DraftOrder } from '../../cds/orders.js';
import type { DrugDictionary } from '../../domain/drugs.js';
import type { PatientFacts } from '../../domain/facts.js';
import type { PhenoconversionStep, PhenoconversionTable } from '../../domain/phenoconversion.js';
import type { AlternativeDrug, GeneFinding, Recommendation, RecommendationInput, Severity, UnreadablePgxResult } from '../../domain/recommendation.js';
import type { PgxAction, PgxKnowledge, RecommendationRow } from '../../knowledge/pgx.js';
import { bsaStartingDose } from './bsaDose.js';
import { isPhenoEnzyme } from './phenoconversion.js';
import { evaluatePgxGuidance, type GeneLookup, type MedicationUse, type PgxOutcome } from './engine.js';

export interface PgxSettings {
  informationalCards: boolean;
  cautionCards: boolean;
  suggestTestFor: 'strong' | 'all' | 'none';
  /** guideline sources, the first one leads (src/dosing/pgx/sources.ts); absent: CPIC then DPWG */
  sources?: ('cpic' | 'dpwg')[];
}

export const DEFAULT_PGX_SETTINGS: PgxSettings = { informationalCards: false, cautionCards: true, suggestTestFor: 'strong' };

export interface PgxEvaluationOptions {
  settings: PgxSettings;
  newId: () => string;
  now: Date;
  /** a source's own refinement of the engine's outcome (DPWG: a row for the exact diplotype) */
  adjust?: (outcome: PgxOutcome) => PgxOutcome;
  /** the phenoconversion table (knowledge/phenoconversion.json); absent: the genotype alone decides */
  phenoconversion?: PhenoconversionTable;
}

const KIND: Record<PgxAction, Recommendation['kind']> = { avoid: 'alternative', alternative: 'alternative', dose: 'dose-adjustment', caution: 'info', standard: 'info', none: 'info' };
const SEVERITY: Record<PgxAction, Severity> = { avoid: 'critical', alternative: 'warning', dose: 'warning', caution: 'info', standard: 'info', none: 'info' };
const ACTION_WORDS: Record<PgxAction, string> = {
  avoid: 'avoid',
  alternative: 'consider an alternative',
  dose: 'adjust the dose',
  caution: 'use with caution',
  standard: 'standard dosing',
  none: 'no recommendation',
};

/** Active medications as ingredient lists with their start dates, for "earlier use" populations. */
export function medicationUses(facts: PatientFacts, drugs: DrugDictionary): MedicationUse[] {
  return facts.medications.map((m) => {
    const use = { ingredients: drugs.identify(m.rxnorm, m.text).map((d) => d.ingredient) } as MedicationUse;
    if (m.source.date) use.date = m.source.date;
    use.rxnorm = m.rxnorm;
    use.text = m.text;
    if (m.end) use.end = m.end;
    use.source = m.source;
    return use;
  });
}

const UNREAD_RESULT = 'Result on file could not be interpreted';

function describeLookup(l: GeneLookup): string {
  if (l.basis === 'none') return l.unreadable.length ? `${l.gene}: result on file, not interpreted` : `${l.gene}: no result on file`;
  // the result as the genotype reads it (an interacting drug's change is an input of its own)
  const phenotype = l.phenoconverted ? l.phenoconverted.genotypePhenotype : l.phenotype;
  const score = l.phenoconverted ? l.phenoconverted.genotypeActivityScore : l.activityScore;
  const parts = [l.resultText && l.resultText !== phenotype ? l.resultText : undefined, phenotype, score ? `activity score ${score}` : undefined].filter(Boolean);
  return `${l.gene} ${parts.join(', ')}`;
}

/** "CYP2C19 Poor Metabolizer", "HLA-B *57:01 positive", "DPYD Intermediate Metabolizer (AS 1.0)" */
export function shortFinding(l: GeneLookup): string {
  if (l.phenoconverted) return `${l.gene} ${l.phenotype ?? ''}${l.activityScore ? ` (AS ${l.activityScore})` : ''} with ${l.phenoconverted.by}`;
  if (l.basis === 'none') return l.unreadable.length ? `${l.gene} result not interpreted` : `${l.gene} not tested`;
  return `${l.gene} ${l.phenotype ?? l.key ?? ''}${l.activityScore && l.basis !== 'hla' ? ` (AS ${l.activityScore})` : ''}`.trim();
}

function findings(k: PgxKnowledge, row: RecommendationRow | undefined, lookups: GeneLookup[]): GeneFinding[] {
  return lookups.map((l) => {
    const impl = row?.implications[l.gene];
    const f: GeneFinding = { gene: l.gene, result: l.basis === 'none' ? (l.unreadable.length ? UNREAD_RESULT : 'No result on file') : (l.resultText ?? l.key ?? '') };
    if (l.basis === 'none' && l.unreadable[0]) f.source = l.unreadable[0].source;
    if (l.phenotype) f.phenotype = l.activityScore && l.basis !== 'hla' ? `${l.phenotype} (activity score ${l.activityScore})` : l.phenotype;
    const pc = l.phenoconverted;
    // the genotype's own phenotype is on the phenoconversion line of the card
    if (pc) f.phenotype = `${f.phenotype} with ${pc.by}`;
    if (impl !== undefined) f.implication = k.texts[impl];
    if (l.source) f.source = l.source;
    return f;
  });
}

function inputsOf(lookups: GeneLookup[], outcome: Extract<PgxOutcome, { status: 'matched' | 'no-result' }>): RecommendationInput[] {
  const inputs: RecommendationInput[] = lookups.map((l) => {
    const i: RecommendationInput = { key: `gene:${l.gene}`, label: `${l.gene} result`, value: l.basis === 'none' ? (l.unreadable.length ? 'on file, not interpreted' : 'no result') : describeLookup(l).slice(l.gene.length + 1) };
    const unread = l.basis === 'none' ? l.unreadable[0] : undefined;
    if (l.source) i.source = l.source;
    else if (unread) {
      i.source = unread.source;
      i.note = `could not be interpreted: ${unread.reason}`;
    } else i.note = 'no result on file';
    return i;
  });
  const population: RecommendationInput = { key: 'population', label: 'Guideline population', value: outcome.population.population };
  const source = outcome.population.sources[0];
  if (source) population.source = source;
  else population.note = outcome.population.determined ? 'from the chart' : 'not determined from the chart';
  inputs.push(population);
  for (const st of outcome.phenoconversion) {
    const value = st.resultingPhenotype
      ? `${st.drug} (${st.strength}): ${st.genotypePhenotype ?? 'no result'} → ${st.resultingPhenotype}${st.resultingActivityScore ? ` (activity score ${st.resultingActivityScore})` : ''}`
      : st.effect === 'caution'
        ? `${st.drug} (${st.strength}): caution, ${st.genotypePhenotype ?? 'no result'} kept`
        : `${st.drug} (${st.strength}): also active, a stronger or equal one decides`;
    inputs.push({ key: `phenoconversion:${st.gene}:${st.drug}`, label: `${st.gene} phenoconversion`, value, source: st.medication });
  }
  return inputs;
}

function alternativesFor(k: PgxKnowledge, row: RecommendationRow, population: string, notes: string[]): AlternativeDrug[] {
  const out: AlternativeDrug[] = [];
  for (const name of row.alternatives ?? []) {
    const a = k.alternatives[name];
    if (!a) continue;
    const contra = k.contraindicatedAlternatives.find((c) => c.drug === name);
    if (contra && contra.population === population) {
      notes.push(contra.note);
      continue;
    }
    const alt: AlternativeDrug = { name: a.name, display: a.display };
    if (a.rxcui) alt.rxnorm = a.rxcui;
    if (contra) alt.note = contra.note;
    out.push(alt);
  }
  return out;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Evaluate one ordered drug. Returns [] when the drug has no CPIC table. */
export function evaluatePgx(k: PgxKnowledge, facts: PatientFacts, order: DraftOrder, drug: { ingredient: string; rxcui: string }, medications: MedicationUse[], o: PgxEvaluationOptions): Recommendation[] {
  const engineOutcome = evaluatePgxGuidance(k, {
    drug: drug.ingredient,
    // undefined when not known: the engine then uses the knowledge's code
    drugRxcui: drug.rxcui || undefined,
    genes: facts.genes,
    unread: facts.unreadGenes ?? [],
    conditions: facts.conditions,
    ageYears: facts.ageYears ? facts.ageYears.value : undefined,
    sex: facts.sex?.value,
    medications,
    now: o.now,
    ...(o.phenoconversion ? { phenoconversion: o.phenoconversion } : {}),
  });
  const outcome = o.adjust ? o.adjust(engineOutcome) : engineOutcome;
  if (outcome.status === 'no-guideline') return [];
  const src = k.source ?? 'CPIC';
  const strengthTag = (c: string) => (src === 'CPIC' ? `CPIC ${c}` : src);
  const dk = k.drugs[drug.ingredient]!;
  const gl = k.guidelines[dk.guideline]!;
  const drugRef: Recommendation['drug'] = { name: drug.ingredient };
  if (drug.rxcui) drugRef.rxnorm = drug.rxcui;
  const cpic = { citation: `${src}: ${gl.cpicName ?? gl.name}`, url: gl.url };
  const pubmed = gl.pmids.slice(0, 3).map((p) => ({ citation: `PMID ${p}`, url: `https://pubmed.ncbi.nlm.nih.gov/${p}/` }));
  const method = src === 'CPIC' ? { id: 'cpic-pgx', name: 'CPIC guideline recommendation lookup', version: gl.version } : { id: 'dpwg-pgx', name: 'DPWG guideline recommendation lookup', version: gl.version };
  const out: Recommendation[] = [];
  const lookupNotes: string[] = [];
  for (const l of outcome.lookups) for (const n of l.notes) lookupNotes.push(`${l.gene}: ${n}`);
  // results on file that could not be interpreted, for every card of this drug
  const unreadable: UnreadablePgxResult[] = outcome.lookups.flatMap((l) => l.unreadable.map((u) => ({ gene: l.gene, reason: u.reason, ...(u.text ? { text: u.text } : {}), source: u.source })));
  const pheno: PhenoconversionStep[] = outcome.phenoconversion;
  const phenoNotes = [...new Set(pheno.flatMap((s) => (s.note ? [`${s.drug} (${s.gene}): ${s.note}`] : [])))];
  // never silent: the medications could not be read, so no interacting drug could be looked for
  const medsUnread = o.phenoconversion && outcome.lookups.some((l) => isPhenoEnzyme(l.gene)) && facts.unavailable.some((u) => u.startsWith('medicationRequests') || u.startsWith('medicationStatements'));
  if (medsUnread) phenoNotes.push('the active medications could not be read: interacting drugs that change the phenotype (phenoconversion) were not checked');

  if (outcome.status === 'matched') {
    const row = outcome.row;
    const notes = [...outcome.notes, ...lookupNotes, ...phenoNotes];
    notes.push(...gl.notes);
    const alternatives = alternativesFor(k, row, outcome.population.population, notes);
    const disagreements = outcome.lookups.flatMap((l) => (l.disagreement ? [{ gene: l.gene, text: l.disagreement }] : []));
    // results that disagree always make a card, at least a warning: the data must be reviewed
    const show =
      disagreements.length > 0 || row.action === 'avoid' || row.action === 'alternative' || row.action === 'dose'
        ? true
        : row.action === 'caution' || pheno.length > 0
          ? o.settings.cautionCards
          : o.settings.informationalCards;
    // converted with no genotype on file: the drug interaction decides, not a test result — a warning at most
    const noGenotype = outcome.lookups.some((l) => l.phenoconverted && l.basis === 'none');
    let doseAdjustment: Recommendation['doseAdjustment'];
    if (row.doseFactor !== undefined && row.doseFactorText) {
      doseAdjustment = { factor: row.doseFactor, phrase: row.doseFactorText };
      if (order.currentDose) {
        const from = { value: order.currentDose.value, unit: order.currentDose.unit };
        doseAdjustment.from = from;
        doseAdjustment.to = { value: round2(from.value * row.doseFactor), unit: from.unit };
      }
    }
    // a starting dose per m² (mercaptopurine, NUDT15 Poor Metabolizer): computed from height and weight, or said missing
    const perM2 = row.startingDosePerM2 && !doseAdjustment ? bsaStartingDose(row.startingDosePerM2, facts, order) : undefined;
    if (perM2) {
      notes.push(perM2.note);
      if (perM2.adjustment) doseAdjustment = perM2.adjustment;
    }
    const finding = outcome.lookups.filter((l) => l.basis !== 'none' || l.phenoconverted).map(shortFinding).join(' + ') || outcome.lookups.map(shortFinding).join(' + ');
    const rec = { id: o.newId(), drug: drugRef } as Recommendation;
    if (order.ref) rec.orderRef = order.ref;
    rec.kind = disagreements.length && KIND[row.action] === 'info' ? 'missing-data' : KIND[row.action];
    rec.severity = disagreements.length && SEVERITY[row.action] === 'info' ? 'warning' : SEVERITY[row.action];
    if (noGenotype && rec.severity === 'critical') rec.severity = 'warning';
    rec.headline = disagreements.length
      ? `${drug.ingredient}: ${disagreements.map((d) => d.gene).join('/')} results disagree; the cautious one is used: ${finding} — ${ACTION_WORDS[row.action]} (${strengthTag(row.classification)})`.slice(0, 139)
      : `${drug.ingredient}: ${finding} — ${ACTION_WORDS[row.action]} (${strengthTag(row.classification)})`.slice(0, 139);
    rec.genes = findings(k, row, outcome.lookups);
    rec.inputs = inputsOf(outcome.lookups, outcome);
    rec.missing = [...outcome.missingGenes.map((g) => `${g} result`), ...(perM2?.missing ?? [])];
    rec.method = method;
    rec.evidence = [{ citation: cpic.citation, url: cpic.url, strength: row.classification }, ...pubmed];
    rec.notes = notes;
    if (alternatives.length) rec.alternatives = alternatives;
    if (doseAdjustment) rec.doseAdjustment = doseAdjustment;
    const guideline: NonNullable<Recommendation['guideline']> = {
      id: gl.id,
      name: gl.cpicName ?? gl.name,
      url: gl.url,
      version: gl.version,
      classification: row.classification,
      recommendationId: row.id,
      population: row.population,
    };
    if (outcome.population.reason) guideline.populationReason = outcome.population.reason;
    if (gl.notes.length) guideline.cautions = gl.notes;
    rec.guideline = guideline;
    rec.pgx = { action: row.action, recommendationText: k.texts[row.text] ?? '', showCard: show };
    if (k.source) rec.pgx.source = k.source;
    if (disagreements.length) rec.pgx.disagreements = disagreements;
    if (unreadable.length) rec.pgx.unreadable = unreadable;
    if (pheno.length) rec.pgx.phenoconversion = pheno;
    out.push(rec);
  }

  // A gene-level card (unreadable result, missing result): the same basis as the matched row, one kind apart.
  const geneRec = (genes: string[], kind: Recommendation['kind'], severity: Recommendation['severity'], headline: string, missing: string[], pgx: NonNullable<Recommendation['pgx']>): Recommendation => {
    const rec = { id: o.newId(), drug: drugRef } as Recommendation;
    if (order.ref) rec.orderRef = order.ref;
    rec.kind = kind;
    rec.severity = severity;
    rec.headline = headline.slice(0, 139);
    rec.genes = findings(k, outcome.status === 'matched' ? outcome.row : undefined, outcome.lookups.filter((l) => genes.includes(l.gene)));
    rec.inputs = inputsOf(outcome.lookups, outcome);
    rec.missing = missing;
    rec.method = method;
    rec.evidence = [cpic, ...pubmed];
    rec.notes = [...lookupNotes, ...phenoNotes, ...gl.notes];
    rec.guideline = {
      id: gl.id,
      name: gl.cpicName ?? gl.name,
      url: gl.url,
      version: gl.version,
      classification: genes.map((g) => dk.testStrength[g]).includes('Strong') ? 'Strong' : (dk.testStrength[genes[0]!] ?? 'Optional'),
      recommendationId: outcome.status === 'matched' ? outcome.row.id : 'none',
      population: outcome.population.population,
    };
    if (pheno.length) pgx.phenoconversion = pheno;
    rec.pgx = pgx;
    return rec;
  };

  // A result on file that cannot be interpreted is never "no result": a warning to review it, and no test suggestion.
  if (unreadable.length > 0) {
    const genes = [...new Set(unreadable.map((u) => u.gene))];
    const headline = `${drug.ingredient}: a ${genes.join('/')} result is on file but could not be interpreted — review it before prescribing`;
    out.push(geneRec(genes, 'missing-data', 'warning', headline, genes.map((g) => `an interpretable ${g} result`), { action: 'unreadable', recommendationText: '', showCard: true, unreadable }));
  }

  // A missing gene result: suggest the test when that gene can change this drug's therapy strongly enough.
  const testGenes = outcome.missingGenes.filter((g) => {
    const s = dk.testStrength[g];
    if (!s || o.settings.suggestTestFor === 'none') return false;
    return o.settings.suggestTestFor === 'all' || s === 'Strong';
  });
  if (testGenes.length > 0) {
    const headline = `${drug.ingredient}: no ${testGenes.join('/')} result on file — CPIC guidance depends on it`;
    out.push(geneRec(testGenes, 'test-suggested', 'info', headline, testGenes.map((g) => `${g} result`), { action: 'test', recommendationText: '', showCard: true, testGenes }));
  }
  return out;
}
