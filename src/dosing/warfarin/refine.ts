// Warfarin dose refinement on day 4 or 5 of therapy from the patient's own INR response and the doses actually given
// (Lenzini 2010, pharmacogenetic equation: ./lenzini.ts). Pure: PatientFacts + order in, a Recommendation or the
// reason the refinement does not apply out. Day 1 of therapy is the calendar date of the first recorded (completed)
// warfarin administration; a dose that is not recorded is never guessed.
import type { DraftOrder } from '../../cds/orders.js';
import type { DrugDictionary } from '../../domain/drugs.js';
import type { AdministrationFact, ConditionFact, PatientFacts, SourceRef } from '../../domain/facts.js';
import type { DoseFactor, Recommendation, RecommendationInput } from '../../domain/recommendation.js';
import { bodySurfaceArea } from '../renal/kidney.js';
import { CPIC_WARFARIN, WARFARIN_DAILY_BOUNDS, WARFARIN_METHOD_VERSION, warfarinBasis, type WarfarinBasis } from './evaluator.js';
import { iwpcPharmacogenetic } from './iwpc.js';
import { LENZINI_CITATION, LENZINI_URL, lenziniWeeklyDose, type LenziniInputs, type LenziniTerm } from './lenzini.js';
import { warfarinIndications } from './modelInput.js';
import { tabletSchedule } from './schedule.js';
import { deviceNote } from '../../fhir/devices.js';
import { targetInr as targetInrFor, valveFinding } from '../anticoagulation/indications.js';

export const LENZINI_METHOD_ID = 'warfarin-lenzini-2010';
/**
 * Target INR the refinement aims at: 2.5, the middle of the 2.0–3.0 range recommended for most warfarin indications
 * (CHEST/ACCP). A different target (e.g. 3.0 for some mechanical mitral valves) is passed as an option.
 */
export const DEFAULT_TARGET_INR = 2.5;
/** An INR older than this (days, relative to the hook call) is not acted on: neither refined from nor alerted on. */
export const INR_MAX_AGE_DAYS = 7;
/** A refined dose that differs from the order's daily dose by at least this fraction is a warning. */
export const REFINEMENT_DIFFERENCE = 0.1;

/**
 * The reference patient the factors are measured from: 60 years, INR 2.0 on day 5, VKORC1 G/G, CYP2C9 *1/*1,
 * BSA 1.9 m², target 2.5, 5 mg on each of the three days used, none of the clinical flags.
 */
export const LENZINI_REFERENCE: LenziniInputs = {
  day: 5,
  ageYears: 60,
  inr: 2,
  targetInr: DEFAULT_TARGET_INR,
  vkorc1ACount: 0,
  cyp2c9Star2Count: 0,
  cyp2c9Star3Count: 0,
  bsaM2: 1.9,
  black: false,
  stroke: false,
  diabetes: false,
  amiodarone: false,
  fluvastatin: false,
  doseMinus2Mg: 5,
  doseMinus3Mg: 5,
  doseMinus4Mg: 5,
};
export const LENZINI_REFERENCE_TEXT = '60 years, INR 2.0 on day 5 after 5 mg daily, VKORC1 G/G, CYP2C9 *1/*1, BSA 1.9 m², target INR 2.5, no stroke, diabetes, amiodarone or fluvastatin';

const DAY_MS = 86_400_000;

/** The calendar date (YYYY-MM-DD) at the start of an ISO 8601 date or date-time, as written (the source's timezone). */
export function calendarDate(s: string | undefined): string | undefined {
  return typeof s === 'string' ? /^\d{4}-\d{2}-\d{2}/.exec(s)?.[0] : undefined;
}

function dayIndex(date: string): number {
  return Math.round(Date.parse(`${date}T00:00:00Z`) / DAY_MS);
}

function addDays(date: string, days: number): string {
  return new Date((dayIndex(date) + days) * DAY_MS).toISOString().slice(0, 10);
}

