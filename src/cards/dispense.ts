// A proposed dose as an order a pharmacy can dispense: the product that makes the dose in whole units (half units only
// for products that may be split), else the ingredient with strength and form in the text; dose, timing, text and
// dispense quantity written together from one structured dose.
import type { CodeableConcept, MedicationRequest, Quantity as FhirQuantity } from 'fhir/r4';
import type { DraftOrder } from '../domain/order.js';
import { INTERCHANGEABLE_FORMS, makeableDoses, type Product, type ProductTable } from '../domain/products.js';
import { RXNORM_SYSTEM } from '../domain/drugs.js';
import { decimal } from './markdown.js';

/** At most this many units (tablets, capsules) per administration. */
export const MAX_UNITS_PER_DOSE = 4;
const EPS = 1e-9;

export interface DoseToDispense {
  /** mg per administration */
  perDoseMg: number;
  /** the ingredient, for a switch to another product or to the ingredient */
  ingredient: { name: string; rxcui?: string };
  /** a strength to prefer when it makes the dose (the warfarin tablet schedule's strength) */
  preferStrengthMg?: number;
  /**
   * A dose stated as a fraction of the draft's (a guideline's "reduce by 50%"): when no product makes it exactly, the
   * largest dose the drafted form makes at or below it, down to this fraction of it (e.g. 0.8), is used instead.
   */
  roundDownTo?: number;
}

export interface Dispensing {
  /** the dose per administration written on the order (the proposed dose, or the dose it was rounded to) */
  perDoseMg: number;
  /** the proposed dose, when it was rounded to a dose the product makes */
  roundedFromMg?: number;
  /** the medication of the accepted order */
  medication: CodeableConcept;
  /** the product chosen (undefined: ordered by ingredient, or the draft's product kept without a table entry) */
  product?: Product;
  /** units per administration of `product` (or of the draft's product) */
  units?: { count: number; unit: string; strengthMg: number };
  /** "2.5 mg (1 tablet of apixaban 2.5 MG Oral Tablet)" */
  doseText: string;
  /** what the suggestion changes besides the dose, for its label; undefined when the product is kept */
  change?: string;
  /** the dose quantity to write: units when the draft counted units, else mg */
  doseQuantity: FhirQuantity;
}

function fmt(v: number): string {
  return decimal(v, 3);
}

function unitWord(unit: string, count: number): string {
  if (unit === 'mL') return 'mL';
  return count === 1 || count === 0.5 ? unit : `${unit}s`;
}

function countText(count: number): string {
  if (count === 0.5) return '½';
  if (Math.abs(count - Math.round(count)) > EPS) return `${Math.floor(count)}½`;
  return String(count);
}

/** Units of `p` that make `mg`, or undefined when the product cannot (not whole units, or halves of a product that may not be split). */
export function unitsFor(mg: number, p: Pick<Product, 'strengthMg' | 'splittable' | 'unit' | 'perMl'>): number | undefined {
  if (p.perMl || p.unit === 'vial' || p.unit === 'container' || p.unit === 'mL') return undefined;
  const n = mg / p.strengthMg;
  const step = p.splittable ? 0.5 : 1;
  const k = Math.round(n / step) * step;
  if (k <= 0 || Math.abs(n - k) > 1e-6 || k > MAX_UNITS_PER_DOSE) return undefined;
  if ((p.unit === 'syringe' || p.unit === 'pen') && k !== 1) return undefined;
  return k;
}

/** Whether the product's dose is measured by the pharmacy or nurse in mg (vials, bags, solutions): any mg dose can be given. */
function measuredInMg(p: Product): boolean {
  return p.perMl === true || p.unit === 'vial' || p.unit === 'container' || p.unit === 'mL';
}

/** The clinical drug of the same ingredient and dose form that makes the dose: preferred strength, then 1 unit, then fewest units, then no halves. */
export function chooseProduct(mg: number, ingredient: string, form: string, products: ProductTable, preferStrengthMg?: number): { product: Product; count: number } | undefined {
  let best: { product: Product; count: number; score: number[] } | undefined;
  for (const p of products.choices(ingredient, form)) {
    const count = unitsFor(mg, p);
    if (count === undefined) continue;
    const score = [preferStrengthMg !== undefined && Math.abs(p.strengthMg - preferStrengthMg) < EPS ? 0 : 1, count === 1 ? 0 : 1, Math.abs(count - Math.round(count)) > EPS ? 1 : 0, count];
    if (!best || score.some((v, i) => v !== best!.score[i]) && lexLess(score, best.score)) best = { product: p, count, score };
  }
  return best ? { product: best.product, count: best.count } : undefined;
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}

function productConcept(p: Product): CodeableConcept {
  return { coding: [{ system: RXNORM_SYSTEM, code: p.rxcui, display: p.name }], text: p.name };
}

function mgQuantity(mg: number): FhirQuantity {
  return { value: Number(mg.toPrecision(10)), unit: 'mg', system: 'http://unitsofmeasure.org', code: 'mg' };
}

/** The draft's count unit kept when the draft counted units ({pill}, {tbl}, TAB …); otherwise UCUM annotations. */
function unitsQuantity(count: number, unit: string, order: DraftOrder): FhirQuantity {
  const q = order.currentDose?.units ? order.resource.dosageInstruction?.[0]?.doseAndRate?.[0]?.doseQuantity : undefined;
  if (q && (q.code || q.unit)) return { ...(q.unit ? { unit: q.unit } : {}), ...(q.system ? { system: q.system } : {}), ...(q.code ? { code: q.code } : {}), value: count };
  return { value: count, unit, system: 'http://unitsofmeasure.org', code: `{${unit}}` };
}

