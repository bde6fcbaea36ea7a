// Recommendation: the one object every evaluator returns; cards, the SMART app and the audit record render from it.
import type { PhenoconversionStep } from './phenoconversion.js';
import type { SourceRef } from './facts.js';
import type { Quantity } from './units.js';

export type RecommendationKind =
  | 'dose' // a personalised dose for the ordered drug
  | 'alternative' // choose another drug
  | 'dose-adjustment' // change the ordered dose (e.g. reduce by 50%)
  | 'missing-data' // cannot compute: says what is missing
  | 'test-suggested' // order a genetic/lab test first
  | 'info'; // nothing actionable; shown in the SMART app only

export type Severity = 'info' | 'warning' | 'critical';

/** One input used (or looked for) by a method, rendered in the card detail and the SMART app. */
export interface RecommendationInput {
  /** stable key, e.g. "weight" */
  key: string;
  /** label for humans, e.g. "Body weight" */
  label: string;
  /** displayed value, e.g. 72.5 or "*1/*3" */
  value: string | number | boolean;
  unit?: string;
  source?: SourceRef;
  /** e.g. "assumed not taking: no active order found" */
  note?: string;
  /**
   * How the input counts in the monitoring facts fingerprint (src/cds/monitoring.ts): by default its value, unit and
   * source; "label": by its label only — for a fact that is re-recorded without changing (e.g. each dialysis session
   * is a new Procedure, but "on hemodialysis" is the same fact), so an overridden card does not come back each time;
   * "none": not counted — an explanation that did not change the computation (the time zone row of a basal insulin
   * titration whose readings all carry their own offset), so adding such a row never makes a stored override stale.
   */
  fingerprint?: 'label' | 'none';
}

export interface Evidence {
  citation: string;
  url?: string;
  /** e.g. CPIC "Strong" */
  strength?: string;
}

/** Signed contribution of one factor to the dose, in the dose's unit. */
export interface DoseFactor {
  key: string;
  label: string;
  contribution: number;
  unit: string;
}

export interface ProposedDose {
  /** daily dose to write on the order, e.g. { value: 5, unit: "mg" } with frequency once daily */
  perDose: Quantity;
  /** the same regimen per week, when weekly dosing is the clinical convention (warfarin) */
  perWeek?: Quantity;
  /** how the dose is taken, e.g. "once daily" */
  frequencyText: string;
  /** FHIR Timing repeat for the order */
  timing: { frequency: number; period: number; periodUnit: 'd' | 'h' | 'wk' };
  /** the unrounded estimate the dose was rounded from */
  estimate?: Quantity;
  /** e.g. "rounded to the nearest 0.5 mg/day" */
  roundingNote?: string;
  /** the same weekly amount as tablets of one strength, e.g. "5 mg daily except 2.5 mg on Mon, Thu (5 mg tablets)" */
  scheduleText?: string;
  /** the tablet strength of scheduleText: the suggestion's product uses it */
  tabletStrengthMg?: number;
}

export interface ComparatorDose {
  method: string;
  dose: Quantity;
}

export interface MethodRef {
  id: string;
  name: string;
  version: string;
}

/** A pharmacogenomic chain: result → phenotype → recommendation. */
export interface GeneFinding {
  gene: string;
  result: string;
  phenotype?: string;
  /** what it implies for this drug */
  implication?: string;
  source?: SourceRef;
}