/** Day of therapy of `date` when day 1 is `day1` (the day before day 1 is day 0). */
export function dayOfTherapy(day1: string, date: string): number {
  return dayIndex(date) - dayIndex(day1) + 1;
}

/** Warfarin administrations (given, or held: not-done) by calendar date as recorded, and day 1 = first dose given. */
export interface WarfarinDoseHistory {
  day1: string;
  first: AdministrationFact;
  byDate: Map<string, AdministrationFact[]>;
}

export function warfarinDoseHistory(facts: PatientFacts): WarfarinDoseHistory | undefined {
  const all = (facts.administrations ?? []).filter((a) => a.drug === 'warfarin');
  // day 1 is the first dose actually given: a held dose before it does not start the therapy
  const firstGiven = all.filter((a) => !a.held).sort((x, y) => (x.localDate ?? x.start).localeCompare(y.localDate ?? y.start))[0];
  const doses = all
    .filter((a) => firstGiven !== undefined && (a.localDate ?? calendarDate(a.start) ?? '') >= (firstGiven.localDate ?? calendarDate(firstGiven.start) ?? ''))
    .map((a) => ({ a, date: a.localDate ?? calendarDate(a.start) }))
    .filter((x): x is { a: AdministrationFact; date: string } => x.date !== undefined)
    .sort((x, y) => x.date.localeCompare(y.date) || Date.parse(x.a.start) - Date.parse(y.a.start));
  const first = doses.find((d) => !d.a.held);
  if (!first) return undefined;
  const byDate = new Map<string, AdministrationFact[]>();
  for (const d of doses) byDate.set(d.date, [...(byDate.get(d.date) ?? []), d.a]);
  return { day1: first.date, first: first.a, byDate };
}

const SNOMED = 'http://snomed.info/sct';
const ICD10 = ['http://hl7.org/fhir/sid/icd-10-cm', 'http://hl7.org/fhir/sid/icd-10'];
/** Diabetes mellitus: SNOMED CT (diabetes mellitus, type 1, type 2), ICD-10 E08–E13, or the text (not insipidus). */
const DIABETES = { snomed: ['73211009', '46635009', '44054006'], icd10: ['E08', 'E09', 'E10', 'E11', 'E13'], text: /diabetes(?! insipidus)|\bT[12]DM\b/i };

function diabetesCondition(conditions: ConditionFact[]): ConditionFact | undefined {
  return conditions.find(
    (c) =>
      c.codes.some(
        (x) =>
          (x.system === SNOMED && x.code !== undefined && DIABETES.snomed.includes(x.code)) ||
          (x.system !== undefined && ICD10.includes(x.system) && x.code !== undefined && DIABETES.icd10.some((p) => x.code!.toUpperCase().startsWith(p))),
      ) || DIABETES.text.test(c.text.slice(0, 300)),
  );
}

/**
 * A prosthetic heart valve on file (mechanical, of unstated type, or bioprosthetic): one definition, the knowledge file's
 * (src/dosing/anticoagulation/indications.ts). With one on file the target INR depends on the valve's type and position.
 */
export function prostheticValveCondition(conditions: ConditionFact[]): ConditionFact | undefined {
  return valveFinding(conditions)?.condition;
}

export interface RefineOptions {
  roundingMgPerDay: number;
  newId: () => string;
  /** time of the hook call: INRs older than INR_MAX_AGE_DAYS are not used */
  now: Date;
  targetInr?: number;
}

export type RefinementOutcome =
  /** no INR on file: nothing to refine from, nothing to say */
  | { status: 'none' }
  /** an INR is on file but the refinement does not apply; `reason` is PHI-free and shown on the card */
  | { status: 'not-applicable'; reason: string; day?: number }
  | { status: 'refined'; recommendation: Recommendation; day: 4 | 5; dailyMg: number; differsFromOrder: boolean | undefined };

