// "Accepted is not applied": the order an update suggestion intends, the order a later hook call shows, and what the
// comparison of the two found. Used by the hook service (recording), the stores (matching) and the report (counting).

/** A dose as the draft-order reader reads it (src/cds/orders.ts `toOrder(...).currentDose`): per administration. */
export interface OrderDose {
  value: number;
  /** "mg" */
  unit: string;
  frequencyPerDay?: number;
}

/** One MedicationRequest reduced to what "applied" compares: which order, which product, which dose. */
export interface OrderSnapshot {
  /** "MedicationRequest/<id>" */
  orderRef: string;
  /** RxNorm codes of medicationCodeableConcept (sorted, distinct); empty when it has none */
  rxnorm: string[];
  /** absent when the reader cannot read the dose */
  dose?: OrderDose;
}

/** The order an `update` suggestion of a card intends (the action's resource, read by the same reader as drafts). */
export interface IntendedOrder extends OrderSnapshot {
  suggestionUuid: string;
}

export type AppliedOutcome = 'applied' | 'not-applied';

/** What the first later hook call for the same client, patient and order showed. Recorded once, never changed. */
export interface AppliedResolution {
  outcome: AppliedOutcome;
  /** time of the hook call that showed it (ISO) */
  at: string;
  /** hookInstance of that call */
  hookInstance: string;
  /** the draft as that call showed it */
  seen: OrderSnapshot;
}

/** An intended order as stored, with its resolution once there is one. */
export interface StoredIntendedOrder extends IntendedOrder {
  resolution?: AppliedResolution;
}

/** Per accepted card with an intended order: applied, not applied, or no later call for that order yet. */
export type AppliedStatus = 'applied' | 'not-applied' | 'not-seen-again';