export interface Recommendation {
  /** uuid, also the SMART app's appContext */
  id: string;
  drug: { name: string; rxnorm?: string };
  /** the draft order this is about, e.g. "MedicationRequest/103" */
  orderRef?: string;
  /** the draft order's dose when the recommendation was made (per administration, mg), for comparison in the app */
  draftDose?: { value: number; unit: string; frequencyPerDay?: number };
  kind: RecommendationKind;
  severity: Severity;
  /** one line (< 140 chars) the card uses as its summary */
  headline: string;
  proposedDose?: ProposedDose;
  /** 80% prediction interval of the dose, same unit as the estimate */
  interval?: { low: Quantity; high: Quantity; level: number };
  comparators?: ComparatorDose[];
  factors?: DoseFactor[];
  /** what the factors are measured from: the dose of a reference patient, and who that is */
  factorBase?: { dose: Quantity; description: string };
  genes?: GeneFinding[];
  inputs: RecommendationInput[];
  /** labels of data that were needed but missing */
  missing: string[];
  method: MethodRef;
  evidence: Evidence[];
  /** cautions and explanations shown with the recommendation */
  notes: string[];
  /** drugs to use instead (pharmacogenomic guidance) */
  alternatives?: AlternativeDrug[];
  /** a change of the ordered dose by a stated factor (e.g. CPIC "reduce starting dose by 50%") */
  doseAdjustment?: DoseAdjustment;
  /** the guideline row this recommendation comes from */
  guideline?: GuidelineRef;
  /** warfarin: the target INR the dose assumes, from the indications on file */
  targetInr?: { range: [number, number]; goal: number; because: string; source: string; conditions: SourceRef[] };
  /** warfarin: the branch of the CPIC 2017 flowchart (../shared/data/cpic/warfarin_flowchart.json) that applied */
  cpicBranch?: { figure: 'adult' | 'pediatric'; nodes: string[]; text: string; strength?: string };
  /** pharmacogenomic card details (present on every recommendation of the PGx evaluator) */
  pgx?: PgxDetail;
  /** kidney-function dose band details (present on every recommendation of the renal evaluator) */
  renal?: RenalDetail;
  /** AUC-guided therapeutic drug monitoring details (vancomycin): AUC figures and the concentration curve */
  tdm?: TdmDetail;
  /** basal insulin titration from glucose readings (src/dosing/insulin): the readings that decided the step */
  insulin?: InsulinDetail;
}

/** One fasting value (the lowest reading of a day's fasting window) behind a titration step. */
export interface FastingValue {
  localDate: string;
  /** local clock time of the reading, "HH:MM" */
  localTime: string;
  mgDl: number;
  sent: { value: number; unit: string };
  method: 'cgm' | 'fingerstick';
  source: SourceRef;
}

/** A hypoglycaemia episode: consecutive readings below the level's threshold (CGM: lasting at least 15 minutes). */
export interface LowEpisode {
  level: 1 | 2;
  start: string;
  minutes: number;
  lowestMgDl: number;
  /** the lowest reading of the episode */
  source: SourceRef;
}

/** Basal insulin titration details (ADA algorithm; time below range per the international CGM consensus). */
export interface InsulinDetail {
  step: 'raise' | 'lower' | 'keep' | 'hold' | 'wait';
  /** the order's dose, units per injection */
  currentUnits: number;
  proposedUnits?: number;
  /** the pen's or syringe's dose step (units) */
  stepUnits: number;
  target: { low: number; high: number };
  meanFastingMgDl: number;
  fasting: FastingValue[];
  lows: LowEpisode[];
  /** CGM time below range over the last `days` days: % of readings below 70 (incl. < 54) and below 54 mg/dL */
  tbr?: { below70: number; below54: number; days: number; readings: number; target70: number; target54: number };
  /** glucose readings read in the look-back window */
  readingsUsed: number;
  /**
   * the time zone that placed readings sent in UTC on the patient's clock (04:00–08:00 local): the Patient's
   * (FHIR timezone extension), the configured default (PATIENT_TIME_ZONE_DEFAULT) or none (UTC clock time, a limit);
   * `utcReadings`: readings of the look-back sent in UTC; `invalid`: the Patient's value that was ignored
   */
  timeZone?: { zone?: string; from: 'patient' | 'default' | 'none'; utcReadings: number; invalid?: string };
  /** why this step (shown on the card) */
  because: string;
}

export interface AlternativeDrug {
  /** ingredient name, lower case */
  name: string;
  display: string;
  /** RxNorm ingredient CUI, when known from a named source */
  rxnorm?: string;
  /** e.g. a contraindication that applies to some patients */
  note?: string;
}

export interface DoseAdjustment {
  /** multiply the draft's dose by this */
  factor: number;
  /** the phrase of the guideline the factor was read from */
  phrase: string;
  /** the draft's dose and the adjusted dose, when the draft has a dose in mg */
  from?: Quantity;
  to?: Quantity;
}

export interface GuidelineRef {
  id: string;
  name: string;
  url: string;
  version: string;
  /** e.g. CPIC "Strong", "Moderate", "Optional", "No recommendation" */
  classification: string;
  /** the recommendation row id (PharmGKB), e.g. "PA166297572" */
  recommendationId: string;
  population: string;
  /** why this population was used (shown when it had to be chosen) */
  populationReason?: string;
  /** staleness and scope warnings for this guideline */
  cautions?: string[];
}

