// PatientFacts + draft order → VancomycinInput → evaluateVancomycin → Recommendation (pure; the clock is passed in).
import type { DraftOrder } from '../../cds/orders.js';
import type { PatientFacts } from '../../domain/facts.js';
import type { Evidence, Recommendation, RecommendationInput, TdmDetail } from '../../domain/recommendation.js';
import { creatinineForDosing, dosingSex } from '../renal/kidney.js';
import type { DialysisStatus } from '../renal/evaluator.js';
import { evaluateVancomycin, type VancomycinInput, type VancomycinResult } from './evaluator.js';
import type { PkModelFile } from './pkModel.js';
import { infusionHours, TARGET_CITATION } from './regimen.js';
import type { Regimen } from './twoCompartment.js';

export const TDM_METHOD_VERSION = '1.0.0';
export const VANCOMYCIN_RXNORM = '11124';

export interface TdmOptions {
  /** the hook time: creatinine freshness is judged against it */
  now: Date;
  newId: () => string;
  creatinineMaxAgeDays: number;
  /** dialysis status from Conditions and recent dialysis Procedures (renal evaluator's dialysisStatus) */
  dialysis?: DialysisStatus;
  modelId?: string;
}

const EVIDENCE: Evidence[] = [
  { citation: TARGET_CITATION, url: 'https://doi.org/10.1093/ajhp/zxaa036' },
  {
    citation: 'Goti V et al. Hospitalized patients with and without hemodialysis have markedly different vancomycin pharmacokinetics: a population pharmacokinetic model-based analysis. Ther Drug Monit 2018;40:212-221',
    url: 'https://doi.org/10.1097/FTD.0000000000000490',
  },
];

function fmt(v: number, digits = 0): string {
  return Number(v.toFixed(digits)).toString();
}
function r2(v: number): number {
  return Math.round(v * 100) / 100;
}

/** The draft order's regimen (mg per dose, interval from the timing), infused at 1 h per g. */
export function draftRegimen(order: DraftOrder): Regimen | undefined {
  const d = order.currentDose;
  if (!d || d.unit !== 'mg' || d.frequencyPerDay === undefined || d.frequencyPerDay <= 0) return undefined;
  const intervalH = 24 / d.frequencyPerDay;
  const infusionH = infusionHours(d.value);
  if (infusionH > intervalH) return undefined;
  return { doseMg: d.value, intervalH, infusionH };
}