function fmt(v: number, digits = 1): string {
  return Number(v.toFixed(digits)).toString();
}

function roundTo(v: number, step: number): number {
  return Math.round(v / step) * step;
}

const aCount = { 'G/G': 0, 'A/G': 1, 'A/A': 2 } as const;

/** Count of an allele in a CPIC-style diplotype ("*1/*3" → *3: 1). */
function alleles(diplotype: string, allele: string): 0 | 1 | 2 {
  return diplotype.split('/').filter((a) => a === allele).length as 0 | 1 | 2;
}

/** Lenzini terms grouped for the card (CYP2C9 *2 and *3 together), in mg/week relative to the reference patient. */
export function lenziniFactors(terms: LenziniTerm[], weekly: number, refTerms: LenziniTerm[], refWeekly: number): DoseFactor[] {
  const group = (key: string) => (key === 'cyp2c9Star2' || key === 'cyp2c9Star3' ? 'cyp2c9' : key);
  const grouped = new Map<string, { label: string; d: number }>();
  const ref = new Map(refTerms.map((t) => [t.key, t.lnContribution]));
  for (const t of terms) {
    const k = group(t.key);
    const cur = grouped.get(k);
    const d = t.lnContribution - (ref.get(t.key) ?? 0);
    grouped.set(k, { label: cur ? `${cur.label}, ${t.label}` : t.label, d: (cur?.d ?? 0) + d });
  }
  const s = [...grouped.values()].reduce((a, g) => a + g.d, 0);
  // dose − refDose split in proportion to each term's share of ln(dose) − ln(refDose): exact, and signed like the term
  const scale = Math.abs(s) > 1e-12 ? (weekly - refWeekly) / s : refWeekly;
  return [...grouped.entries()]
    .map(([key, g]) => ({ key, label: g.label, contribution: g.d * scale, unit: 'mg/wk' }))
    .filter((f) => Math.abs(f.contribution) > 1e-9)
    .sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
}

function orderDaily(order: DraftOrder): number | undefined {
  const c = order.currentDose;
  return c && c.frequencyPerDay !== undefined ? c.value * c.frequencyPerDay : undefined;
}

/** The newest INR, its calendar date and age in days (undefined when there is none). */
export function newestInr(facts: PatientFacts, now: Date): { value: number; source: SourceRef; date?: string; ageDays?: number } | undefined {
  const inr = facts.inr?.[0];
  if (!inr) return undefined;
  const date = calendarDate(inr.source.date);
  const ms = inr.source.date ? Date.parse(inr.source.date) : Number.NaN;
  return { value: inr.value, source: inr.source, ...(date ? { date } : {}), ...(Number.isNaN(ms) ? {} : { ageDays: (now.getTime() - ms) / DAY_MS }) };
}

