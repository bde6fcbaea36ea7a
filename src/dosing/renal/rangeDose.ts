// A dose inside a label's daily range band that a prescriber can accept with one click: the draft's place in the
// normal-function range carried into the band's range, at the band's frequency, rounded down to whole units of one
// marketed strength (knowledge/drug-products.json). Weight-based doses rounded to a prefilled-syringe size.
import { INTERCHANGEABLE_FORMS, makeableDoses, type ProductTable } from '../../domain/products.js';
import type { RenalBand, RenalDrug } from '../../knowledge/renal.js';

export interface RangeDose {
  perDoseMg: number;
  frequencyPerDay: number;
  frequencyText: string;
  /** how the dose was chosen, for the card */
  basis: string;
}

const EPS = 1e-9;

function fmt(v: number): string {
  return Number(v.toFixed(2)).toString();
}

/**
 * The band's dose for a draft of `draftDailyMg` (above the band). Position of the draft in the normal band's daily
 * range (0 at its low end, 1 at its top; clamped), the same position in this band's range, divided by the band's
 * frequency, rounded down to a makeable dose (up when that would fall below the band). Undefined (with why) when the
 * drug has no rule, the band no frequency, or no product of the form is known.
 */
export function rangeDose(drug: RenalDrug, band: RenalBand, draftDailyMg: number, products: ProductTable, draftForm: string | undefined): RangeDose | { reason: string } {
  const rule = drug.rangeSuggestion;
  const normal = drug.bands.find((b) => b.normal && b.dailyMg);
  if (!rule || !band.dailyMg || !band.frequency || !normal?.dailyMg) return { reason: 'no rule for a suggested dose in this band (knowledge/renal-bands.json rangeSuggestion)' };
  const form = draftForm && products.choices(drug.name, draftForm).length > 0 ? draftForm : rule.form;
  // the drafted form and its immediate-release counterpart (tablet ↔ capsule): the dispensing step uses the same pair
  const doses = [...new Set([form, ...(INTERCHANGEABLE_FORMS[form] ?? [])].flatMap((f) => makeableDoses(products, drug.name, f)))].sort((a, b) => a - b);
  if (doses.length === 0) return { reason: `no ${form.toLowerCase()} of ${drug.name} in the product table` };
  const [nLo, nHi] = normal.dailyMg;
  const [lo, hi] = band.dailyMg;
  const position = Math.min(1, Math.max(0, (draftDailyMg - nLo) / (nHi - nLo)));
  const targetDaily = lo + position * (hi - lo);
  const f = band.frequency.perDay;
  const below = doses.filter((d) => d * f <= targetDaily + EPS && d * f >= lo - EPS);
  const inBand = doses.filter((d) => d * f >= lo - EPS && d * f <= hi + EPS);
  const perDose = below.length > 0 ? below[below.length - 1]! : inBand[0];
  if (perDose === undefined) return { reason: `no dose of whole ${form.toLowerCase()}s makes ${fmt(lo)}–${fmt(hi)} mg/day ${band.frequency.text}` };
  return {
    perDoseMg: perDose,
    frequencyPerDay: f,
    frequencyText: band.frequency.text,
    basis: `${fmt(perDose * f)} mg/day, within the label's ${fmt(lo)}–${fmt(hi)} mg/day: the draft's ${fmt(draftDailyMg)} mg/day sits at ${fmt(position * 100)}% of the normal-function range ${fmt(nLo)}–${fmt(nHi)} mg/day, carried to the same place in this band and rounded down to whole tablets or capsules of one strength (${rule.rule})`,
  };
}

/** A weight-based dose rounded to the nearest prefilled-syringe strength (the lower one on a tie); undefined above the largest syringe. */
export function syringeDose(mg: number, products: ProductTable, ingredient: string, form = 'Prefilled Syringe'): { perDoseMg: number; syringe: string } | { reason: string } {
  const syringes = products.choices(ingredient, form);
  if (syringes.length === 0) return { reason: `no ${form.toLowerCase()} of ${ingredient} in the product table` };
  const largest = syringes[syringes.length - 1]!;
  if (mg > largest.strengthMg * 1.05) return { reason: `${fmt(mg)} mg is above the largest syringe (${fmt(largest.strengthMg)} mg): dose with pharmacy advice` };
  let best = syringes[0]!;
  for (const s of syringes) if (Math.abs(s.strengthMg - mg) < Math.abs(best.strengthMg - mg) - EPS) best = s;
  return { perDoseMg: best.strengthMg, syringe: best.name };
}