export function recommendVancomycin(facts: PatientFacts, order: DraftOrder, models: PkModelFile, o: TdmOptions): Recommendation {
  const inputs: RecommendationInput[] = [];
  const missing: string[] = [];
  const notes: string[] = [];
  const age = facts.ageYears;
  if (age) inputs.push({ key: 'age', label: 'Age', value: age.value, unit: 'a', source: age.source });
  else missing.push('age (Patient.birthDate)');
  const sex = dosingSex(facts.sex?.value);
  if (sex && facts.sex) inputs.push({ key: 'sex', label: 'Sex', value: sex, source: facts.sex.source });
  else missing.push('sex (male or female, for Cockcroft-Gault)');
  const w = facts.weight;
  if (w) inputs.push({ key: 'weight', label: 'Body weight (actual)', value: r2(w.value.value), unit: 'kg', source: w.source });
  else missing.push('body weight (LOINC 29463-7)');
  const cr = creatinineForDosing(facts, o.now, o.creatinineMaxAgeDays);
  if (cr.status === 'ok') inputs.push({ key: 'serumCreatinine', label: 'Serum creatinine', value: r2(cr.value), unit: 'mg/dL', source: cr.fact.source });
  else missing.push(cr.reason);
  const dia = o.dialysis?.onDialysis ? o.dialysis : undefined;
  if (dia?.condition) inputs.push({ key: 'dialysis', label: 'Haemodialysis / end-stage kidney disease', value: dia.condition.text || 'on the problem list', source: dia.condition.source });
  if (dia?.procedure)
    inputs.push({
      key: 'dialysisProcedure',
      label: `Dialysis procedure (${dia.modality})`,
      value: `${dia.procedure.code.display} (${dia.procedure.status})`,
      source: dia.procedure.source,
      // each session is a new Procedure; "on <modality>" is the fact (a monitoring override holds across sessions)
      fingerprint: 'label',
    });

  const doses = (facts.administrations ?? []).filter((a) => a.drug === 'vancomycin');
  const levels = (facts.drugLevels ?? []).filter((l) => l.drug === 'vancomycin');
  for (const [i, d] of doses.entries())
    inputs.push({ key: `dose-${i + 1}`, label: `Dose ${i + 1} given`, value: `${fmt(d.amountMg)} mg ${d.start.slice(0, 16).replace('T', ' ')}–${d.end.slice(11, 16)} UTC`, source: d.source, ...(d.endNote ? { note: d.endNote } : {}) });
  for (const [i, l] of levels.entries())
    inputs.push({ key: `level-${i + 1}`, label: `Vancomycin level ${i + 1}`, value: `${r2(l.mgL)} mg/L at ${l.time.slice(0, 16).replace('T', ' ')} UTC`, source: l.source });
  if (doses.some((d) => d.endNote)) notes.push('Some infusion end times were not recorded: assumed 1 h per g (or from the rate) — see the inputs.');

  const drug = { name: 'vancomycin', rxnorm: VANCOMYCIN_RXNORM };
  const base = {
    id: o.newId(),
    drug,
    ...(order.ref ? { orderRef: order.ref } : {}),
    ...(order.currentDose ? { draftDose: order.currentDose } : {}),
    inputs,
    evidence: EVIDENCE,
  };
  const missingRec = (extraNotes: string[]): Recommendation => ({
    ...base,
    kind: 'missing-data',
    severity: 'warning',
    headline: `Vancomycin AUC dosing not available: ${missing.length ? `missing ${missing.map((m) => m.split(' (')[0]).join(', ')}` : 'data could not be used'}`.slice(0, 139),
    missing: missing.length ? missing : ['usable vancomycin dosing data (see notes)'],
    method: { id: 'tdm-goti2018-prior', name: 'Vancomycin AUC-guided dosing', version: TDM_METHOD_VERSION },
    notes: [...notes, ...extraNotes],
  });
  // Goti 2018's dialysis covariates are for intermittent haemodialysis: no dose from it on CRRT or peritoneal dialysis
  if (dia && (dia.modality === 'crrt' || dia.modality === 'peritoneal')) {
    const what = dia.modality === 'crrt' ? 'continuous renal replacement therapy' : 'peritoneal dialysis';
    missing.push(`a vancomycin model for ${what} (Goti 2018 covers intermittent haemodialysis only)`);
    return missingRec([`On ${what}: dose vancomycin by levels with pharmacy or nephrology advice; a creatinine-based or haemodialysis estimate would be wrong here.`]);
  }
  if (!age || !sex || !w || cr.status !== 'ok') return missingRec([]);
  if (age.value < 18) {
    missing.push('an adult patient: the population models (Goti 2018, Thomson 2009) were developed in adults');
    return missingRec(['Paediatric vancomycin dosing is not covered: use a paediatric protocol.']);
  }

  const draft = draftRegimen(order);
  const input: VancomycinInput = {
    ageYears: age.value,
    sex,
    weightKg: w.value.value,
    serumCreatinine: { mgDl: cr.value, source: cr.fact.source.reference },
    onHemodialysis: dia !== undefined,
    doses: doses.map((d) => ({ start: d.start, end: d.end, amountMg: d.amountMg })),
    levels: levels.map((l) => ({ time: l.time, mgL: l.mgL })),
    ...(draft ? { currentRegimen: draft } : {}),
    ...(o.modelId ? { modelId: o.modelId } : {}),
  };
  let res: VancomycinResult;
  try {
    res = evaluateVancomycin(input, models);
  } catch (err) {
    return missingRec([`The vancomycin model could not use these data: ${err instanceof Error ? err.message : String(err)}`.slice(0, 300)]);
  }

  const m = res.regimen.maintenance;
  const methodId = `tdm-${res.model.id}-${res.method}`;
  const levelsUsed = res.curve.observed.length;
  const cur = res.current;
  const active = doses.length > 0;
  const outOfTarget = cur !== undefined && !cur.withinTarget;
  const regimenText = (d: number, tau: number) => `${fmt(d)} mg q${fmt(tau, 1)}h`;
  let kind: Recommendation['kind'];
  let severity: Recommendation['severity'];
  let headline: string;
  const auc = (v: number) => fmt(v);
  if (active && outOfTarget) {
    kind = 'dose-adjustment';
    severity = 'warning';
    headline = `Vancomycin AUC24 ${auc(cur.auc24)} (target 400–600): change to ${regimenText(m.doseMg, m.intervalH)} (AUC ${auc(m.auc24)})`;
  } else if (active && cur && cur.regimen.doseMg === m.doseMg && cur.regimen.intervalH === m.intervalH) {
    kind = 'info';
    severity = 'info';
    headline = `Vancomycin AUC24 ${auc(cur.auc24)} within 400–600 mg·h/L on ${regimenText(m.doseMg, m.intervalH)}`;
  } else {
    kind = 'dose';
    severity = outOfTarget || !m.withinTarget ? 'warning' : 'info';
    headline = res.regimen.loading
      ? `Vancomycin: load ${fmt(res.regimen.loading.doseMg)} mg, then ${regimenText(m.doseMg, m.intervalH)} (predicted AUC24 ${auc(m.auc24)})`
      : `Vancomycin: ${regimenText(m.doseMg, m.intervalH)} (predicted AUC24 ${auc(m.auc24)}, target 400–600)`;
  }
  if (res.regimen.loading) notes.push(`Loading dose ${fmt(res.regimen.loading.doseMg)} mg over ${fmt(res.regimen.loading.infusionH, 2)} h: ${res.regimen.loading.basis}. Start maintenance ${fmt(m.intervalH)} h after the loading dose.`);
  notes.push(...res.notes);
  notes.push(
    `Model ${res.model.name}: population model of hospitalised adults; steady-state AUC24 = daily dose / CL. Infusion time 1 h per g (at least 1 h). The AUC band (10th–90th percentile) is the model's uncertainty, not a dose range.`,
  );
  if (draft && !active) notes.push(`The draft order (${regimenText(draft.doseMg, draft.intervalH)}) is predicted at AUC24 ${auc(cur?.auc24 ?? 0)} mg·h/L.`);

  inputs.push({ key: 'crcl', label: 'Creatinine clearance (Cockcroft-Gault, model covariate)', value: fmt(res.covariates.crcl, 1), unit: 'mL/min', note: res.covariates.crclUncapped > res.covariates.crcl ? `capped (uncapped ${fmt(res.covariates.crclUncapped, 1)})` : 'Cockcroft-Gault, actual body weight' });

  const band = (b: { p10: number; p50: number; p90: number }) => ({ p10: r2(b.p10), p50: r2(b.p50), p90: r2(b.p90) });
  const tdm: TdmDetail = {
    method: res.method,
    model: res.model,
    levelsUsed,
    dosesRecorded: doses.length,
    target: { low: res.target.low, high: res.target.high, aim: res.target.aim, unit: 'mg·h/L' },
    parameters: { CL: r2(res.parameters.individual.CL), Vc: r2(res.parameters.individual.Vc), Vp: r2(res.parameters.individual.Vp), Q: r2(res.parameters.individual.Q) },
    crclMlMin: r2(res.covariates.crcl),
    ...(res.regimen.loading ? { loading: res.regimen.loading } : {}),
    proposed: {
      doseMg: m.doseMg,
      intervalH: m.intervalH,
      infusionH: m.infusionH,
      auc24: r2(m.auc24),
      band: band(res.regimen.band),
      withinTarget: m.withinTarget,
      troughMgL: r2(m.troughMgL),
      peakMgL: r2(m.peakMgL),
    },
    ...(cur
      ? {
          current: {
            doseMg: cur.regimen.doseMg,
            intervalH: cur.regimen.intervalH,
            infusionH: cur.regimen.infusionH,
            auc24: r2(cur.auc24),
            band: band(cur.band),
            withinTarget: cur.withinTarget,
            from: draft ? ('draft-order' as const) : ('administrations' as const),
          },
        }
      : {}),
    curve: res.curve,
  };
  return {
    ...base,
    kind,
    severity,
    headline: headline.slice(0, 139),
    proposedDose: {
      perDose: { value: m.doseMg, unit: 'mg' },
      frequencyText: `every ${fmt(m.intervalH)} hours (infuse over ${fmt(m.infusionH, 2)} h)`,
      timing: { frequency: 1, period: m.intervalH, periodUnit: 'h' },
      roundingNote: 'multiples of 250 mg, intervals 8/12/24 h, closest to AUC24 500 mg·h/L',
    },
    missing: [],
    method: {
      id: methodId,
      name: res.method === 'bayesian' ? `Bayesian (MAP) AUC estimate, ${res.model.name}, ${levelsUsed} level(s)` : `Population (prior) AUC estimate, ${res.model.name}`,
      version: TDM_METHOD_VERSION,
    },
    notes,
    tdm,
  };
}