/** Decide whether Lenzini 2010 applies to this patient now, and if so the refined dose as a Recommendation. */
export function refineWarfarin(facts: PatientFacts, order: DraftOrder, dict: DrugDictionary, o: RefineOptions, precomputed?: WarfarinBasis): RefinementOutcome {
  const inr = newestInr(facts, o.now);
  if (!inr) return { status: 'none' };
  const no = (reason: string, day?: number): RefinementOutcome => ({ status: 'not-applicable', reason, ...(day !== undefined ? { day } : {}) });
  if (facts.unavailable.some((u) => u.startsWith('medicationAdministrations'))) return no('the warfarin dose history (MedicationAdministration) could not be fully retrieved');
  const history = warfarinDoseHistory(facts);
  if (!history) return no('no completed warfarin administration is recorded, so the day of therapy is unknown');
  if (!inr.date || inr.ageDays === undefined) return no('the newest INR has no date');
  if (inr.ageDays > INR_MAX_AGE_DAYS) return no(`the newest INR is more than ${INR_MAX_AGE_DAYS} days old`);
  const day = dayOfTherapy(history.day1, inr.date);
  if (day < 1) return no('the newest INR was measured before the first recorded warfarin dose', day);
  if (day !== 4 && day !== 5) return no(`the newest INR is from day ${day} of therapy; the equation applies to an INR on day 4 or 5`, day);

  // doses 2, 3 and (on day 5) 4 days before the INR day; on day 4 the dose 4 days before is 0 by definition
  const back = day === 5 ? [2, 3, 4] : [2, 3];
  const given = new Map<number, { mg: number; date: string; list: AdministrationFact[] }>();
  const missingDays: string[] = [];
  const unusableDays: string[] = [];
  for (const k of back) {
    const date = addDays(inr.date, -k);
    const list = history.byDate.get(date);
    // a day with doses given counts those; a day with only "not done" records is a documented 0 mg (held)
    const givenThatDay = list?.filter((x) => !x.held) ?? [];
    const counted = givenThatDay.length > 0 ? givenThatDay : (list ?? []);
    if (!list?.length) missingDays.push(`day ${day - k}`);
    else if (counted.some((x) => x.amountUnusable !== undefined)) unusableDays.push(`day ${day - k}`);
    else given.set(k, { mg: counted.reduce((a, x) => a + x.amountMg, 0), date, list: counted });
  }
  if (missingDays.length > 0)
    return no(`no completed warfarin dose is recorded for ${missingDays.join(', ')} of therapy (a missing dose is never assumed)`, day);
  if (unusableDays.length > 0) return no(`the warfarin dose of ${unusableDays.join(', ')} of therapy is recorded without an amount in mg (a dose is never guessed)`, day);

  // the target from the indications on file (knowledge/anticoagulation.json); a valve of unknown position or type is not guessed
  const chartTarget = o.targetInr === undefined ? targetInrFor(facts.conditions) : undefined;
  const valve = chartTarget?.row.id === 'mechanical-unknown' ? chartTarget.because[0] : undefined;
  if (valve)
    return no(`a prosthetic heart valve is on file (${valve.source.reference}) without its type and position: the target INR depends on the valve (2020 ACC/AHA: 2.5 or 3.0) and is not assumed`, day);
  const basis = precomputed ?? warfarinBasis(facts, dict);
  if (basis.missing.length > 0) return no(`missing ${basis.missing.map((m) => m.replace(/ \(.*\)$/, '')).join(', ')}`, day);
  if (!basis.iwpc) return no(basis.withheldHeadline ?? 'the patient is outside the equation’s population', day);
  if (!basis.vkorc1 || !basis.cyp2c9)
    return no('VKORC1 rs9923231 and CYP2C9 (*1, *2, *3) genotypes are both required (the clinical, genotype-free Lenzini equation is not implemented)', day);

  const age = facts.ageYears!.value;
  const heightCm = facts.height!.value.value;
  const weightKg = facts.weight!.value.value;
  const bsa = bodySurfaceArea(heightCm, weightKg);
  const indications = warfarinIndications(facts.conditions, order);
  const strokeCond = indications.includes('Stroke') ? facts.conditions.find((c) => warfarinIndications([c], { ...order, resource: { ...order.resource, reasonCode: [] } }).includes('Stroke')) : undefined;
  const diabetes = diabetesCondition(facts.conditions);
  const fluva = facts.medications.find((m) => dict.identify(m.rxnorm, m.text).some((d) => d.ingredient === 'fluvastatin'));
  const targetInr = o.targetInr ?? chartTarget?.row.goal ?? DEFAULT_TARGET_INR;
  const li: LenziniInputs = {
    day,
    ageYears: age,
    inr: inr.value,
    targetInr,
    vkorc1ACount: aCount[basis.vkorc1],
    cyp2c9Star2Count: alleles(basis.cyp2c9, '*2'),
    cyp2c9Star3Count: alleles(basis.cyp2c9, '*3'),
    bsaM2: bsa,
    black: facts.race?.value === 'Black',
    stroke: indications.includes('Stroke'),
    diabetes: diabetes !== undefined,
    amiodarone: basis.amiodarone,
    fluvastatin: fluva !== undefined,
    doseMinus2Mg: given.get(2)!.mg,
    doseMinus3Mg: given.get(3)!.mg,
    doseMinus4Mg: given.get(4)?.mg ?? 0,
  };
  const result = lenziniWeeklyDose(li);
  if ('invalid' in result) return no(result.invalid.join('; '), day);
  const reference = lenziniWeeklyDose({ ...LENZINI_REFERENCE, targetInr });
  if ('invalid' in reference) return no('reference patient invalid', day);

  // inputs: the warfarin basis (its sources) without what Lenzini does not use, then the INR, BSA and the doses given
  const medsUnavailable = facts.unavailable.some((u) => u.startsWith('medicationRequests') || u.startsWith('medicationStatements'));
  const inputs: RecommendationInput[] = basis.inputs.filter((i) => i.key !== 'enzymeInducer');
  inputs.push({ key: 'bsa', label: 'Body surface area (Mosteller, from height and weight)', value: Number(bsa.toFixed(2)), unit: 'm²', note: 'calculated: √(height cm × weight kg / 3600)' });
  inputs.push({ key: 'inr', label: `INR (day ${day} of therapy${inr.source.device ? `, ${inr.source.device.label}` : ''})`, value: inr.value, source: inr.source, ...(deviceNote(inr.source) ? { note: deviceNote(inr.source)! } : {}) });
  inputs.push({
    key: 'targetInr',
    label: 'Target INR',
    value: targetInr,
    ...(o.targetInr === undefined ? (chartTarget?.because[0] ? { source: chartTarget.because[0].source, note: `goal for ${chartTarget.row.when} (${chartTarget.row.source})` } : { note: 'default: middle of the 2–3 range' }) : {}),
  });
  inputs.push({ key: 'therapyDay1', label: 'Day 1 of therapy (first recorded warfarin dose)', value: history.day1, source: history.first.source });
  for (const k of back) {
    const g = given.get(k)!;
    const more = g.list.slice(1).map((a) => a.source.reference);
    inputs.push({
      key: `doseMinus${k}`,
      label: `Warfarin given on day ${day - k} (${k} days before the INR)`,
      value: fmt(g.mg, 2),
      unit: 'mg',
      source: g.list[0]!.source,
      ...(g.list.every((a) => a.held)
        ? { note: `recorded as not given (held)${more.length > 0 ? `; also ${more.join(', ')}` : ''}` }
        : more.length > 0
          ? { note: `sum of ${g.list.length} administrations, also ${more.join(', ')}` }
          : {}),
    });
  }
  if (day === 4) inputs.push({ key: 'doseMinus4', label: 'Warfarin given 4 days before the INR', value: 0, unit: 'mg', note: 'before day 1: 0 by definition on day 4' });
  inputs.push({ key: 'stroke', label: 'Stroke', value: li.stroke ? 'yes' : 'no', ...(strokeCond ? { source: strokeCond.source } : li.stroke ? { note: 'from the order’s reason' } : { note: 'no active stroke or TIA condition found' }) });
  inputs.push({ key: 'diabetes', label: 'Diabetes', value: li.diabetes ? 'yes' : 'no', ...(diabetes ? { source: diabetes.source } : { note: 'no active diabetes condition found' }) });
  inputs.push({
    key: 'fluvastatin',
    label: 'Fluvastatin',
    value: fluva ? 'taking' : 'not taking',
    ...(fluva ? { source: fluva.source } : { note: medsUnavailable ? 'medication list could not be fully retrieved: counted as not taking' : 'no active order or statement found' }),
  });

  const notes = [...basis.notes];
  const estimateDaily = result.weeklyDoseMg / 7;
  let daily = roundTo(estimateDaily, o.roundingMgPerDay);
  if (daily < WARFARIN_DAILY_BOUNDS.min || daily > WARFARIN_DAILY_BOUNDS.max) {
    const clamped = Math.min(WARFARIN_DAILY_BOUNDS.max, Math.max(WARFARIN_DAILY_BOUNDS.min, daily));
    notes.push(`The Lenzini equation gives ${fmt(estimateDaily, 2)} mg/day, outside the ${WARFARIN_DAILY_BOUNDS.min}–${WARFARIN_DAILY_BOUNDS.max} mg/day range this service proposes; ${clamped} mg/day is shown — review carefully`);
    daily = clamped;
  }
  if (basis.enzymeInducer) notes.push('An enzyme inducer (carbamazepine, phenytoin, rifampin) is on file: the Lenzini equation does not include it; its effect is reflected only through the INR response');
  notes.push(`Refined from the INR response after the doses actually given (Lenzini 2010, pharmacogenetic equation), aiming at INR ${targetInr}; it replaces the starting-dose estimate. Keep monitoring the INR.`);
  const schedule = tabletSchedule(daily * 7, order.product?.ingredient === 'warfarin' && order.product.unit === 'tablet' ? order.product.strengthMg : undefined);
  const current = orderDaily(order);
  const differsFromOrder = current === undefined ? undefined : Math.abs(current - daily) / daily >= REFINEMENT_DIFFERENCE;
  const warfarin = dict.ingredient('warfarin');
  const iwpc = iwpcPharmacogenetic(basis.iwpc);
  const recommendation: Recommendation = {
    id: o.newId(),
    drug: { name: 'warfarin', ...(warfarin ? { rxnorm: warfarin.rxcui } : {}) },
    ...(order.ref ? { orderRef: order.ref } : {}),
    ...(order.currentDose ? { draftDose: order.currentDose } : {}),
    kind: 'dose',
    severity: differsFromOrder === false ? 'info' : 'warning',
    headline: `Warfarin ${fmt(daily)} mg daily (${fmt(daily * 7)} mg/week) refined from the day-${day} INR of ${fmt(inr.value)} (Lenzini 2010)`,
    proposedDose: {
      perDose: { value: daily, unit: 'mg' },
      perWeek: { value: Number((daily * 7).toFixed(2)), unit: 'mg/wk' },
      frequencyText: 'once daily',
      timing: { frequency: 1, period: 1, periodUnit: 'd' },
      estimate: { value: Number(result.weeklyDoseMg.toFixed(2)), unit: 'mg/wk' },
      roundingNote: `rounded to the nearest ${o.roundingMgPerDay} mg/day`,
      ...(schedule ? { scheduleText: `${schedule.text}, ${fmt(schedule.weeklyMg)} mg/week`, tabletStrengthMg: schedule.strengthMg } : {}),
    },
    comparators: [{ method: 'IWPC pharmacogenetic equation (starting dose, without the INR response)', dose: { value: Number(iwpc.weeklyDoseMg.toFixed(1)), unit: 'mg/wk' } }],
    factors: lenziniFactors(result.terms, result.weeklyDoseMg, reference.terms, reference.weeklyDoseMg),
    factorBase: { dose: { value: Number(reference.weeklyDoseMg.toFixed(2)), unit: 'mg/wk' }, description: LENZINI_REFERENCE_TEXT },
    inputs,
    missing: [],
    method: { id: LENZINI_METHOD_ID, name: 'Lenzini 2010 warfarin dose refinement (pharmacogenetic, INR on day 4 or 5)', version: WARFARIN_METHOD_VERSION },
    evidence: [
      { citation: LENZINI_CITATION, url: LENZINI_URL },
      { citation: CPIC_WARFARIN.citation, url: CPIC_WARFARIN.url },
    ],
    notes,
  };
  return { status: 'refined', recommendation, day, dailyMg: daily, differsFromOrder };
}
