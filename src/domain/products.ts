// Drug products (RxNorm SCD/SBD) with their strength per unit of use: knowledge/drug-products.json, built by
// scripts/build-products.ts. Used to read a draft dose written as tablets and to choose a product a pharmacy can dispense.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export type ProductRoute = 'oral' | 'injection' | 'other';
/** What one counted unit of the product is (a dose of "2" means two of these). */
export type ProductUnit = 'tablet' | 'capsule' | 'syringe' | 'pen' | 'vial' | 'container' | 'mL';

export interface Product {
  rxcui: string;
  /** RxNorm normalized name, e.g. "warfarin sodium 5 MG Oral Tablet" */
  name: string;
  /** the service's ingredient name, lower case */
  ingredient: string;
  /** mg per unit of use (per mL when perMl) */
  strengthMg: number;
  /** RxNorm dose form, with its release qualifier, e.g. "Oral Tablet", "24 HR Extended Release Oral Tablet" */
  form: string;
  route: ProductRoute;
  unit: ProductUnit;
  perMl?: boolean;
  /** branded drug (SBD): read, never chosen */
  brand?: string;
  /** half units may be dispensed (scored tablets; scripts/products-curation.json) */
  splittable?: boolean;
}

/**
 * Immediate-release oral tablets and capsules of one ingredient deliver the same dose: when the drafted form has no
 * strength that makes the dose, the other is used (and the label says so). Never across release forms.
 */
export const INTERCHANGEABLE_FORMS: Record<string, string[]> = { 'Oral Tablet': ['Oral Capsule'], 'Oral Capsule': ['Oral Tablet'] };

/** Doses per administration that whole units (1–`maxUnits`) of one strength of the dose form make, ascending. */
export function makeableDoses(products: ProductTable, ingredient: string, form: string, maxUnits = 4): number[] {
  const out = new Set<number>();
  for (const p of products.choices(ingredient, form)) for (let n = 1; n <= maxUnits; n++) out.add(Number((n * p.strengthMg).toPrecision(10)));
  return [...out].sort((a, b) => a - b);
}

export interface ProductsFile {
  provenance: { builtBy: string; source: string; version: string; licence: string; rules: string[] };
  coverage: { ingredients: string[]; without: string[] };
  products: Product[];
}

export class ProductTable {
  private readonly byCode = new Map<string, Product>();
  private readonly byIngredient = new Map<string, Product[]>();
  readonly version: string;

  constructor(file: ProductsFile) {
    this.version = file.provenance.version;
    for (const p of file.products) {
      this.byCode.set(p.rxcui, p);
      const list = this.byIngredient.get(p.ingredient) ?? [];
      list.push(p);
      this.byIngredient.set(p.ingredient, list);
    }
  }

  /** A table without products: every product's strength is then read from its name only. */
  static empty(): ProductTable {
    return new ProductTable({ provenance: { builtBy: '', source: '', version: 'none', licence: '', rules: [] }, coverage: { ingredients: [], without: [] }, products: [] });
  }

  static load(file = path.resolve(process.cwd(), 'knowledge/drug-products.json')): ProductTable {
    if (!existsSync(file)) return ProductTable.empty();
    return new ProductTable(JSON.parse(readFileSync(file, 'utf8')) as ProductsFile);
  }

  get(rxcui: string): Product | undefined {
    return this.byCode.get(rxcui);
  }

  /** Whether the table lists any product of the ingredient. */
  covers(ingredient: string): boolean {
    return this.byIngredient.has(ingredient);
  }

  /** Clinical drugs (not brands) of the ingredient in one dose form, by strength. */
  choices(ingredient: string, form: string): Product[] {
    return (this.byIngredient.get(ingredient) ?? []).filter((p) => !p.brand && p.form === form).sort((a, b) => a.strengthMg - b.strengthMg);
  }

  all(): Product[] {
    return [...this.byCode.values()];
  }
}
