// Renal dose bands (knowledge/renal-bands.json): types and a loader; hand-curated from US labels, with provenance.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { DialysisKind } from '../domain/facts.js';
import type { WeightBasis } from '../dosing/renal/kidney.js';

/** A fixed regimen the label states for a band; `mgPerKg` regimens are stated, never applied automatically. */
export interface RenalRegimen {
  /** which drafts this regimen is for, e.g. "prophylaxis (draft dose up to 40 mg)" */
  use?: string;
  /** the regimen applies when the draft's dose per administration is at most this (first match wins) */
  draftPerDoseMaxMg?: number;
  perDoseMg?: number;
  mgPerKg?: number;
  /** a weight-based dose is rounded to a strength of this dose form (e.g. "Prefilled Syringe") */
  roundToForm?: string;
  frequencyPerDay: number;
  frequencyText: string;
}

export type RenalAction = 'range' | 'dose' | 'info' | 'avoid' | 'contraindicated' | 'do-not-start';

export interface RenalBand {
  id: string;
  gte?: number;
  gt?: number;
  lt?: number;
  lte?: number;
  /** apixaban-style rules: the band applies when the criteria are (not) met */
  criteriaMet?: boolean;
  /** no renal change needed: never a card */
  normal?: boolean;
  action: RenalAction;
  /** label's daily dose range, mg/day (action "range") */
  dailyMg?: [number, number];
  regimens?: RenalRegimen[];
  /** the label's frequency for a range band ("once daily"): the suggested dose is given at it */
  frequency?: { perDay: number; text: string };
  text: string;
}

export interface RenalCriterion {
  fact: 'age' | 'weight' | 'creatinine';
  gte?: number;
  lte?: number;
  text: string;
}

export type RenalMeasure =
  | { kind: 'crcl'; weight: WeightBasis; perBsa?: boolean }
  | { kind: 'egfr' }
  | { kind: 'criteria'; minMet: number; criteria: RenalCriterion[] };

export interface RenalDrug {
  name: string;
  rxcui: string;
  label: { title: string; section: string; url?: string };
  /** bands apply only to this indication (from Conditions); otherwise an informational note */
  indication?: { condition: string; text: string };
  measure: RenalMeasure;
  bands: RenalBand[];
  /**
   * Heart-valve rules of an anticoagulant's label (the DOACs), checked before any band: a mechanical valve (or one of
   * unstated type) → critical; a bioprosthetic valve → warning; no renal band either way (src/dosing/renal/valves.ts).
   */
  valveRules?: { section: string; mechanical: { action: 'contraindicated' | 'not-recommended'; text: string }; bioprosthetic: { action: 'not-recommended'; text: string } };
  /** how a dose inside a range band is suggested (src/dosing/renal/rangeDose.ts): the dose form when the draft has none, and the rule in words */
  rangeSuggestion?: { form: string; rule: string };
  dialysis?: Omit<RenalBand, 'gte' | 'gt' | 'lt' | 'lte' | 'criteriaMet' | 'normal'>;
}

export interface ConditionCodeSet {
  display: string;
  snomed: string[];
  icd10Prefixes: string[];
  text: string[];
}

export interface RenalKnowledge {
  provenance: { source: string; version: string; curated: string; note: string; [k: string]: string };
  policy: {
    creatinineMaxAgeDays: number;
    minAgeYears: number;
    /** a dialysis Procedure counts (patient on dialysis) when performed within this many days, per modality */
    dialysisProcedureWindowDays: Record<DialysisKind, number>;
    dialysisProcedureWindowNote?: string;
  };
  conditionCodes: Record<string, ConditionCodeSet>;
  drugs: RenalDrug[];
}

export function loadRenalKnowledge(file = path.resolve(process.cwd(), 'knowledge/renal-bands.json')): RenalKnowledge {
  const k = JSON.parse(readFileSync(file, 'utf8')) as RenalKnowledge;
  const w = k.policy?.dialysisProcedureWindowDays;
  for (const kind of ['hemodialysis', 'peritoneal', 'crrt', 'dialysis'] as const) {
    if (!(typeof w?.[kind] === 'number' && w[kind] > 0)) throw new Error(`knowledge/renal-bands.json: policy.dialysisProcedureWindowDays.${kind} must be a positive number of days`);
  }
  for (const d of k.drugs) {
    if (!d.name || !d.rxcui || !Array.isArray(d.bands) || d.bands.length === 0) throw new Error(`knowledge/renal-bands.json: drug entry ${d.name ?? '?'} is incomplete`);
    if (d.indication && !k.conditionCodes[d.indication.condition]) throw new Error(`knowledge/renal-bands.json: ${d.name} names unknown condition ${d.indication.condition}`);
  }
  return k;
}

let cached: RenalKnowledge | undefined;
export function defaultRenalKnowledge(): RenalKnowledge {
  return (cached ??= loadRenalKnowledge());
}