export interface PgxDetail {
  /** what the recommendation asks for: avoid, alternative, dose, caution, standard, none; test; or review a result on file that could not be interpreted */
  action: 'avoid' | 'alternative' | 'dose' | 'caution' | 'standard' | 'none' | 'test' | 'unreadable';
  /** the recommendation text as published */
  recommendationText: string;
  /** whether a card is shown (informational rows are kept for the SMART app only, per configuration) */
  showCard: boolean;
  /** genes whose test is suggested (action "test") */
  testGenes?: string[];
  /** current results of a gene that disagree: per gene, one sentence naming the Observations (the cautious row is used) */
  disagreements?: { gene: string; text: string }[];
  /** results on file that could not be interpreted for this drug (action "unreadable"; also listed on a matched row) */
  unreadable?: UnreadablePgxResult[];
  /** the guideline source of this row: CPIC (absent) or DPWG */
  source?: 'CPIC' | 'DPWG';
  /** every source's row for this drug and genotype, the leading source first (config pgx.sources); absent: CPIC only */
  sources?: PgxSourceRow[];
  /** one line when the sources' rows ask for different things; the suggestion follows the leading source */
  sourceDisagreement?: string;
  /** active interacting drugs that changed (or may change) the genotype phenotype (src/dosing/pgx/phenoconversion.ts) */
  phenoconversion?: PhenoconversionStep[];
}

/** One guideline source's row for the ordered drug and the patient's genotype (for the card and the SMART app). */
export interface PgxSourceRow {
  source: 'CPIC' | 'DPWG';
  /** true for the source whose row the card's suggestion follows */
  leading: boolean;
  action: 'avoid' | 'alternative' | 'dose' | 'caution' | 'standard' | 'none';
  /** CPIC classification (Strong/Moderate/Optional); DPWG has none: "N/A" */
  strength: string;
  recommendationText: string;
  recommendationId: string;
  guideline: { id: string; name: string; url: string; version: string; dataDate?: string };
  /** the gene findings the row was looked up with, e.g. "CYP2C19 Poor Metabolizer" */
  finding: string;
  doseFactor?: number;
}

/** A result on file for a gene the drug depends on that could not be interpreted. */
export interface UnreadablePgxResult {
  gene: string;
  /** the result as sent (shown to the clinician) */
  text?: string;
  /** why it could not be interpreted (PHI-free) */
  reason: string;
  source: SourceRef;
}

/** A renal dose band decision: the kidney measure, the label band it falls in, and whether a card is shown. */
export interface RenalDetail {
  /** what the band asks: within the band, a dose, a range, avoid/contraindicated/do not start, dialysis, a note */
  action: 'within' | 'dose' | 'range' | 'avoid' | 'contraindicated' | 'do-not-start' | 'dialysis' | 'note' | 'missing' | 'valve';
  /** the computed kidney measure, when one was computed */
  measure?: { kind: 'crcl' | 'egfr' | 'criteria'; value: number; unit: string; formula: string; weight?: string };
  /** the label band used (id in knowledge/renal-bands.json) and its text */
  band?: { id: string; text: string; dailyMg?: [number, number] };
  /** label and section the band comes from */
  label: { title: string; section: string; url?: string };
  /** whether a card is shown (the rest is kept for the SMART app) */
  showCard: boolean;
}

/** AUC-guided dosing (vancomycin, src/dosing/tdm): the AUC figures behind the proposal and the predicted curve. */
export interface TdmDetail {
  method: 'bayesian' | 'prior';
  model: { id: string; name: string; citation: string };
  /** number of levels used by the Bayesian estimate */
  levelsUsed: number;
  dosesRecorded: number;
  target: { low: number; high: number; aim: number; unit: 'mg·h/L' };
  /** individual PK parameters (L/h, L) */
  parameters: { CL: number; Vc: number; Vp: number; Q: number };
  crclMlMin: number;
  loading?: { doseMg: number; infusionH: number; basis: string };
  proposed: { doseMg: number; intervalH: number; infusionH: number; auc24: number; band: { p10: number; p50: number; p90: number }; withinTarget: boolean; troughMgL: number; peakMgL: number };
  /** the draft order's (or the administered) regimen and its predicted steady-state AUC24 */
  current?: { doseMg: number; intervalH: number; infusionH: number; auc24: number; band: { p10: number; p50: number; p90: number }; withinTarget: boolean; from: 'draft-order' | 'administrations' };
  /** predicted concentrations (mg/L) at tH hours from originIso (null: from the proposed first dose) */
  curve: { originIso: string | null; kind: 'fitted-history' | 'proposed-start'; points: { tH: number; mgL: number }[]; observed: { tH: number; mgL: number }[] };
}
