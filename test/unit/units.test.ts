// UCUM conversion of FHIR Quantities to the canonical unit of each dimension (src/fhir/units.ts).
import type { Quantity as FhirQuantity } from 'fhir/r4';
import { UCUM_SYSTEM, toCanonical, ucumCode } from '../../src/fhir/units.js';

const ucum = (value: number, code: string): FhirQuantity => ({ value, unit: code, system: UCUM_SYSTEM, code });

describe('toCanonical: mass → kg', () => {
  // Source: UCUM definitions (https://ucum.org/ucum): 1 [lb_av] = 0.45359237 kg (exact, international avoirdupois
  // pound), 1 [oz_av] = [lb_av]/16 = 0.028349523125 kg, 1 g = 0.001 kg.
  test.each([
    ['kg', 70, 70],
    ['g', 3500, 3.5],
    ['[lb_av]', 154, 154 * 0.45359237],
    ['[lb_av]', 1, 0.45359237],
    ['[oz_av]', 16, 0.45359237],
    ['[oz_av]', 1, 0.028349523125],
  ])('%s %d → %d kg', (code, value, kg) => {
    const q = toCanonical(ucum(value, code), 'mass');
    expect(q?.unit).toBe('kg');
    expect(q?.value).toBeCloseTo(kg, 10);
  });
});

describe('toCanonical: length → cm', () => {
  // Source: UCUM definitions: 1 [in_i] = 2.54 cm (exact, international inch), 1 m = 100 cm, 1 mm = 0.1 cm.
  test.each([
    ['cm', 175, 175],
    ['m', 1.75, 175],
    ['mm', 1750, 175],
    ['[in_i]', 1, 2.54],
    ['[in_i]', 69, 69 * 2.54],
  ])('%s %d → %d cm', (code, value, cm) => {
    const q = toCanonical(ucum(value, code), 'length');
    expect(q?.unit).toBe('cm');
    expect(q?.value).toBeCloseTo(cm, 10);
  });
});

describe('toCanonical: serum creatinine → mg/dL', () => {
  // Source: dosing-formulas.md "Kidney function": creatinine in µmol/L ÷ 88.4 = mg/dL; mmol/L = 1000 µmol/L;
  // mg/L = 0.1 mg/dL (UCUM: dL = 0.1 L).
  test.each([
    ['mg/dL', 1.2, 1.2],
    ['umol/L', 88.4, 1],
    ['umol/L', 106.08, 1.2],
    ['mmol/L', 0.0884, 1],
    ['mg/L', 12, 1.2],
  ])('%s %d → %d mg/dL', (code, value, mgdl) => {
    const q = toCanonical(ucum(value, code), 'creatinine');
    expect(q?.unit).toBe('mg/dL');
    expect(q?.value).toBeCloseTo(mgdl, 10);
  });
});

describe('unit given only as display text (Quantity.unit without code) is accepted when unambiguous', () => {
  // Source: FHIR R4 Quantity: `unit` is the human-readable form; EHRs often omit system/code. Conversions per UCUM
  // (1 [lb_av] = 0.45359237 kg, 1 [in_i] = 2.54 cm) and dosing-formulas.md (88.4 µmol/L per mg/dL).
  test.each<[string, 'mass' | 'length' | 'creatinine', number, number, string]>([
    ['lbs', 'mass', 154, 154 * 0.45359237, '[lb_av]'],
    ['lb', 'mass', 100, 45.359237, '[lb_av]'],
    ['Pounds', 'mass', 2, 0.90718474, '[lb_av]'],
    [' kg ', 'mass', 70, 70, 'kg'],
    ['inches', 'length', 10, 25.4, '[in_i]'],
    ['in', 'length', 1, 2.54, '[in_i]'],
    ['µmol/L', 'creatinine', 88.4, 1, 'umol/L'], // U+00B5 micro sign
    ['μmol/L', 'creatinine', 176.8, 2, 'umol/L'], // U+03BC Greek small mu
    ['umol/l', 'creatinine', 88.4, 1, 'umol/L'],
    ['mg/dl', 'creatinine', 0.9, 0.9, 'mg/dL'],
  ])('unit "%s" (%s)', (unit, dim, value, expected, code) => {
    const fq: FhirQuantity = { value, unit };
    expect(ucumCode(fq)).toBe(code);
    const q = toCanonical(fq, dim);
    expect(q).toBeDefined();
    expect(q!.value).toBeCloseTo(expected, 10);
  });
});

describe('rejected quantities', () => {
  // Source: dosing-formulas.md "convert by UCUM unit, never assume"; FHIR R4 Quantity.comparator ("<" means the
  // real value is below the number, so it is not a measured value).
  test.each<[string, FhirQuantity | undefined, 'mass' | 'length' | 'creatinine']>([
    ['undefined quantity', undefined, 'mass'],
    ['no unit at all', { value: 70 }, 'mass'],
    ['non-UCUM system with a code (SNOMED)', { value: 70, system: 'http://snomed.info/sct', code: '258683005' }, 'mass'],
    ['non-UCUM system with a UCUM-looking code', { value: 70, system: 'urn:local:units', code: 'kg' }, 'mass'],
    ['unknown display unit "stone"', { value: 11, unit: 'stone' }, 'mass'],
    ['unknown display unit "ft"', { value: 6, unit: 'ft' }, 'length'],
    ['unknown UCUM code', { value: 70, system: UCUM_SYSTEM, code: '[stone_av]' }, 'mass'],
    ['UCUM codes are case-sensitive: "KG"', { value: 70, system: UCUM_SYSTEM, code: 'KG' }, 'mass'],
    ['wrong dimension: cm for weight', ucum(170, 'cm'), 'mass'],
    ['wrong dimension: kg for creatinine', ucum(1, 'kg'), 'creatinine'],
    ['comparator "<"', { ...ucum(0.2, 'mg/dL'), comparator: '<' }, 'creatinine'],
    ['comparator ">="', { ...ucum(100, 'kg'), comparator: '>=' }, 'mass'],
    ['NaN', ucum(Number.NaN, 'kg'), 'mass'],
    ['Infinity', ucum(Number.POSITIVE_INFINITY, 'kg'), 'mass'],
    ['-Infinity', ucum(Number.NEGATIVE_INFINITY, 'cm'), 'length'],
    ['value as a string', { value: '70' as unknown as number, system: UCUM_SYSTEM, code: 'kg' }, 'mass'],
    ['value missing', { system: UCUM_SYSTEM, code: 'kg' }, 'mass'],
  ])('%s → undefined', (_name, q, dim) => {
    expect(toCanonical(q, dim)).toBeUndefined();
  });
});

describe('ucumCode', () => {
  // Source: FHIR R4 Quantity: `code` is a coded form of the unit in `system`; only http://unitsofmeasure.org is UCUM.
  test.each<[string, FhirQuantity, string | undefined]>([
    ['UCUM system + code', { system: UCUM_SYSTEM, code: '[lb_av]', unit: 'lbs' }, '[lb_av]'],
    ['code without system', { code: 'kg' }, 'kg'],
    ['non-UCUM system falls back to the display unit', { system: 'urn:local', code: 'KGM', unit: 'kg' }, 'kg'],
    ['non-UCUM system without display', { system: 'urn:local', code: 'KGM' }, undefined],
    ['display only', { unit: 'cm' }, 'cm'],
    ['nothing', {}, undefined],
  ])('%s', (_n, q, code) => {
    expect(ucumCode(q)).toBe(code);
  });
});
