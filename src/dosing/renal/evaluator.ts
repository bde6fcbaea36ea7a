// Renal dose bands (pure): kidney measure for the ordered drug → the label band → compare with the draft → Recommendation.
import type { DraftOrder } from '../../domain/order.js';
import { ProductTable } from '../../domain/products.js';
import { rangeDose, syringeDose } from './rangeDose.js';
import { findCondition } from '../conditions.js';
import { valveDecision } from './valves.js';
export { findCondition } from '../conditions.js';
import type { ConditionFact, DialysisKind, DialysisProcedureFact, PatientFacts } from '../../domain/facts.js';
import type { Evidence, ProposedDose, Recommendation, RecommendationInput, RenalDetail } from '../../domain/recommendation.js';
import type { RenalBand, RenalDrug, RenalKnowledge, RenalRegimen } from '../../knowledge/renal.js';
import {
  bodySurfaceArea,
  CG_CITATION,
  CKD_EPI_2021_CITATION,
  ckdEpi2021,
  cockcroftGault,
  creatinineForDosing,
  dosingSex,
  dosingWeight,
  DEVINE_CITATION,
  type DosingSex,
} from './kidney.js';

export const RENAL_METHOD_VERSION = '1.2.0';

export interface RenalOptions {
  /** the hook time: creatinine freshness is judged against it */
  now: Date;
  newId: () => string;
  /** overrides knowledge policy.creatinineMaxAgeDays (configuration renal.creatinineMaxAgeDays) */
  creatinineMaxAgeDays?: number;
  /** products with strengths: a dose in a range band, or a weight-based dose, is made from them */
  products?: ProductTable;
}


function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
function fmt(v: number, digits = 1): string {
  return Number(v.toFixed(digits)).toString();
}
const EPS = 1e-9;


const KIND_TEXT: Record<DialysisKind, string> = {
  hemodialysis: 'hemodialysis',
  peritoneal: 'peritoneal dialysis',
  crrt: 'continuous renal replacement therapy (CRRT)',
  dialysis: 'dialysis (modality not stated)',
};

export interface DialysisStatus {
  onDialysis: boolean;
  /** the active dialysis / ESKD Condition, if any */
  condition?: ConditionFact;
  /** the most recent dialysis Procedure within its window: it decides the modality */
  procedure?: DialysisProcedureFact;
  /** days between the procedure and the hook (0 when in progress) */
  procedureAgeDays?: number;
  /** window (days) that applied to the procedure */
  windowDays?: number;
  /** the newest dialysis Procedure found outside its window (not counted), when no procedure counts */
  olderProcedure?: DialysisProcedureFact;
  olderAgeDays?: number;
  /** the modality the dosing must assume: from the procedure, or unspecified when only a Condition says so */
  modality?: DialysisKind;
  /** which rule made the patient count as on dialysis (card wording; no dates, so it is stable between calls) */
  rule?: string;
}

/** whole days elapsed since the procedure (0 when in progress or dated later today): a date-only procedure counts from its day */
function ageDays(p: DialysisProcedureFact, now: Date): number {
  const sinceDate = p.date ? Math.max(0, Math.floor((now.getTime() - Date.parse(p.date)) / 86400000)) : 0;
  // in progress counts as now — unless it started so long ago that it is a record nobody closed: then its start counts
  if (p.ongoing) return sinceDate > ONGOING_MAX_DAYS ? sinceDate : 0;
  return sinceDate;
}

/** An in-progress dialysis Procedure that started more than this many days ago is dated by its start (never closed). */
export const ONGOING_MAX_DAYS = 30;

/**
 * On dialysis: an active dialysis Condition (ICD-10 Z99.2, N18.6, "dialysis" in the text) OR a dialysis Procedure
 * performed within its modality's window (knowledge policy.dialysisProcedureWindowDays; in progress counts as now).
 * The newest procedure within its window decides the modality (CRRT → the label tables do not apply).
 */
