// UCUM quantities: units travel with numbers until the last moment.
export interface Quantity {
  value: number;
  /** UCUM code, e.g. "kg", "cm", "mg/dL", "mg/wk" */
  unit: string;
}
