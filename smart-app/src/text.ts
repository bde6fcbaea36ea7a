// Wording shared by the screens: capitalisation, UCUM units as people write them, CPIC population names (as data).
import populations from '../../knowledge/cpic-populations.json';

export function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/** UCUM codes as people write them; unit-less ratios (INR) show no unit. */
const UNIT_TEXT: Record<string, string> = { a: 'years', mo: 'months', '{INR}': '', '{ratio}': '', '1': '', '[lb_av]': 'lb', '[oz_av]': 'oz', '[in_i]': 'in', '[ft_i]': 'ft', ug: 'µg', 'ug/mL': 'µg/mL', 'umol/L': 'µmol/L', 'mL/min/{1.73_m2}': 'mL/min/1.73 m²', '%': '%' };
export function unitText(u: string | undefined): string {
  if (!u) return '';
  return UNIT_TEXT[u] ?? u;
}

const POPULATIONS: Record<string, string> = populations.populations;

/** A CPIC population code in the guideline's words ("CVI ACS PCI" → "cardiovascular indications: …"); unknown codes as sent. */
export function populationText(code: string): string {
  return POPULATIONS[code] ?? code;
}