/**
 * How to dispense `dose` for this order. The draft's product is kept when it makes the dose (or is measured in mg: vials,
 * solutions); else the clinical drug of the same ingredient and form that does; else the ingredient, with the strength
 * and form in the text.
 */
export function dispensingFor(order: DraftOrder, dose: DoseToDispense, products: ProductTable): Dispensing {
  const mg = dose.perDoseMg;
  const drafted = order.product;
  const concept = order.resource.medicationCodeableConcept;
  const countsUnits = order.currentDose?.units !== undefined;
  const finish = (p: Product, count: number, change?: string): Dispensing => {
    const word = unitWord(p.unit, count);
    return {
      perDoseMg: mg,
      medication: change || !concept ? productConcept(p) : concept,
      ...(p.rxcui ? { product: p } : {}),
      units: { count, unit: p.unit, strengthMg: p.strengthMg },
      doseText: `${fmt(mg)} mg (${countText(count)} ${word} of ${p.name})`,
      ...(change ? { change } : {}),
      doseQuantity: countsUnits ? unitsQuantity(count, p.unit, order) : mgQuantity(mg),
    };
  };
  if (drafted) {
    if (measuredInMg(drafted)) {
      return { perDoseMg: mg, medication: concept ?? (drafted.rxcui ? productConcept(drafted) : { text: drafted.name }), doseText: `${fmt(mg)} mg`, doseQuantity: mgQuantity(mg) };
    }
    const keep = unitsFor(mg, drafted);
    const samePreference = dose.preferStrengthMg === undefined || Math.abs(dose.preferStrengthMg - drafted.strengthMg) < EPS;
    if (keep !== undefined && samePreference) return finish(drafted, keep);
    let other = chooseProduct(mg, dose.ingredient.name, drafted.form, products, dose.preferStrengthMg);
    if (!other && keep === undefined) for (const f of INTERCHANGEABLE_FORMS[drafted.form] ?? []) other ??= chooseProduct(mg, dose.ingredient.name, f, products);
    if (other && Math.abs(other.product.strengthMg - drafted.strengthMg) > EPS) {
      const why = keep === undefined ? `the drafted ${drafted.name} cannot make ${fmt(mg)} mg` : `the strength the tablet schedule uses`;
      return finish(other.product, other.count, `switches the product to ${other.product.name} (${why})`);
    }
    if (keep !== undefined) return finish(drafted, keep);
    if (dose.roundDownTo !== undefined) {
      const forms = [drafted.form, ...(INTERCHANGEABLE_FORMS[drafted.form] ?? [])];
      const below = [...new Set(forms.flatMap((f) => makeableDoses(products, dose.ingredient.name, f)))].filter((d) => d <= mg + EPS && d >= mg * dose.roundDownTo! - EPS);
      const to = below.length ? below[below.length - 1]! : undefined;
      if (to !== undefined) {
        const { roundDownTo: _r, ...exact } = dose;
        const d = dispensingFor(order, { ...exact, perDoseMg: to }, products);
        const rounded = `rounded down from ${fmt(mg)} mg to ${fmt(to)} mg, the nearest dose whole ${drafted.unit}s of one strength make`;
        return { ...d, roundedFromMg: mg, change: d.change ? `${rounded}; ${d.change}` : rounded };
      }
    }
    return byIngredient(order, dose, drafted.form, `the drafted ${drafted.name} cannot make ${fmt(mg)} mg and no ${drafted.form.toLowerCase()} of the right strength is in the product table`);
  }
  // no product on the draft (ordered by ingredient, or a product without strength): the dose in mg, the pharmacy chooses
  return { perDoseMg: mg, medication: concept ?? { text: dose.ingredient.name }, doseText: `${fmt(mg)} mg`, doseQuantity: mgQuantity(mg) };
}

function byIngredient(order: DraftOrder, dose: DoseToDispense, form: string, why: string): Dispensing {
  const name = dose.ingredient.name;
  const text = `${name} ${fmt(dose.perDoseMg)} mg ${form.toLowerCase()}`;
  const medication: CodeableConcept = dose.ingredient.rxcui ? { coding: [{ system: RXNORM_SYSTEM, code: dose.ingredient.rxcui, display: name }], text } : { text };
  return {
    perDoseMg: dose.perDoseMg,
    medication,
    doseText: `${fmt(dose.perDoseMg)} mg (as ${form.toLowerCase()}; the pharmacy chooses the product)`,
    change: `orders ${name} by ingredient (${why})`,
    doseQuantity: mgQuantity(dose.perDoseMg),
  };
}

/** The order's dispense quantity for a new number of units per day, keeping the days of supply the draft asked for. */
export function dispenseRequestFor(order: MedicationRequest, unitsPerDay: number | undefined, oldUnitsPerDay: number | undefined): MedicationRequest['dispenseRequest'] {
  const dr = order.dispenseRequest;
  if (!dr || typeof dr !== 'object' || !dr.quantity || typeof dr.quantity !== 'object') return dr;
  const { quantity: _old, ...rest } = dr;
  const d = dr.expectedSupplyDuration;
  const perDay: Record<string, number> = { d: 1, wk: 7, mo: 30 };
  let days: number | undefined = typeof d?.value === 'number' && d.code && perDay[d.code] ? d.value * perDay[d.code]! : undefined;
  if (days === undefined && typeof dr.quantity.value === 'number' && oldUnitsPerDay) days = dr.quantity.value / oldUnitsPerDay;
  // a quantity that cannot be recomputed is dropped (the pharmacy asks), never left counting the old product's units
  if (days === undefined || unitsPerDay === undefined) return Object.keys(rest).length ? rest : undefined;
  return { ...rest, quantity: { ...dr.quantity, value: Math.ceil(days * unitsPerDay - 1e-9) } };
}
