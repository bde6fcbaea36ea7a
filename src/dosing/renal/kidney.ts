// Kidney function (pure): Cockcroft-Gault creatinine clearance, CKD-EPI 2021 eGFR, body-weight bases, creatinine freshness.
import type { AdministrativeSex, Fact, PatientFacts } from '../../domain/facts.js';
import type { Quantity } from '../../domain/units.js';

export type DosingSex = 'male' | 'female';
/** Which body weight a label's Cockcroft-Gault estimate uses. */
export type WeightBasis = 'actual' | 'ideal' | 'adjusted';

export const CG_CITATION = 'Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum creatinine. Nephron 1976;16:31-41';
export const CKD_EPI_2021_CITATION =
  'Inker LA et al. New creatinine- and cystatin C-based equations to estimate GFR without race. N Engl J Med 2021;385:1737-49 (CKD-EPI 2021)';
export const DEVINE_CITATION = 'Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650-5 (ideal body weight)';

/** Cockcroft-Gault creatinine clearance, mL/min: (140 − age) × weight / (72 × Scr), × 0.85 if female. */
export function cockcroftGault(p: { ageYears: number; weightKg: number; scrMgDl: number; sex: DosingSex }): number {
  const crcl = ((140 - p.ageYears) * p.weightKg) / (72 * p.scrMgDl);
  return p.sex === 'female' ? crcl * 0.85 : crcl;
}

/** CKD-EPI 2021 race-free eGFR, mL/min/1.73 m². */
export function ckdEpi2021(p: { ageYears: number; scrMgDl: number; sex: DosingSex }): number {
  const female = p.sex === 'female';
  const kappa = female ? 0.7 : 0.9;
  const alpha = female ? -0.241 : -0.302;
  const r = p.scrMgDl / kappa;
  return 142 * Math.min(r, 1) ** alpha * Math.max(r, 1) ** -1.2 * 0.9938 ** p.ageYears * (female ? 1.012 : 1);
}

/** Devine ideal body weight, kg: 50 (male) / 45.5 (female) + 2.3 kg per inch over 5 feet. */
export function idealBodyWeight(heightCm: number, sex: DosingSex): number {
  const inchesOver5ft = heightCm / 2.54 - 60;
  return (sex === 'male' ? 50 : 45.5) + 2.3 * inchesOver5ft;
}

/** Adjusted body weight, kg: IBW + 0.4 × (TBW − IBW). */
export function adjustedBodyWeight(actualKg: number, idealKg: number): number {
  return idealKg + 0.4 * (actualKg - idealKg);
}

/** Mosteller body surface area, m². */
export function bodySurfaceArea(heightCm: number, weightKg: number): number {
  return Math.sqrt((heightCm * weightKg) / 3600);
}

export interface DosingWeight {
  kg: number;
  basis: WeightBasis;
  /** how the weight was chosen, shown on the card */
  description: string;
}

/**
 * The weight a label asks for. Ideal and adjusted weight need the height; when the actual weight is below the ideal,
 * the actual weight is used (the common convention: never dose on more weight than the patient has).
 */
export function dosingWeight(basis: WeightBasis, actualKg: number, heightCm: number | undefined, sex: DosingSex): DosingWeight | { missing: string } {
  if (basis === 'actual') return { kg: actualKg, basis, description: `actual body weight ${fmt(actualKg)} kg` };
  if (heightCm === undefined) return { missing: `body height (LOINC 8302-2), needed for ${basis} body weight` };
  const ibw = idealBodyWeight(heightCm, sex);
  if (actualKg <= ibw) return { kg: actualKg, basis: 'actual', description: `actual body weight ${fmt(actualKg)} kg (below the ideal body weight ${fmt(ibw)} kg)` };
  if (basis === 'ideal') return { kg: ibw, basis, description: `ideal body weight (Devine) ${fmt(ibw)} kg (actual ${fmt(actualKg)} kg)` };
  const adj = adjustedBodyWeight(actualKg, ibw);
  return { kg: adj, basis, description: `adjusted body weight ${fmt(adj)} kg = IBW ${fmt(ibw)} + 0.4 × (${fmt(actualKg)} − ${fmt(ibw)}) kg` };
}

export function dosingSex(sex: AdministrativeSex | undefined): DosingSex | undefined {
  return sex === 'male' || sex === 'female' ? sex : undefined;
}

export type CreatinineStatus =
  | { status: 'ok'; value: number; fact: Fact<Quantity>; ageDays: number }
  | { status: 'missing'; reason: string }
  | { status: 'stale'; reason: string; fact: Fact<Quantity>; ageDays: number };

const DAY_MS = 24 * 3600 * 1000;

/**
 * The serum creatinine (mg/dL, newest valid value, converted upstream) if it is recent enough for a dosing decision.
 * A value without a date counts as stale: its age cannot be known. `now` is the hook time (kept pure).
 */
export function creatinineForDosing(facts: PatientFacts, now: Date, maxAgeDays: number): CreatinineStatus {
  const f = facts.serumCreatinine;
  if (!f) return { status: 'missing', reason: 'serum creatinine (LOINC 2160-0)' };
  const t = f.source.date ? Date.parse(f.source.date) : Number.NaN;
  if (Number.isNaN(t)) return { status: 'stale', reason: `serum creatinine with a date (${f.source.reference} has none)`, fact: f, ageDays: Number.POSITIVE_INFINITY };
  const ageDays = Math.max(0, (now.getTime() - t) / DAY_MS);
  if (ageDays > maxAgeDays)
    return {
      status: 'stale',
      reason: `a serum creatinine from the last ${maxAgeDays} days (newest is ${Math.floor(ageDays)} days old, ${f.source.date!.slice(0, 10)})`,
      fact: f,
      ageDays,
    };
  return { status: 'ok', value: f.value.value, fact: f, ageDays };
}

function fmt(v: number): string {
  return Number(v.toFixed(1)).toString();
}
