// Drug identification: RxNorm ingredient or product code → ingredient, with a display-text fallback.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { CodeableConcept } from 'fhir/r4';
import { ProductTable } from './products.js';

export const RXNORM_SYSTEM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

export interface DrugCodes {
  ingredients: { name: string; rxcui: string; synonyms: string[] }[];
  products: { rxcui: string; ingredient: string; display: string }[];
}

export interface IdentifiedDrug {
  /** ingredient name, lower case, e.g. "warfarin" */
  ingredient: string;
  /** RxNorm ingredient CUI */
  rxcui: string;
  /** how it was recognised: the code sent, or the text when no code matched */
  matchedBy: 'ingredient-code' | 'product-code' | 'text';
}

/** Union of two ingredient lists by name: the first list's codes win, synonyms are merged. */
export function mergeIngredients(base: DrugCodes['ingredients'], extra: DrugCodes['ingredients']): DrugCodes['ingredients'] {
  const byName = new Map(base.map((i) => [i.name, { ...i, synonyms: [...i.synonyms] }]));
  for (const e of extra) {
    const cur = byName.get(e.name);
    if (!cur) byName.set(e.name, { ...e, synonyms: [...e.synonyms] });
    else for (const s of e.synonyms) if (!cur.synonyms.includes(s)) cur.synonyms.push(s);
  }
  return [...byName.values()];
}

export class DrugDictionary {
  private readonly byIngredientCode = new Map<string, { name: string; rxcui: string }>();
  private readonly byProductCode = new Map<string, string>();
  private readonly synonyms: { re: RegExp; name: string }[] = [];
  /**
   * Synonym indices by the first run of letters in the synonym. The synonym regex only matches when the synonym is
   * bounded by non-letters, so each of its letter runs is a whole letter run of the text: only synonyms whose first run
   * is a run of the text can match (a pre-filter; the regex still decides). Synonyms without letters are always tried.
   */
  private readonly synonymsByRun = new Map<string, number[]>();
  private readonly synonymsWithoutLetters: number[] = [];
  private readonly byName = new Map<string, { name: string; rxcui: string }>();

  /** products with their strengths (knowledge/drug-products.json); their codes identify the ingredient too */
  readonly products: ProductTable;

  constructor(codes: DrugCodes, products: ProductTable = ProductTable.empty()) {
    this.products = products;
    for (const i of codes.ingredients) {
      if (i.rxcui) this.byIngredientCode.set(i.rxcui, i);
      this.byName.set(i.name, i);
      for (const s of i.synonyms) {
        const index = this.synonyms.push({ re: new RegExp(`(^|[^a-z])${s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^a-z]|$)`), name: i.name }) - 1;
        const run = /[a-z]+/.exec(s)?.[0];
        if (run === undefined) this.synonymsWithoutLetters.push(index);
        else this.synonymsByRun.set(run, [...(this.synonymsByRun.get(run) ?? []), index]);
      }
    }
    for (const p of products.all()) if (this.byName.has(p.ingredient)) this.byProductCode.set(p.rxcui, p.ingredient);
    // the curated product codes win over the generated table
    for (const p of codes.products) this.byProductCode.set(p.rxcui, p.ingredient);
  }

  static load(file = path.resolve(process.cwd(), 'knowledge/drug-codes.json')): DrugDictionary {
    const codes = JSON.parse(readFileSync(file, 'utf8')) as DrugCodes;
    // Every CPIC drug (knowledge/pgx-recommendations.json, generated) is recognised too; names already curated here win.
    const pgxFile = path.join(path.dirname(file), 'pgx-recommendations.json');
    if (existsSync(pgxFile)) {
      const pgx = JSON.parse(readFileSync(pgxFile, 'utf8')) as { drugs?: Record<string, { name: string; rxcui?: string; synonyms: string[] }> };
      codes.ingredients = mergeIngredients(codes.ingredients, Object.values(pgx.drugs ?? {}).map((d) => ({ name: d.name, rxcui: d.rxcui ?? '', synonyms: d.synonyms })));
    }
    return new DrugDictionary(codes, ProductTable.load(path.join(path.dirname(file), 'drug-products.json')));
  }

  ingredient(name: string): { name: string; rxcui: string } | undefined {
    return this.byName.get(name);
  }

  /** Identify from RxNorm codes first, then from the text (only when no RxNorm code was recognised). */
  identify(codes: string[], text: string | undefined): IdentifiedDrug[] {
    const found = new Map<string, IdentifiedDrug>();
    for (const c of codes) {
      const ing = this.byIngredientCode.get(c);
      if (ing) found.set(ing.name, { ingredient: ing.name, rxcui: ing.rxcui, matchedBy: 'ingredient-code' });
      const prod = this.byProductCode.get(c);
      const pi = prod ? this.byName.get(prod) : undefined;
      if (pi && !found.has(pi.name)) found.set(pi.name, { ingredient: pi.name, rxcui: pi.rxcui, matchedBy: 'product-code' });
    }
    if (found.size === 0 && text) {
      const t = text.toLowerCase().slice(0, 1000);
      const candidates = new Set(this.synonymsWithoutLetters);
      for (const run of t.match(/[a-z]+/g) ?? []) for (const i of this.synonymsByRun.get(run) ?? []) candidates.add(i);
      // dictionary order, as when every synonym was tried
      for (const i of [...candidates].sort((a, b) => a - b)) {
        const s = this.synonyms[i]!;
        if (!found.has(s.name) && s.re.test(t)) {
          const i = this.byName.get(s.name)!;
          found.set(s.name, { ingredient: s.name, rxcui: i.rxcui, matchedBy: 'text' });
        }
      }
    }
    return [...found.values()];
  }

  identifyConcept(cc: CodeableConcept | undefined): IdentifiedDrug[] {
    const codings = Array.isArray(cc?.coding) ? cc!.coding : [];
    const codes = codings.filter((c) => c?.system === RXNORM_SYSTEM && typeof c.code === 'string').map((c) => c.code!);
    const text = [cc?.text, ...codings.map((c) => c?.display)].filter((s): s is string => typeof s === 'string').join(' | ');
    return this.identify(codes, text);
  }
}
