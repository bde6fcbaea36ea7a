// The update action of a dose suggestion: the proposed dose as a dispensable order (product, structured dose, timing
// and text from one structured dose) and the words the card and its label use for it.
import type { MedicationRequest } from 'fhir/r4';
import type { DraftOrder } from '../domain/order.js';
import type { ProductTable } from '../domain/products.js';
import type { Recommendation } from '../domain/recommendation.js';
import { dispensingFor, type Dispensing } from './dispense.js';
import { withDispensedDose, type TimingRepeat } from './draft.js';

export interface DoseUpdate {
  resource: MedicationRequest;
  dispensing: Dispensing;
  /** the action's description: "Set MedicationRequest/1 to 2.5 mg (1 tablet of …) twice daily; switches …" */
  description: string;
  /** appended to the suggestion's label when the product changes: " (apixaban 2.5 MG Oral Tablet)" */
  labelSuffix: string;
}

export interface DoseUpdateInput {
  perDoseMg: number;
  /** the new timing, or "keep" the draft's */
  timing: TimingRepeat | 'keep';
  frequencyText: string;
  /** appended to the order text, e.g. the guideline phrase */
  note?: string;
  preferStrengthMg?: number;
  /** see DoseToDispense.roundDownTo (guideline dose factors) */
  roundDownTo?: number;
}

export function doseUpdate(order: DraftOrder & { ref: string }, r: Recommendation, products: ProductTable, u: DoseUpdateInput): DoseUpdate {
  const dispensing = dispensingFor(order, { perDoseMg: u.perDoseMg, ingredient: { name: r.drug.name, ...(r.drug.rxnorm ? { rxcui: r.drug.rxnorm } : {}) }, ...(u.preferStrengthMg !== undefined ? { preferStrengthMg: u.preferStrengthMg } : {}), ...(u.roundDownTo !== undefined ? { roundDownTo: u.roundDownTo } : {}) }, products);
  const resource = withDispensedDose(order, dispensing, u.timing, u.frequencyText, u.note);
  const productName = dispensing.product?.name ?? (dispensing.change ? dispensing.medication.text : undefined);
  // the label names the product when it changes (a rounded dose on the same product changes no product)
  const productChanged = dispensing.change !== undefined && productName !== undefined && productName !== order.product?.name;
  return {
    resource,
    dispensing,
    description: `Set ${order.ref} to ${dispensing.doseText} ${u.frequencyText}${dispensing.change ? `; ${dispensing.change}` : ''}`.slice(0, 500),
    labelSuffix: productChanged ? ` (${productName})` : '',
  };
}

/** The proposed dose of a recommendation as an update of the order. */
export function proposedDoseUpdate(order: DraftOrder & { ref: string }, r: Recommendation, products: ProductTable, frequencyText?: string): DoseUpdate {
  const dose = r.proposedDose!;
  return doseUpdate(order, r, products, {
    perDoseMg: dose.perDose.value,
    timing: dose.timing,
    frequencyText: frequencyText ?? dose.frequencyText,
    ...(dose.tabletStrengthMg !== undefined ? { preferStrengthMg: dose.tabletStrengthMg } : {}),
  });
}
