// Regimen search and loading dose for AUC-guided vancomycin dosing. Pure.
import type { PkParams } from './pkModel.js';
import { steadyStateAuc24, steadyStateConcentration, type Regimen } from './twoCompartment.js';

export const AUC_TARGET = { low: 400, high: 600, aim: 500 } as const;
export const TARGET_CITATION =
  'Rybak MJ et al. Therapeutic monitoring of vancomycin for serious methicillin-resistant Staphylococcus aureus infections: a revised consensus guideline and review by ASHP, IDSA, PIDS and SIDP. Am J Health Syst Pharm 2020;77:835-864';

export interface SearchOptions {
  dosesMg?: readonly number[];
  intervalsH?: readonly number[];
  /** AUC difference (mg·h/L) within which two candidates count as tied; ties go to fewer doses per day */
  tieToleranceMgHL?: number;
}

/** Infusion duration: 1 h per 1 g, at least 1 h (e.g. 1500 mg → 1.5 h). */
export function infusionHours(doseMg: number): number {
  return Math.max(1, doseMg / 1000);
}

export interface RegimenProposal extends Regimen {
  auc24: number;
  withinTarget: boolean;
  /** steady-state trough and end-of-infusion peak (mg/L), for display */
  troughMgL: number;
  peakMgL: number;
}

export function describeRegimen(p: PkParams, r: Regimen): RegimenProposal {
  const auc24 = steadyStateAuc24(p, r);
  return {
    ...r,
    auc24,
    withinTarget: auc24 >= AUC_TARGET.low && auc24 <= AUC_TARGET.high,
    troughMgL: steadyStateConcentration(p, r, r.intervalH),
    peakMgL: steadyStateConcentration(p, r, r.infusionH),
  };
}

const DEFAULT_DOSES = Array.from({ length: 9 }, (_, i) => 500 + 250 * i); // 500 … 2500 mg
const DEFAULT_INTERVALS = [8, 12, 24];

/**
 * Maintenance regimen closest to AUC24 = 500 mg·h/L among practical doses (multiples of 250 mg, 500–2500) and
 * intervals (8/12/24 h). Candidates within the tie tolerance (default 10 mg·h/L) of the best are tied; ties go to the
 * longest interval (fewest doses per day), then the smaller daily dose. `withinTarget` is false if nothing reaches 400–600.
 */
export function searchRegimen(p: PkParams, opts: SearchOptions = {}): RegimenProposal {
  const doses = opts.dosesMg ?? DEFAULT_DOSES;
  const intervals = opts.intervalsH ?? DEFAULT_INTERVALS;
  const tol = opts.tieToleranceMgHL ?? 10;
  const cands: { r: Regimen; auc: number; dist: number }[] = [];
  for (const tau of intervals)
    for (const d of doses) {
      const r = { doseMg: d, intervalH: tau, infusionH: infusionHours(d) };
      if (r.infusionH > tau) continue;
      const auc = steadyStateAuc24(p, r);
      cands.push({ r, auc, dist: Math.abs(auc - AUC_TARGET.aim) });
    }
  if (cands.length === 0) throw new Error('no candidate regimen');
  const bestDist = Math.min(...cands.map((c) => c.dist));
  const tied = cands.filter((c) => c.dist <= bestDist + tol);
  tied.sort((a, b) => b.r.intervalH - a.r.intervalH || (a.r.doseMg * 24) / a.r.intervalH - (b.r.doseMg * 24) / b.r.intervalH || a.dist - b.dist);
  return describeRegimen(p, tied[0]!.r);
}

/**
 * Loading dose for a patient without prior doses: 25 mg/kg actual body weight, rounded to the nearest 250 mg,
 * capped at 3000 mg. Source: the 2020 ASHP/IDSA/PIDS/SIDP consensus (TARGET_CITATION) suggests 20–35 mg/kg actual body
 * weight, max 3000 mg, for serious MRSA infections; 25 mg/kg is a conservative choice inside that range (the upper
 * part is meant for the critically ill). Adjustable by the caller via the exported constant only in a code change.
 */
export const LOADING_MG_PER_KG = 25;
export const LOADING_MAX_MG = 3000;
export function loadingDose(weightKg: number): { doseMg: number; infusionH: number; basis: string } {
  const raw = LOADING_MG_PER_KG * weightKg;
  const doseMg = Math.min(LOADING_MAX_MG, Math.max(250, Math.round(raw / 250) * 250));
  return {
    doseMg,
    infusionH: infusionHours(doseMg),
    basis: `${LOADING_MG_PER_KG} mg/kg × ${Number(weightKg.toFixed(1))} kg actual body weight = ${Math.round(raw)} mg, rounded to 250 mg, max ${LOADING_MAX_MG} mg (ASHP/IDSA/PIDS/SIDP 2020: 20–35 mg/kg, max 3000 mg)`,
  };
}
