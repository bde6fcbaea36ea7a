// Warfarin dose refinement on day 4 or 5 from the patient's own INR response: Lenzini 2010, pharmacogenetic version (pure).
// Lenzini P et al. Integration of genetic, clinical, and INR data to refine warfarin dosing. Clin Pharmacol Ther
// 2010;87:572-8 (doi 10.1038/clpt.2010.13). The clinical (no-genotype) version is not implemented: only its intercept,
// ln(INR) and age terms are in ../shared/reference/dosing-formulas.md, and a dose is never computed from a partial equation.

export const LENZINI_CITATION =
  'Lenzini P et al. Integration of genetic, clinical, and INR data to refine warfarin dosing. Clin Pharmacol Ther 2010;87:572-8';
export const LENZINI_URL = 'https://doi.org/10.1038/clpt.2010.13';

export interface LenziniInputs {
  /** day of therapy the INR was measured on: the equation is for day 4 or day 5 */
  day: 4 | 5;
  ageYears: number;
  /** INR measured on that day */
  inr: number;
  targetInr: number;
  /** VKORC1 -1639 A alleles (G/G 0, A/G 1, A/A 2) */
  vkorc1ACount: 0 | 1 | 2;
  cyp2c9Star2Count: 0 | 1 | 2;
  cyp2c9Star3Count: 0 | 1 | 2;
  bsaM2: number;
  black: boolean;
  stroke: boolean;
  diabetes: boolean;
  amiodarone: boolean;
  fluvastatin: boolean;
  /** daily doses (mg) actually given 2, 3 and 4 days before (dose 4 days before is 0 on day 4 by definition) */
  doseMinus2Mg: number;
  doseMinus3Mg: number;
  doseMinus4Mg: number;
}

export interface LenziniTerm {
  key: string;
  label: string;
  /** contribution to ln(weekly dose) */
  lnContribution: number;
}

export type LenziniResult = { weeklyDoseMg: number; terms: LenziniTerm[] } | { invalid: string[] };

/** Weekly warfarin dose (mg/week) refined from the INR on day 4 or 5 (Lenzini 2010, pharmacogenetic equation). */
export function lenziniWeeklyDose(i: LenziniInputs): LenziniResult {
  const invalid: string[] = [];
  if (i.day !== 4 && i.day !== 5) invalid.push('the equation applies to the INR of day 4 or day 5 of therapy');
  if (!(i.inr > 0 && i.inr < 20)) invalid.push('INR must be a positive measured value');
  if (!(i.targetInr >= 1.5 && i.targetInr <= 4)) invalid.push('target INR must be between 1.5 and 4');
  if (!(i.bsaM2 > 0.5 && i.bsaM2 < 3.5)) invalid.push('body surface area must be plausible (0.5–3.5 m²)');
  if (!(i.ageYears >= 18 && i.ageYears < 120)) invalid.push('the equation was derived in adults');
  for (const [k, v] of [['doseMinus2Mg', i.doseMinus2Mg], ['doseMinus3Mg', i.doseMinus3Mg], ['doseMinus4Mg', i.doseMinus4Mg]] as const)
    if (!(v >= 0 && v <= 30)) invalid.push(`${k} must be a daily dose between 0 and 30 mg`);
  if (invalid.length > 0) return { invalid };
  // "dose_minus4 = 0 on day 4": the dose 4 days before day 4 does not exist
  const minus4 = i.day === 4 ? 0 : i.doseMinus4Mg;
  const terms: LenziniTerm[] = [
    { key: 'intercept', label: 'Intercept', lnContribution: 3.10894 },
    { key: 'age', label: `Age ${i.ageYears} y`, lnContribution: -0.00767 * i.ageYears },
    { key: 'inr', label: `INR ${i.inr} on day ${i.day}`, lnContribution: -0.51611 * Math.log(i.inr) },
    { key: 'vkorc1', label: `VKORC1 -1639 A alleles: ${i.vkorc1ACount}`, lnContribution: -0.23032 * i.vkorc1ACount },
    { key: 'cyp2c9Star2', label: `CYP2C9*2 alleles: ${i.cyp2c9Star2Count}`, lnContribution: -0.14745 * i.cyp2c9Star2Count },
    { key: 'cyp2c9Star3', label: `CYP2C9*3 alleles: ${i.cyp2c9Star3Count}`, lnContribution: -0.3077 * i.cyp2c9Star3Count },
    { key: 'bsa', label: `BSA ${i.bsaM2.toFixed(2)} m²`, lnContribution: 0.24597 * i.bsaM2 },
    { key: 'targetInr', label: `Target INR ${i.targetInr}`, lnContribution: 0.26729 * i.targetInr },
    { key: 'black', label: 'Black race', lnContribution: i.black ? -0.09644 : 0 },
    { key: 'stroke', label: 'Stroke', lnContribution: i.stroke ? -0.2059 : 0 },
    { key: 'diabetes', label: 'Diabetes', lnContribution: i.diabetes ? -0.11216 : 0 },
    { key: 'amiodarone', label: 'Amiodarone', lnContribution: i.amiodarone ? -0.1035 : 0 },
    { key: 'fluvastatin', label: 'Fluvastatin', lnContribution: i.fluvastatin ? -0.19275 : 0 },
    { key: 'doseMinus2', label: `Dose 2 days before: ${i.doseMinus2Mg} mg`, lnContribution: 0.0169 * i.doseMinus2Mg },
    { key: 'doseMinus3', label: `Dose 3 days before: ${i.doseMinus3Mg} mg`, lnContribution: 0.02018 * i.doseMinus3Mg },
    { key: 'doseMinus4', label: `Dose 4 days before: ${minus4} mg`, lnContribution: 0.01065 * minus4 },
  ];
  return { weeklyDoseMg: Math.exp(terms.reduce((s, t) => s + t.lnContribution, 0)), terms };
}