export function dialysisStatus(k: RenalKnowledge, facts: PatientFacts, now: Date): DialysisStatus {
  const condition = findCondition(facts.conditions, k.conditionCodes['dialysis']);
  const windows = k.policy.dialysisProcedureWindowDays;
  const procs = [...(facts.dialysisProcedures ?? [])].sort((a, b) => ageDays(a, now) - ageDays(b, now));
  const procedure = procs.find((p) => ageDays(p, now) <= windows[p.kind]);
  const st: DialysisStatus = { onDialysis: condition !== undefined || procedure !== undefined, ...(condition ? { condition } : {}) };
  if (procedure) {
    const windowDays = windows[procedure.kind];
    st.procedure = procedure;
    st.procedureAgeDays = ageDays(procedure, now);
    st.windowDays = windowDays;
    st.modality = procedure.kind;
    const what = `a ${KIND_TEXT[procedure.kind]} procedure ${procedure.ongoing ? 'in progress' : `within the last ${windowDays} days`}`;
    st.rule = condition ? `dialysis on the problem list and ${what}` : what;
  } else if (condition) {
    st.modality = 'dialysis';
    st.rule = 'dialysis / end-stage kidney disease on the problem list';
  }
  if (!procedure && procs[0]) {
    st.olderProcedure = procs[0];
    st.olderAgeDays = ageDays(procs[0], now);
  }
  return st;
}

/** The band a measured value falls in (value rounded to 0.1, as displayed, so the card and the band always agree). */
export function bandFor(drug: RenalDrug, value: number): RenalBand | undefined {
  const v = Math.round(value * 10) / 10;
  return drug.bands.find(
    (b) =>
      b.criteriaMet === undefined &&
      (b.gte === undefined || v >= b.gte) &&
      (b.gt === undefined || v > b.gt) &&
      (b.lt === undefined || v < b.lt) &&
      (b.lte === undefined || v <= b.lte),
  );
}

/** The regimen of a band for this draft: the first whose draft-dose condition holds (undefined when it cannot be told). */
export function regimenFor(band: Pick<RenalBand, 'regimens'>, draftPerDoseMg: number | undefined): RenalRegimen | undefined {
  for (const r of band.regimens ?? []) {
    if (r.draftPerDoseMaxMg === undefined) return r;
    if (draftPerDoseMg === undefined) return undefined;
    if (draftPerDoseMg <= r.draftPerDoseMaxMg + EPS) return r;
  }
  return undefined;
}

interface Measured {
  value: number;
  unit: string;
  kind: 'crcl' | 'egfr' | 'criteria';
  formula: string;
  weight?: string;
  band: RenalBand | undefined;
}

