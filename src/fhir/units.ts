// UCUM unit conversion for the quantities dosing needs (by UCUM code, never by assumption).
import type { Quantity as FhirQuantity } from 'fhir/r4';
import type { Quantity } from '../domain/units.js';

export const UCUM_SYSTEM = 'http://unitsofmeasure.org';

type Dimension = 'mass' | 'length' | 'creatinine' | 'egfr' | 'ratio' | 'drugConcentration' | 'doseMass';

/** Factor to the canonical unit of each dimension, keyed by UCUM code. */
const UCUM: Record<Dimension, { canonical: string; factors: Record<string, number> }> = {
  mass: { canonical: 'kg', factors: { kg: 1, g: 0.001, '[lb_av]': 0.45359237, '[oz_av]': 0.028349523125 } },
  length: { canonical: 'cm', factors: { cm: 1, m: 100, mm: 0.1, '[in_i]': 2.54, '[ft_i]': 30.48 } },
  // serum creatinine: mg/dL canonical; 1 mg/dL = 88.4 µmol/L
  creatinine: {
    canonical: 'mg/dL',
    factors: { 'mg/dL': 1, 'mg/L': 0.1, 'umol/L': 1 / 88.4, 'mmol/L': 1000 / 88.4 },
  },
  egfr: { canonical: 'mL/min/{1.73_m2}', factors: { 'mL/min/{1.73_m2}': 1, 'mL/min/1.73.m2': 1, 'mL/min': 1 } },
  ratio: { canonical: '{INR}', factors: { '{INR}': 1, '1': 1, '{ratio}': 1, '{Ratio}': 1 } },
  // drug levels (vancomycin): mg/L canonical; 1 ug/mL = 1 mg/L
  drugConcentration: { canonical: 'mg/L', factors: { 'mg/L': 1, 'ug/mL': 1, 'mg/dL': 10, 'ug/L': 0.001, 'ng/mL': 0.001 } },
  // administered doses: mg canonical
  doseMass: { canonical: 'mg', factors: { mg: 1, g: 1000 } },
};

/**
 * Human unit strings that EHRs put in Quantity.unit when Quantity.code is absent. Only unambiguous spellings;
 * anything else is rejected rather than guessed.
 */
const DISPLAY_TO_UCUM: Record<string, string> = {
  kg: 'kg',
  kilogram: 'kg',
  kilograms: 'kg',
  g: 'g',
  lb: '[lb_av]',
  lbs: '[lb_av]',
  pound: '[lb_av]',
  pounds: '[lb_av]',
  oz: '[oz_av]',
  cm: 'cm',
  m: 'm',
  mm: 'mm',
  in: '[in_i]',
  inch: '[in_i]',
  inches: '[in_i]',
  'mg/dl': 'mg/dL',
  'mg/l': 'mg/L',
  'umol/l': 'umol/L',
  'µmol/l': 'umol/L',
  'μmol/l': 'umol/L',
  'mmol/l': 'mmol/L',
  'ml/min/1.73m2': 'mL/min/{1.73_m2}',
  'ml/min/1.73 m2': 'mL/min/{1.73_m2}',
  'ml/min/{1.73_m2}': 'mL/min/{1.73_m2}',
  inr: '{INR}',
  mg: 'mg',
  'ug/ml': 'ug/mL',
  'µg/ml': 'ug/mL',
  'μg/ml': 'ug/mL',
  'mcg/ml': 'ug/mL',
};

/** The UCUM code of a FHIR Quantity: its code when the system is UCUM (or absent), else a known unit spelling. */
export function ucumCode(q: FhirQuantity): string | undefined {
  if (typeof q.code === 'string' && q.code && (q.system === undefined || q.system === UCUM_SYSTEM)) return q.code;
  if (typeof q.unit === 'string') return DISPLAY_TO_UCUM[q.unit.trim().toLowerCase()];
  return undefined;
}

/** Convert a FHIR Quantity to the dimension's canonical unit; undefined when the unit is unknown or value invalid. */
export function toCanonical(q: FhirQuantity | undefined, dim: Dimension): Quantity | undefined {
  if (!q || typeof q.value !== 'number' || !Number.isFinite(q.value)) return undefined;
  if (q.comparator !== undefined) return undefined; // "<0.2" is not a measured value to dose from
  const code = ucumCode(q);
  const d = UCUM[dim];
  if (dim === 'ratio' && code === undefined && q.unit === undefined) return { value: q.value, unit: d.canonical };
  const f = code === undefined ? undefined : d.factors[code];
  if (f === undefined) return undefined;
  return { value: q.value * f, unit: d.canonical };
}

export type { Dimension };
