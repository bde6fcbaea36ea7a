// RxNorm normalized drug names ("warfarin sodium 5 MG Oral Tablet", "0.4 ML enoxaparin sodium 100 MG/ML Prefilled
// Syringe"): ingredient text, strength per unit of use, dose form, route. Used by the product-table build and, for a
// product the table does not know, on the draft's display text.
import type { ProductRoute, ProductUnit } from '../domain/products.js';

export interface ParsedName {
  ingredientText: string;
  /** mg per unit of use (tablet, capsule, syringe, vial, container), or per mL when perMl */
  strengthMg: number;
  perMl: boolean;
  form: string;
  route: ProductRoute;
  unit: ProductUnit;
  brand?: string;
}

const STRENGTH = /^(.*?) (\d+(?:\.\d+)?) (MG|MCG|MG\/ML|MCG\/ML) (.+)$/;

function routeOf(form: string): ProductRoute {
  if (/\bOral\b|Chewable|Sublingual|Buccal|Lozenge/.test(form)) return 'oral';
  if (/Syringe|Injection|Injectable|Injector|Cartridge/.test(form)) return 'injection';
  return 'other';
}

function unitOf(form: string, volumeMl: number | undefined, perMl: boolean): ProductUnit | undefined {
  if (/Tablet$/.test(form)) return 'tablet';
  if (/Capsule$/.test(form)) return 'capsule';
  if (/Prefilled Syringe$/.test(form)) return volumeMl !== undefined ? 'syringe' : undefined;
  if (/Injector$|Cartridge$/.test(form)) return volumeMl !== undefined ? 'pen' : undefined;
  if (perMl) return volumeMl !== undefined ? 'container' : 'mL';
  if (/^Injection$|^Injectable/.test(form)) return 'vial';
  return undefined;
}

/** Parse one RxNorm name; `skip` says why a name is not a single-ingredient product with a mass strength. */
export function parseProductName(name: string): ParsedName | { skip: string } {
  let n = name.trim();
  if (n.startsWith('{') || /\bPack\b/.test(n)) return { skip: 'pack' };
  let brand: string | undefined;
  const b = /^(.*) \[([^\]]+)\]$/.exec(n);
  if (b) {
    n = b[1]!;
    brand = b[2]!;
  }
  if (n.includes(' / ')) return { skip: 'combination' };
  let volumeMl: number | undefined;
  const v = /^(\d+(?:\.\d+)?) ML (.*)$/.exec(n);
  if (v) {
    volumeMl = Number(v[1]);
    n = v[2]!;
  }
  // release qualifiers ("24 HR", "Osmotic 24 HR") belong to the dose form
  let release = '';
  const r = /^((?:Modified |Osmotic |Biphasic )?\d+ HR) (.*)$/.exec(n);
  if (r) {
    release = `${r[1]} `;
    n = r[2]!;
  }
  const m = STRENGTH.exec(n);
  if (!m) return { skip: 'no mass strength' };
  const [, ingredientText, value, unit, form] = m as unknown as [string, string, string, string, string];
  const perUnitOfVolume = unit.endsWith('/ML');
  let strengthMg = Number(value) / (unit.startsWith('MCG') ? 1000 : 1);
  const fullForm = `${release}${form}`.trim();
  const u = unitOf(form, volumeMl, perUnitOfVolume);
  if (!u || ingredientText === '') return { skip: 'no unit of use' };
  let perMl = false;
  if (perUnitOfVolume) {
    if (volumeMl !== undefined) strengthMg = Number((strengthMg * volumeMl).toPrecision(10));
    else perMl = true;
  } else if (volumeMl !== undefined) return { skip: 'volume with a non-concentration strength' };
  return { ingredientText, strengthMg, perMl, form: fullForm, route: routeOf(form), unit: u, ...(brand ? { brand } : {}) };
}