export function evaluateRenal(k: RenalKnowledge, drug: RenalDrug, facts: PatientFacts, order: DraftOrder, o: RenalOptions): Recommendation {
  const Drug = capitalise(drug.name);
  const inputs: RecommendationInput[] = [];
  const missing: string[] = [];
  const notes: string[] = [];
  const labelCitation = `${drug.label.title}, section ${drug.label.section}`;
  const evidence: Evidence[] = [{ citation: labelCitation, ...(drug.label.url ? { url: drug.label.url } : {}) }];
  const maxAge = o.creatinineMaxAgeDays ?? k.policy.creatinineMaxAgeDays;
  const label = drug.label;
  const base = {
    id: o.newId(),
    drug: { name: drug.name, rxnorm: drug.rxcui },
    ...(order.ref ? { orderRef: order.ref } : {}),
    method: { id: 'renal-bands', name: 'Kidney function dose bands from the US label', version: `${RENAL_METHOD_VERSION}, knowledge ${k.provenance.version} (${k.provenance.curated})` },
    evidence,
    inputs,
    missing,
    notes,
  };
  notes.push(`Bands are hand-curated from the US label (knowledge/renal-bands.json, ${k.provenance.version}); verify against the current label.`);
  const detail = (d: Omit<RenalDetail, 'label'>): RenalDetail => ({ ...d, label });
  const draft = order.currentDose;
  const draftDaily = draft?.frequencyPerDay !== undefined ? draft.value * draft.frequencyPerDay : undefined;
  const draftText = draft ? `${fmt(draft.value, 2)} mg${draft.frequencyPerDay !== undefined ? ` ${fmt(draft.frequencyPerDay, 2)}× per day (${fmt(draftDaily!, 2)} mg/day)` : ''}` : order.doseProblem ? 'could not be read' : 'no dose yet';
  inputs.push({ key: 'draftDose', label: 'Draft order dose', value: draftText, ...(order.doseProblem && !draft ? { note: order.doseProblem.slice(0, 200) } : {}) });

  // heart valves first: a DOAC with a mechanical valve is refused whatever the kidney function (valves.ts)
  const valve = valveDecision(drug, facts);
  if (valve) {
    inputs.push(valve.input);
    notes.push(...valve.notes);
    const valveLabel = { ...label, section: drug.valveRules!.section };
    evidence[0] = { citation: `${label.title.replace(/ US prescribing information.*$/, '')} US prescribing information, ${drug.valveRules!.section}`, ...(label.url ? { url: label.url } : {}) };
    evidence.push({ citation: 'Otto CM et al. 2020 ACC/AHA Guideline for the Management of Patients With Valvular Heart Disease. Circulation 2021;143:e72-e227', url: 'https://doi.org/10.1161/CIR.0000000000000923' });
    return {
      ...base,
      kind: valve.bandsNotApplied ? 'info' : 'alternative',
      severity: valve.severity,
      headline: valve.headline,
      renal: { action: 'valve', band: { id: `${drug.name}-valve`, text: valve.text }, label: valveLabel, showCard: true },
    };
  }

  // dialysis (Condition or a recent dialysis Procedure): no CrCl-based dose
  const dia = dialysisStatus(k, facts, o.now);
  if (dia.olderProcedure) {
    const p = dia.olderProcedure;
    inputs.push({
      key: 'dialysisProcedure',
      label: `Last dialysis procedure (${KIND_TEXT[p.kind]})`,
      value: `${p.code.display} (${p.status})`,
      source: p.source,
      note: `${fmt(dia.olderAgeDays!, 0)} days ago: outside the ${k.policy.dialysisProcedureWindowDays[p.kind]}-day window, not counted`,
    });
    if (!dia.onDialysis) notes.push(`The last dialysis procedure was ${fmt(dia.olderAgeDays!, 0)} days ago, beyond the ${k.policy.dialysisProcedureWindowDays[p.kind]}-day window: the patient is not counted as on dialysis (e.g. a past episode of acute kidney injury). If dialysis continues elsewhere, record it on the problem list.`);
  }
  if (dia.onDialysis) {
    if (dia.condition) inputs.push({ key: 'dialysis', label: 'Dialysis / end-stage kidney disease', value: dia.condition.text || 'on the problem list', source: dia.condition.source });
    if (dia.procedure) {
      const p = dia.procedure;
      inputs.push({
        key: 'dialysisProcedure',
        label: `Dialysis procedure (${KIND_TEXT[p.kind]})`,
        value: `${p.code.display} (${p.status})`,
        source: p.source,
        // each session is a new Procedure; "on <modality>" is the fact (a monitoring override holds across sessions)
        fingerprint: 'label',
        note: p.ongoing ? `in progress${p.date ? ` since ${p.date.slice(0, 10)}` : ''}` : `${fmt(dia.procedureAgeDays!, 0)} days ago; counts within ${dia.windowDays} days`,
      });
    }
    inputs.push({ key: 'dialysisRule', label: 'Counted as on dialysis because', value: dia.rule! });
    notes.push('Creatinine-based estimates are not valid on dialysis: no CrCl/eGFR band was applied.');
    const d = drug.dialysis;
    if (dia.modality === 'crrt') {
      notes.push(
        `Dosing on continuous renal replacement therapy is not covered by the label table: the label's dialysis (hemodialysis) instruction was not applied. Dose by the CRRT prescription (effluent rate) and drug levels, with pharmacy or nephrology advice.${d ? ` For reference only, the label's dialysis entry: ${d.text}.` : ''}`,
      );
      return { ...base, kind: 'dose-adjustment', severity: 'warning', headline: `${Drug}: on CRRT — dosing on CRRT is not covered by the label table`.slice(0, 139), renal: detail({ action: 'dialysis', showCard: true }) };
    }
    if (dia.modality === 'peritoneal') {
      notes.push('Peritoneal dialysis: the label dialysis instructions are written for hemodialysis (supplemental doses after a hemodialysis session do not apply); check the label and pharmacy advice.');
    }
    if (dia.modality === 'dialysis' && dia.procedure) {
      notes.push(`The dialysis procedure code does not state the modality (CPT 90945/90947 also cover hemofiltration and CRRT): if the patient is on CRRT, the label's dialysis instruction does not apply.`);
    }
    if (!d) {
      return { ...base, kind: 'dose-adjustment', severity: 'warning', headline: `${Drug}: patient on dialysis — dialysis dosing applies (not covered by the label table here)`.slice(0, 139), renal: detail({ action: 'dialysis', showCard: true }) };
    }
    const band = { id: d.id, text: d.text };
    if (d.action === 'avoid' || d.action === 'contraindicated') {
      return { ...base, kind: 'alternative', severity: 'critical', headline: `${Drug}: ${d.action === 'avoid' ? 'avoid' : 'contraindicated'} on dialysis (label)`, renal: detail({ action: 'dialysis', band, showCard: true }) };
    }
    const reg = d.action === 'dose' ? regimenFor(d, draft?.value) : undefined;
    if (reg?.perDoseMg !== undefined) {
      if (draftMatches(draft, reg)) return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: draft matches the label's dialysis dose (${d.text})`.slice(0, 139), renal: detail({ action: 'within', band, showCard: false }) };
      return { ...base, kind: 'dose-adjustment', severity: 'warning', headline: `${Drug}: on dialysis — label dose ${fmt(reg.perDoseMg, 2)} mg ${reg.frequencyText}`.slice(0, 139), proposedDose: proposed(reg, reg.perDoseMg), renal: detail({ action: 'dialysis', band, showCard: true }) };
    }
    return { ...base, kind: 'dose-adjustment', severity: 'warning', headline: `${Drug}: patient on dialysis — dialysis dosing applies: ${d.text}`.slice(0, 139), renal: detail({ action: 'dialysis', band, showCard: true }) };
  }

  // indication-specific bands (the DOACs' atrial fibrillation bands)
  let indicationKnown = true;
  if (drug.indication) {
    const set = k.conditionCodes[drug.indication.condition];
    const found = findCondition(facts.conditions, set);
    indicationKnown = found !== undefined;
    inputs.push({
      key: 'indication',
      label: `Indication: ${drug.indication.text}`,
      value: found ? found.text || 'on the problem list' : 'not found',
      ...(found ? { source: found.source } : { note: facts.unavailable.some((u) => u.startsWith('conditions')) ? 'conditions could not be retrieved' : 'no matching active condition' }),
    });
  }

  // the kidney measure the label uses
  const m = measure(k, drug, facts, o.now, maxAge, inputs, missing, notes);
  evidence.push(...m.evidence);
  if (!m.result) {
    if (!indicationKnown) {
      notes.push(`The renal bands encoded for ${drug.name} are for ${drug.indication!.text}; the indication is not on the problem list, so no band was applied.`);
      return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: renal band not applied (indication not on file)`, renal: detail({ action: 'note', showCard: false }) };
    }
    if (m.tooYoung) return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: label renal bands apply to adults only`, renal: detail({ action: 'note', showCard: false }) };
    return {
      ...base,
      kind: 'missing-data',
      severity: 'info',
      headline: `${Drug} renal dose not checked: missing ${missing.map((x) => x.replace(/ \(.*\)$/, '').replace(/,.*$/, '')).join(', ')}`.slice(0, 139),
      renal: detail({ action: 'missing', showCard: true }),
    };
  }
  const r = m.result;
  const measureDetail = { kind: r.kind, value: Number(r.value.toFixed(1)), unit: r.unit, formula: r.formula, ...(r.weight ? { weight: r.weight } : {}) };
  const band = r.band;
  if (!band) {
    notes.push('No band of the label table matches this value.');
    return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: no label band for ${measureText(r)}`, renal: detail({ action: 'note', measure: measureDetail, showCard: false }) };
  }
  const bandRef = { id: band.id, text: band.text, ...(band.dailyMg ? { dailyMg: band.dailyMg } : {}) };
  const rd = (action: RenalDetail['action'], showCard: boolean): RenalDetail => detail({ action, measure: measureDetail, band: bandRef, showCard });
  const where = measureText(r);

  if (!indicationKnown) {
    notes.push(`The label band (${band.text}) is for ${drug.indication!.text}, which is not on the problem list: no dose is proposed. Check the indication's own renal dosing in the label.`);
    return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: ${where}; AF band not applied — indication not on file`.slice(0, 139), renal: rd('note', !band.normal) };
  }
  if (band.normal) {
    return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: ${where} — no renal dose change (${band.text})`.slice(0, 139), renal: rd('within', false) };
  }
  switch (band.action) {
    case 'contraindicated':
    case 'avoid':
      return { ...base, kind: 'alternative', severity: 'critical', headline: `${Drug}: ${band.action === 'avoid' ? 'avoid' : 'contraindicated'} at ${where} (label)`.slice(0, 139), renal: rd(band.action, true) };
    case 'do-not-start':
      return { ...base, kind: 'alternative', severity: 'warning', headline: `${Drug}: do not start at ${where} (label)`.slice(0, 139), renal: rd('do-not-start', true) };
    case 'range': {
      const [lo, hi] = band.dailyMg!;
      if (draftDaily === undefined) {
        // a dose on the order that could not be read may be above the band: the prescriber is told, not left unwarned
        if (order.doseProblem || (draft && draft.frequencyPerDay === undefined)) {
          notes.push(`The draft's dose could not be checked against the label's ${fmt(lo)}–${fmt(hi)} mg/day (${order.doseProblem ?? 'its frequency could not be read'}).`);
          return { ...base, kind: 'dose-adjustment', severity: 'warning', headline: `${Drug}: ${where} — draft dose not readable; label range ${fmt(lo)}–${fmt(hi)} mg/day`.slice(0, 139), renal: rd('range', true) };
        }
        return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: ${where} — label range ${fmt(lo)}–${fmt(hi)} mg/day`.slice(0, 139), renal: rd('range', true) };
      }
      if (draftDaily > hi + EPS) {
        const headline = `${Drug}: ${fmt(draftDaily, 2)} mg/day exceeds ${fmt(lo)}–${fmt(hi)} mg/day for ${where}`.slice(0, 139);
        const d = rangeDose(drug, band, draftDaily, o.products ?? ProductTable.empty(), order.product?.ingredient === drug.name ? order.product.form : undefined);
        if ('reason' in d) {
          notes.push(`The draft's ${fmt(draftDaily, 2)} mg/day is above the label's ${fmt(lo)}–${fmt(hi)} mg/day for this kidney function. No dose is proposed automatically (${d.reason}): choose a dose within the range (${band.text}).`);
          return { ...base, kind: 'dose-adjustment', severity: 'warning', headline, renal: rd('range', true) };
        }
        notes.push(`Suggested ${fmt(d.perDoseMg, 2)} mg ${d.frequencyText}: ${d.basis}. Any dose within ${fmt(lo)}–${fmt(hi)} mg/day ${d.frequencyText} follows the label.`);
        return { ...base, kind: 'dose-adjustment', severity: 'warning', headline, proposedDose: proposed({ perDoseMg: d.perDoseMg, frequencyPerDay: d.frequencyPerDay, frequencyText: d.frequencyText }, d.perDoseMg), renal: rd('range', true) };
      }
      if (draftDaily < lo - EPS) notes.push(`The draft's ${fmt(draftDaily, 2)} mg/day is below the label range ${fmt(lo)}–${fmt(hi)} mg/day (not a renal safety concern).`);
      return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: ${fmt(draftDaily, 2)} mg/day is within ${fmt(lo)}–${fmt(hi)} mg/day for ${where}`.slice(0, 139), renal: rd('within', false) };
    }
    case 'dose': {
      const reg = regimenFor(band, draft?.value);
      if (!reg) {
        return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: ${where} — label: ${band.text}`.slice(0, 139), renal: rd('note', true) };
      }
      if (reg.use) notes.push(`Regimen chosen by the draft's dose: ${reg.use}.`);
      if (reg.perDoseMg !== undefined) {
        if (draftMatches(draft, reg)) return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: draft matches the label dose for ${where}`.slice(0, 139), renal: rd('within', false) };
        return {
          ...base,
          kind: 'dose-adjustment',
          severity: 'warning',
          headline: `${Drug}: ${where} — label dose ${fmt(reg.perDoseMg, 2)} mg ${reg.frequencyText}`.slice(0, 139),
          proposedDose: proposed(reg, reg.perDoseMg),
          renal: rd('dose', true),
        };
      }
      // weight-based (enoxaparin treatment): stated with the patient's weight, never written on the order automatically
      const kg = facts.weight?.value.value;
      const perDose = kg !== undefined && reg.mgPerKg !== undefined ? kg * reg.mgPerKg : undefined;
      if (perDose !== undefined && draft && draft.frequencyPerDay !== undefined && Math.abs(draft.frequencyPerDay - reg.frequencyPerDay) < EPS && Math.abs(draft.value - perDose) <= 0.1 * perDose) {
        return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: draft matches the label's ${fmt(reg.mgPerKg!, 2)} mg/kg ${reg.frequencyText} for ${where}`.slice(0, 139), renal: rd('within', false) };
      }
      const headline = `${Drug}: ${where} — label: ${fmt(reg.mgPerKg!, 2)} mg/kg ${reg.frequencyText}`.slice(0, 139);
      const syringe = perDose !== undefined && reg.roundToForm ? syringeDose(perDose, o.products ?? ProductTable.empty(), drug.name, reg.roundToForm) : undefined;
      if (syringe && !('reason' in syringe)) {
        notes.push(`Label: ${fmt(reg.mgPerKg!, 2)} mg/kg ${reg.frequencyText} = ${fmt(perDose!)} mg for ${fmt(kg!)} kg, rounded to the nearest syringe: ${fmt(syringe.perDoseMg)} mg (${syringe.syringe}).`);
        return { ...base, kind: 'dose-adjustment', severity: 'warning', headline, proposedDose: proposed(reg, syringe.perDoseMg), renal: rd('dose', true) };
      }
      notes.push(
        `Label: ${fmt(reg.mgPerKg!, 2)} mg/kg ${reg.frequencyText}${perDose !== undefined ? ` = ${fmt(perDose)} mg for ${fmt(kg!)} kg` : ''}. Not written on the order automatically: ${syringe && 'reason' in syringe ? syringe.reason : perDose === undefined ? 'the weight is not known' : 'round to an available syringe size'}.`,
      );
      return { ...base, kind: 'dose-adjustment', severity: 'warning', headline, renal: rd('dose', true) };
    }
    default:
      return { ...base, kind: 'info', severity: 'info', headline: `${Drug}: ${where} — ${band.text}`.slice(0, 139), renal: rd('note', true) };
  }
}

