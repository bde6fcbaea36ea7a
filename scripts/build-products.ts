// Builds knowledge/drug-products.json: the RxNorm products (SCD/SBD) of every drug the service doses, with strength,
// dose form, route and unit of use, read mechanically from ../shared/data/rxnorm/value-set-codes.tsv (its README says
// where the table comes from) and the reviewed rules in scripts/products-curation.json. Run: npm run build:products
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProductName, type ParsedName } from '../src/knowledge/productName.js';
import type { Product, ProductsFile } from '../src/domain/products.js';

interface Curation {
  saltWords: { words: string[] };
  splittable: { why: string; ingredients: Record<string, string[]> };
}

/** Ingredient names the service has an evaluator or a dictionary entry for. */
export function serviceIngredients(root: string): string[] {
  const codes = JSON.parse(readFileSync(path.join(root, 'knowledge/drug-codes.json'), 'utf8')) as { ingredients: { name: string }[] };
  const pgx = JSON.parse(readFileSync(path.join(root, 'knowledge/pgx-recommendations.json'), 'utf8')) as { drugs: Record<string, { name: string }> };
  const renal = JSON.parse(readFileSync(path.join(root, 'knowledge/renal-bands.json'), 'utf8')) as { drugs: { name: string }[] };
  return [...new Set([...codes.ingredients.map((i) => i.name), ...Object.values(pgx.drugs).map((d) => d.name), ...renal.drugs.map((d) => d.name)])].sort();
}

/** Which of `names` the product's ingredient text is: the name, then only salt words (longest name wins). */
export function ingredientOf(text: string, names: string[], salts: Set<string>): string | undefined {
  const t = text.toLowerCase();
  let best: string | undefined;
  for (const n of names) {
    if (t !== n && !t.startsWith(`${n} `) && !t.startsWith(`${n}, `)) continue;
    const rest = t.slice(n.length).replace(/^,/, '').split(/[\s,]+/).filter(Boolean);
    if (rest.every((w) => salts.has(w)) && (!best || n.length > best.length)) best = n;
  }
  return best;
}

export function buildProducts(tsvFile: string, curationFile: string, root: string): string {
  const curation = JSON.parse(readFileSync(curationFile, 'utf8')) as Curation;
  const salts = new Set(curation.saltWords.words);
  const names = serviceIngredients(root);
  const products: Product[] = [];
  const skipped: Record<string, number> = {};
  const lines = readFileSync(tsvFile, 'utf8').split('\n').slice(1).filter((l) => l.trim() !== '');
  for (const line of lines) {
    const [rxcui, name] = line.split('\t') as [string, string];
    const p: ParsedName | { skip: string } = parseProductName(name);
    if ('skip' in p) {
      skipped[p.skip] = (skipped[p.skip] ?? 0) + 1;
      continue;
    }
    const ingredient = ingredientOf(p.ingredientText, names, salts);
    if (!ingredient) continue;
    const split = curation.splittable.ingredients[ingredient]?.includes(p.form) === true;
    products.push({
      rxcui,
      name,
      ingredient,
      strengthMg: p.strengthMg,
      form: p.form,
      route: p.route,
      unit: p.unit,
      ...(p.perMl ? { perMl: true } : {}),
      ...(p.brand ? { brand: p.brand } : {}),
      ...(split ? { splittable: true } : {}),
    });
  }
  products.sort((a, b) => a.ingredient.localeCompare(b.ingredient) || a.form.localeCompare(b.form) || a.strengthMg - b.strengthMg || a.rxcui.localeCompare(b.rxcui));
  const covered = [...new Set(products.map((p) => p.ingredient))].sort();
  const file: ProductsFile = {
    provenance: {
      builtBy: 'scripts/build-products.ts from ../shared/data/rxnorm/value-set-codes.tsv and scripts/products-curation.json',
      source:
        'RxNorm (U.S. National Library of Medicine) clinical and branded drug names as expanded by VSAC for the US eCQM value sets (eCQM Update 2021-05-06 and 2025-05-08), extracted from canvas-medical/canvas-plugins canvas_sdk/value_set/v2022 and v2026 at commit 344f0bcb924b2be7ffafb5ac7edf19d475704259 (2026-08-21, MIT licence)',
      version: '2026-08-21',
      licence: 'RxNorm content without additional licence restrictions (SAB=RXNORM); extraction MIT',
      rules: [
        'Single-ingredient products with a mass strength only (MG, MCG, or MG/ML); combinations, packs, unit-based (UNT) and per-hour (MG/HR) strengths are left out.',
        'strengthMg is per unit of use: per tablet or capsule, per prefilled syringe or container (leading volume × MG/ML), per vial ("1000 MG Injection"), or per mL for a solution without a volume (perMl).',
        `Splittable: ${curation.splittable.why}`,
        'Coverage is partial (see the source README): an ingredient without products here is ordered by ingredient, with the strength and form in the text.',
      ],
    },
    coverage: { ingredients: covered, without: names.filter((n) => !covered.includes(n)) },
    products,
  };
  return `${JSON.stringify(file, null, 1)}\n`;
}

function main(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const args = process.argv.slice(2);
  const i = args.indexOf('--out');
  const out = i >= 0 && args[i + 1] ? path.resolve(args[i + 1]!) : path.join(root, 'knowledge');
  const content = buildProducts(path.resolve(root, '../shared/data/rxnorm/value-set-codes.tsv'), path.join(root, 'scripts/products-curation.json'), root);
  mkdirSync(out, { recursive: true });
  writeFileSync(path.join(out, 'drug-products.json'), content);
  process.stdout.write(`${path.join(out, 'drug-products.json')}: ${(Buffer.byteLength(content) / 1024).toFixed(0)} KiB\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
