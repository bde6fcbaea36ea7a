// PGx evaluator: the CPIC row found by the engine → Recommendations (the guidance, and a test suggestion when a
// gene result is missing). Pure apart from the clock value passed in.
import type { DraftOrder } from '../../cds/orders.js';
import type { DrugDictionary } from '../../domain/drugs.js';
import type { PatientFacts } from '../../domain/facts.js';
import type { AlternativeDrug, GeneFinding, Recommendation, RecommendationInput, Severity } from '../../domain/recommendation.js';
import type { PgxAction, PgxKnowledge, RecommendationRow } from '../../knowledge/pgx.js';
import { evaluatePgxGuidance, type GeneLookup, type MedicationUse, type PgxOutcome } from './engine.js';

export interface PgxSettings {
  informationalCards: boolean;
  cautionCards: boolean;
  suggestTestFor: 'strong' | 'all' | 'none';
}

export const DEFAULT_PGX_SETTINGS: PgxSettings = { informationalCards: false, cautionCards: true, suggestTestFor: 'strong' };

export interface PgxEvaluationOptions {
  settings: PgxSettings;
  newId: () => string;
  now: Date;
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
  return facts.medications.map((m) => ({
    ingredients: drugs.identify(m.rxnorm, m.text).map((d) => d.ingredient),
    ...(m.source.date ? { date: m.source.date } : {}),
    source: m.source,
  }));
}

function describeLookup(l: GeneLookup): string {
  if (l.basis === 'none') return `${l.gene}: no result on file`;
  const parts = [l.resultText && l.resultText !== l.phenotype ? l.resultText : undefined, l.phenotype, l.activityScore ? `activity score ${l.activityScore}` : undefined].filter(Boolean);
  return `${l.gene} ${parts.join(', ')}`;
}

/** "CYP2C19 Poor Metabolizer", "HLA-B *57:01 positive", "DPYD Intermediate Metabolizer (AS 1.0)" */
export function shortFinding(l: GeneLookup): string {
  if (l.basis === 'none') return `${l.gene} not tested`;
  return `${l.gene} ${l.phenotype ?? l.key ?? ''}${l.activityScore && l.basis !== 'hla' ? ` (AS ${l.activityScore})` : ''}`.trim();
}

function findings(k: PgxKnowledge, row: RecommendationRow | undefined, lookups: GeneLookup[]): GeneFinding[] {
  return lookups.map((l) => {
    const impl = row?.implications[l.gene];
    return {
      gene: l.gene,
      result: l.basis === 'none' ? 'No result on file' : (l.resultText ?? l.key ?? ''),
      ...(l.phenotype ? { phenotype: l.activityScore && l.basis !== 'hla' ? `${l.phenotype} (activity score ${l.activityScore})` : l.phenotype } : {}),
      ...(impl !== undefined ? { implication: k.texts[impl] } : {}),
      ...(l.source ? { source: l.source } : {}),
    };
  });
}