function draftMatches(draft: DraftOrder['currentDose'], reg: RenalRegimen): boolean {
  return draft !== undefined && draft.frequencyPerDay !== undefined && Math.abs(draft.value - reg.perDoseMg!) < EPS && Math.abs(draft.frequencyPerDay - reg.frequencyPerDay) < EPS;
}

function proposed(reg: RenalRegimen, perDoseMg: number): ProposedDose {
  return { perDose: { value: perDoseMg, unit: 'mg' }, frequencyText: reg.frequencyText, timing: { frequency: reg.frequencyPerDay, period: 1, periodUnit: 'd' } };
}

function measureText(r: Measured): string {
  if (r.kind === 'criteria') return `${fmt(r.value, 0)} of 3 dose-reduction criteria`;
  return `${r.kind === 'crcl' ? 'CrCl' : 'eGFR'} ${fmt(r.value)} ${r.unit}`;
}

interface MeasureOutcome {
  result?: Measured;
  tooYoung?: boolean;
  evidence: Evidence[];
}

/** Compute the drug's measure, adding the inputs used (with sources) and naming what is missing. */
function measure(
  k: RenalKnowledge,
  drug: RenalDrug,
  facts: PatientFacts,
  now: Date,
  maxAgeDays: number,
  inputs: RecommendationInput[],
  missing: string[],
  notes: string[],
): MeasureOutcome {
  const evidence: Evidence[] = [];
  const age = facts.ageYears?.value;
  if (facts.ageYears) inputs.push({ key: 'age', label: 'Age', value: facts.ageYears.value, unit: 'a', source: facts.ageYears.source });
  else missing.push('age (Patient.birthDate)');
  const sex: DosingSex | undefined = dosingSex(facts.sex?.value);
  const needsSex = drug.measure.kind !== 'criteria';
  if (needsSex) {
    if (facts.sex) inputs.push({ key: 'sex', label: 'Sex', value: facts.sex.value, source: facts.sex.source, ...(sex ? {} : { note: 'the formula needs male or female' }) });
    if (!sex) missing.push('sex, male or female (Patient.gender)');
  }
  const cr = creatinineForDosing(facts, now, maxAgeDays);
  if (cr.status === 'ok') inputs.push({ key: 'creatinine', label: 'Serum creatinine', value: Number(cr.value.toFixed(2)), unit: 'mg/dL', source: cr.fact.source });
  else if (cr.status === 'stale') {
    inputs.push({ key: 'creatinine', label: 'Serum creatinine', value: Number(cr.fact.value.value.toFixed(2)), unit: 'mg/dL', source: cr.fact.source, note: 'not used: too old' });
    notes.push(`The newest serum creatinine is older than ${maxAgeDays} days (or undated) and was not used: order a new value.`);
  }
  const scr = cr.status === 'ok' ? cr.value : undefined;
  const crMissing = cr.status === 'stale' ? cr.reason : 'serum creatinine (LOINC 2160-0)';
  if (age !== undefined && age < k.policy.minAgeYears) {
    notes.push(`The label bands used here are for adults; the patient is under ${k.policy.minAgeYears} (pediatric renal dosing is not covered).`);
    return { tooYoung: true, evidence };
  }

  if (drug.measure.kind === 'criteria') {
    const kg = facts.weight?.value.value;
    if (facts.weight) inputs.push({ key: 'weight', label: 'Weight', value: Number(kg!.toFixed(1)), unit: 'kg', source: facts.weight.source });
    let met = 0;
    let unknown: string[] = [];
    const values = { age, weight: kg, creatinine: scr };
    const reasons: string[] = [];
    for (const c of drug.measure.criteria) {
      const v = values[c.fact];
      if (v === undefined) {
        unknown.push(c.fact === 'age' ? 'age (Patient.birthDate)' : c.fact === 'weight' ? 'body weight (LOINC 29463-7)' : crMissing);
        continue;
      }
      const ok = (c.gte === undefined || v >= c.gte - EPS) && (c.lte === undefined || v <= c.lte + EPS);
      if (ok) {
        met++;
        reasons.push(c.text);
      }
    }
    const min = drug.measure.minMet;
    // decided regardless of the unknown criteria? (met already ≥ min, or cannot reach min even if all unknowns were met)
    if (unknown.length > 0 && met < min && met + unknown.length >= min) {
      unknown = [...new Set(unknown)];
      for (const u of unknown) if (!missing.includes(u)) missing.push(u);
      return { evidence };
    }
    if (unknown.length > 0) notes.push(`Not known: ${unknown.join(', ')}; the result does not depend on it.`);
    const band = drug.bands.find((b) => b.criteriaMet === met >= min);
    inputs.push({ key: 'criteria', label: `Dose-reduction criteria met (${min} needed)`, value: `${met}${reasons.length ? `: ${reasons.join(', ')}` : ''}` });
    return { result: { kind: 'criteria', value: met, unit: 'criteria', formula: drug.measure.criteria.map((c) => c.text).join('; '), band }, evidence };
  }

  if (drug.measure.kind === 'egfr') {
    if (scr !== undefined && age !== undefined && sex) {
      const v = ckdEpi2021({ ageYears: age, scrMgDl: scr, sex });
      evidence.push({ citation: CKD_EPI_2021_CITATION });
      const formula = `CKD-EPI 2021 (race-free): creatinine ${fmt(scr, 2)} mg/dL, ${age} y, ${sex} → ${fmt(v)} mL/min/1.73 m²`;
      inputs.push({ key: 'egfr', label: 'eGFR (computed)', value: Number(v.toFixed(1)), unit: 'mL/min/1.73 m²', note: 'CKD-EPI 2021, race-free' });
      return { result: { kind: 'egfr', value: v, unit: 'mL/min/1.73 m²', formula, band: bandFor(drug, v) }, evidence };
    }
    // fall back to the laboratory's eGFR when creatinine-based computation is not possible, under the same freshness rule
    const e = facts.egfr;
    const t = e?.source.date ? Date.parse(e.source.date) : Number.NaN;
    if (e && !Number.isNaN(t) && (now.getTime() - t) / 86400000 <= maxAgeDays) {
      const formula = `laboratory-reported eGFR (${e.source.reference}); creatinine-based calculation not possible`;
      inputs.push({ key: 'egfr', label: 'eGFR (laboratory)', value: Number(e.value.value.toFixed(1)), unit: 'mL/min/1.73 m²', source: e.source });
      return { result: { kind: 'egfr', value: e.value.value, unit: 'mL/min/1.73 m²', formula, band: bandFor(drug, e.value.value) }, evidence };
    }
    if (scr === undefined) missing.push(cr.status === 'stale' ? crMissing : 'serum creatinine (LOINC 2160-0) or eGFR');
    return { evidence };
  }

  // Cockcroft-Gault creatinine clearance with the label's weight
  const kg = facts.weight?.value.value;
  const cm = facts.height?.value.value;
  if (facts.weight) inputs.push({ key: 'weight', label: 'Weight (actual)', value: Number(kg!.toFixed(1)), unit: 'kg', source: facts.weight.source });
  else missing.push('body weight (LOINC 29463-7)');
  const needsHeight = drug.measure.weight !== 'actual' || drug.measure.perBsa === true;
  if (needsHeight) {
    if (facts.height) inputs.push({ key: 'height', label: 'Height', value: Number(cm!.toFixed(1)), unit: 'cm', source: facts.height.source });
    else missing.push(`body height (LOINC 8302-2), needed for ${drug.measure.perBsa ? 'body surface area' : `${drug.measure.weight} body weight`}`);
  }
  if (scr === undefined) missing.push(crMissing);
  if (missing.length > 0 || age === undefined || !sex || kg === undefined || scr === undefined) return { evidence };
  const w = dosingWeight(drug.measure.weight, kg, cm, sex);
  if ('missing' in w) {
    missing.push(w.missing);
    return { evidence };
  }
  if (w.basis !== 'actual') evidence.push({ citation: DEVINE_CITATION });
  evidence.push({ citation: CG_CITATION });
  let v = cockcroftGault({ ageYears: age, weightKg: w.kg, scrMgDl: scr, sex });
  let unit = 'mL/min';
  let formula = `Cockcroft-Gault: (140 − ${age}) × ${fmt(w.kg)} kg / (72 × ${fmt(scr, 2)} mg/dL)${sex === 'female' ? ' × 0.85' : ''} = ${fmt(v)} mL/min (${w.description})`;
  if (drug.measure.kind === 'crcl' && drug.measure.perBsa) {
    const bsa = bodySurfaceArea(cm!, kg);
    v = (v / bsa) * 1.73;
    unit = 'mL/min/1.73 m²';
    formula += `; ÷ BSA ${fmt(bsa, 2)} m² (Mosteller) × 1.73 = ${fmt(v)} mL/min/1.73 m² (as the label asks)`;
  }
  inputs.push({ key: 'crcl', label: 'Creatinine clearance (computed)', value: Number(v.toFixed(1)), unit, note: `Cockcroft-Gault, ${w.description}${unit === 'mL/min' ? '' : ', per 1.73 m² (Mosteller BSA)'}` });
  return { result: { kind: 'crcl', value: v, unit, formula, weight: w.description, band: bandFor(drug, v) }, evidence };
}
