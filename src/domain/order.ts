// A medication order a hook call is about (a draft being ordered, or an active order re-checked), and its dose as read.
import type { MedicationRequest } from 'fhir/r4';
import type { IdentifiedDrug } from './drugs.js';
import type { Product } from './products.js';

/** The draft's dose per administration in mg, with how it was read. */
export interface DraftDose {
  value: number;
  unit: 'mg';
  frequencyPerDay?: number;
  /** counted units of a product ("2 capsules"), when the dose was written as units, not as mg */
  units?: { count: number; unit: string; strengthMg: number; strengthFrom: 'product table' | 'product name' | 'Medication strength' };
  /** the dose was read from the free-text instruction, not from structured fields */
  fromText?: boolean;
}

export interface DraftOrder {
  /** "MedicationRequest/103" when the draft has an id */
  ref?: string;
  resource: MedicationRequest;
  /** ingredients recognised in the order; empty when the draft has no medication yet or it is unknown */
  drugs: IdentifiedDrug[];
  /** the draft's dose per administration, in mg (read from mg/g/mcg, or from units × the product's strength) */
  currentDose?: DraftDose;
  /** the draft states a dose that could not be read as mg: why (shown on the card; never "no dose yet") */
  doseProblem?: string;
  /** the draft's product, when its RxNorm code (or its name) gives one with a strength */
  product?: Product;
}