function inputsOf(lookups: GeneLookup[], outcome: Extract<PgxOutcome, { status: 'matched' | 'no-result' }>): RecommendationInput[] {
  const inputs: RecommendationInput[] = lookups.map((l) => ({
    key: `gene:${l.gene}`,
    label: `${l.gene} result`,
    value: l.basis === 'none' ? 'no result' : describeLookup(l).slice(l.gene.length + 1),
    ...(l.source ? { source: l.source } : { note: 'no result on file' }),
  }));
  inputs.push({
    key: 'population',
    label: 'Guideline population',
    value: outcome.population.population,
    ...(outcome.population.sources[0] ? { source: outcome.population.sources[0] } : { note: outcome.population.determined ? 'from the chart' : 'not determined from the chart' }),
  });
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
    out.push({ name: a.name, display: a.display, ...(a.rxcui ? { rxnorm: a.rxcui } : {}), ...(contra ? { note: contra.note } : {}) });
  }
  return out;
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** Evaluate one ordered drug. Returns [] when the drug has no CPIC table. */
export function evaluatePgx(k: PgxKnowledge, facts: PatientFacts, order: DraftOrder, drug: { ingredient: string; rxcui: string }, medications: MedicationUse[], o: PgxEvaluationOptions): Recommendation[] {
  const outcome = evaluatePgxGuidance(k, {
    drug: drug.ingredient,
    ...(drug.rxcui ? { drugRxcui: drug.rxcui } : {}),
    genes: facts.genes,
    conditions: facts.conditions,
    ...(facts.ageYears ? { ageYears: facts.ageYears.value } : {}),
    medications,
    now: o.now,
  });
  if (outcome.status === 'no-guideline') return [];
  const dk = k.drugs[drug.ingredient]!;
  const gl = k.guidelines[dk.guideline]!;
  const drugRef = { name: drug.ingredient, ...(drug.rxcui ? { rxnorm: drug.rxcui } : {}) };
  const orderRef = order.ref ? { orderRef: order.ref } : {};
  const evidence = [
    { citation: `CPIC: ${gl.cpicName ?? gl.name}`, url: gl.url },
    ...gl.pmids.slice(0, 3).map((p) => ({ citation: `PMID ${p}`, url: `https://pubmed.ncbi.nlm.nih.gov/${p}/` })),
  ];
  const method = { id: 'cpic-pgx', name: 'CPIC guideline recommendation lookup', version: gl.version };
  const out: Recommendation[] = [];
  const lookupNotes = outcome.lookups.flatMap((l) => l.notes.map((n) => `${l.gene}: ${n}`));

  if (outcome.status === 'matched') {
    const row = outcome.row;
    const notes = [...outcome.notes, ...lookupNotes];
    notes.push(...gl.notes);
    const alternatives = alternativesFor(k, row, outcome.population.population, notes);
    const show =
      row.action === 'avoid' || row.action === 'alternative' || row.action === 'dose' ? true : row.action === 'caution' ? o.settings.cautionCards : o.settings.informationalCards;
    const from = order.currentDose ? { value: order.currentDose.value, unit: order.currentDose.unit } : undefined;
    const doseAdjustment =
      row.doseFactor !== undefined && row.doseFactorText
        ? { factor: row.doseFactor, phrase: row.doseFactorText, ...(from ? { from, to: { value: round2(from.value * row.doseFactor), unit: from.unit } } : {}) }
        : undefined;
    const finding = outcome.lookups.filter((l) => l.basis !== 'none').map(shortFinding).join(' + ') || outcome.lookups.map(shortFinding).join(' + ');
    out.push({
      id: o.newId(),
      drug: drugRef,
      ...orderRef,
      kind: KIND[row.action],
      severity: SEVERITY[row.action],
      headline: `${drug.ingredient}: ${finding} — ${ACTION_WORDS[row.action]} (CPIC ${row.classification})`.slice(0, 139),
      genes: findings(k, row, outcome.lookups),
      inputs: inputsOf(outcome.lookups, outcome),
      missing: outcome.missingGenes.map((g) => `${g} result`),
      method,
      evidence: evidence.map((e, i) => (i === 0 ? { ...e, strength: row.classification } : e)),
      notes,
      ...(alternatives.length ? { alternatives } : {}),
      ...(doseAdjustment ? { doseAdjustment } : {}),
      guideline: {
        id: gl.id,
        name: gl.cpicName ?? gl.name,
        url: gl.url,
        version: gl.version,
        classification: row.classification,
        recommendationId: row.id,
        population: row.population,
        ...(outcome.population.reason ? { populationReason: outcome.population.reason } : {}),
        ...(gl.notes.length ? { cautions: gl.notes } : {}),
      },
      pgx: { action: row.action, recommendationText: k.texts[row.text] ?? '', showCard: show },
    });
  }

  // A missing gene result: suggest the test when that gene can change this drug's therapy strongly enough.
  const testGenes = outcome.missingGenes.filter((g) => {
    const s = dk.testStrength[g];
    if (!s || o.settings.suggestTestFor === 'none') return false;
    return o.settings.suggestTestFor === 'all' || s === 'Strong';
  });
  if (testGenes.length > 0) {
    out.push({
      id: o.newId(),
      drug: drugRef,
      ...orderRef,
      kind: 'test-suggested',
      severity: 'info',
      headline: `${drug.ingredient}: no ${testGenes.join('/')} result on file — CPIC guidance depends on it`.slice(0, 139),
      genes: findings(k, outcome.status === 'matched' ? outcome.row : undefined, outcome.lookups.filter((l) => testGenes.includes(l.gene))),
      inputs: inputsOf(outcome.lookups, outcome),
      missing: testGenes.map((g) => `${g} result`),
      method,
      evidence,
      notes: [...lookupNotes, ...gl.notes],
      guideline: {
        id: gl.id,
        name: gl.cpicName ?? gl.name,
        url: gl.url,
        version: gl.version,
        classification: testGenes.map((g) => dk.testStrength[g]).includes('Strong') ? 'Strong' : (dk.testStrength[testGenes[0]!] ?? 'Optional'),
        recommendationId: outcome.status === 'matched' ? outcome.row.id : 'none',
        population: outcome.population.population,
      },
      pgx: { action: 'test', recommendationText: '', showCard: true, testGenes },
    });
  }
  return out;
}
