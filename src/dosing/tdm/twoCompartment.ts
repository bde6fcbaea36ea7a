// Analytic two-compartment model with zero-order infusions into the central compartment (superposition). Pure.
// Units: mg, L, h, mg/L.
import type { PkParams } from './pkModel.js';

/** A zero-order infusion of amountMg from startH to endH (hours on a common clock; endH > startH). */
export interface Infusion {
  startH: number;
  endH: number;
  amountMg: number;
}

/** A repeated regimen: doseMg every intervalH, each infused over infusionH (≤ intervalH). */
export interface Regimen {
  doseMg: number;
  intervalH: number;
  infusionH: number;
}

/** Macro-constants: unit-bolus response C(t) = Σ coef_i · e^(−λ_i t) (coef in 1/L); λ = [α, β]. */
export interface Disposition {
  lambda: [number, number];
  coef: [number, number];
}

export function disposition(p: PkParams): Disposition {
  const k10 = p.CL / p.Vc;
  const k12 = p.Q / p.Vc;
  const k21 = p.Q / p.Vp;
  const s = k10 + k12 + k21;
  const disc = Math.sqrt(Math.max(0, s * s - 4 * k10 * k21));
  const alpha = (s + disc) / 2;
  // β = k10·k21/α: numerically stable form of (s − disc)/2
  const beta = (k10 * k21) / alpha;
  const d = alpha - beta;
  return { lambda: [alpha, beta], coef: [(alpha - k21) / (p.Vc * d), (k21 - beta) / (p.Vc * d)] };
}

function checkInfusion(f: Infusion): void {
  if (!(f.endH > f.startH) || !(f.amountMg >= 0)) throw new Error(`invalid infusion ${JSON.stringify(f)} (end must be after start)`);
}

/** Concentration (mg/L) at time t from one infusion, given the disposition. */
function infusionConc(d: Disposition, f: Infusion, t: number): number {
  if (t <= f.startH) return 0;
  const rate = f.amountMg / (f.endH - f.startH);
  const u = Math.min(t, f.endH);
  let c = 0;
  for (let i = 0; i < 2; i++) {
    const l = d.lambda[i]!;
    c += (d.coef[i]! / l) * (Math.exp(-l * (t - u)) - Math.exp(-l * (t - f.startH)));
  }
  return rate * c;
}

/** ∫_{start}^{t} C dt (mg·h/L) from one infusion. */
function infusionCumAuc(d: Disposition, f: Infusion, t: number): number {
  if (t <= f.startH) return 0;
  const rate = f.amountMg / (f.endH - f.startH);
  const T = f.endH - f.startH;
  const u = Math.min(t, f.endH);
  let a = 0;
  for (let i = 0; i < 2; i++) {
    const l = d.lambda[i]!;
    const k = d.coef[i]! / l;
    // during the infusion
    a += k * (u - f.startH - (1 - Math.exp(-l * (u - f.startH))) / l);
    // after the end
    if (t > f.endH) a += (k * (1 - Math.exp(-l * T)) * (1 - Math.exp(-l * (t - f.endH)))) / l;
  }
  return rate * a;
}

/** Concentration (mg/L) at time tH from a dose history (superposition of every infusion). */
export function concentration(p: PkParams, doses: readonly Infusion[], tH: number): number {
  const d = disposition(p);
  let c = 0;
  for (const f of doses) {
    checkInfusion(f);
    c += infusionConc(d, f, tH);
  }
  return c;
}

export function concentrations(p: PkParams, doses: readonly Infusion[], timesH: readonly number[]): number[] {
  const d = disposition(p);
  for (const f of doses) checkInfusion(f);
  return timesH.map((t) => doses.reduce((acc, f) => acc + infusionConc(d, f, t), 0));
}

/** Analytic AUC (mg·h/L) of the dose history between fromH and toH. */
export function aucBetween(p: PkParams, doses: readonly Infusion[], fromH: number, toH: number): number {
  const d = disposition(p);
  let a = 0;
  for (const f of doses) {
    checkInfusion(f);
    a += infusionCumAuc(d, f, toH) - infusionCumAuc(d, f, fromH);
  }
  return a;
}

function checkRegimen(r: Regimen): void {
  if (!(r.doseMg > 0) || !(r.intervalH > 0) || !(r.infusionH > 0) || r.infusionH > r.intervalH)
    throw new Error(`invalid regimen ${JSON.stringify(r)} (need 0 < infusion ≤ interval)`);
}

/** Steady-state concentration (mg/L) tH hours after the start of a dose (0 ≤ tH ≤ τ), infinite past doses. */
export function steadyStateConcentration(p: PkParams, r: Regimen, tH: number): number {
  checkRegimen(r);
  const d = disposition(p);
  const t = ((tH % r.intervalH) + r.intervalH) % r.intervalH;
  const rate = r.doseMg / r.infusionH;
  let c = 0;
  for (let i = 0; i < 2; i++) {
    const l = d.lambda[i]!;
    const k = d.coef[i]! / l;
    const u = Math.min(t, r.infusionH);
    const current = Math.exp(-l * (t - u)) - Math.exp(-l * t);
    // all earlier doses ended before this one started: e^(−λkτ)(e^(−λ(t−T)) − e^(−λt)), summed over k ≥ 1
    const acc = Math.exp(-l * r.intervalH) / (1 - Math.exp(-l * r.intervalH));
    const past = acc * (Math.exp(-l * (t - r.infusionH)) - Math.exp(-l * t));
    c += k * (current + past);
  }
  return rate * c;
}

/** Steady-state AUC over 24 h (mg·h/L) = daily dose / CL (exact for any linear model). */
export function steadyStateAuc24(p: PkParams, r: Regimen): number {
  checkRegimen(r);
  return (r.doseMg * (24 / r.intervalH)) / p.CL;
}

/** A regimen as an explicit list of `count` infusions starting at startH. */
export function regimenInfusions(r: Regimen, count: number, startH = 0): Infusion[] {
  checkRegimen(r);
  return Array.from({ length: count }, (_, k) => ({ startH: startH + k * r.intervalH, endH: startH + k * r.intervalH + r.infusionH, amountMg: r.doseMg }));
}

/** One-compartment helpers (checks and comparisons): steady-state AUC24 = daily dose / (ke · V). */
export function oneCompartmentSteadyStateAuc24(kePerH: number, volumeL: number, doseMg: number, intervalH: number): number {
  return (doseMg * (24 / intervalH)) / (kePerH * volumeL);
}

/** One-compartment concentration after a single zero-order infusion (mg/L). */
export function oneCompartmentInfusionConc(kePerH: number, volumeL: number, f: Infusion, tH: number): number {
  checkInfusion(f);
  if (tH <= f.startH) return 0;
  const rate = f.amountMg / (f.endH - f.startH);
  const u = Math.min(tH, f.endH);
  return (rate / (kePerH * volumeL)) * (Math.exp(-kePerH * (tH - u)) - Math.exp(-kePerH * (tH - f.startH)));
}
