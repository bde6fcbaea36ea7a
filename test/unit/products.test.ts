// The product table (knowledge/drug-products.json) is exactly what scripts/build-products.ts makes from
// ../shared/data/rxnorm/value-set-codes.tsv, and the RxNorm names are read as a pharmacist reads them.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ingredientOf } from '../../scripts/build-products.js';
import { ProductTable } from '../../src/domain/products.js';
import { parseProductName } from '../../src/knowledge/productName.js';

test('build-products is reproducible: a fresh build equals knowledge/drug-products.json byte for byte', () => {
  const out = mkdtempSync(path.join(tmpdir(), 'products-'));
  try {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-products.ts', '--out', out], { cwd: process.cwd(), encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readFileSync(path.join(out, 'drug-products.json')).equals(readFileSync('knowledge/drug-products.json'))).toBe(true);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

describe('RxNorm normalized names', () => {
  // Source: RxNorm SCD naming (ingredient, strength, dose form; a leading quantity for prefilled syringes/bags).
  test.each<[string, object]>([
    ['warfarin sodium 5 MG Oral Tablet', { ingredientText: 'warfarin sodium', strengthMg: 5, form: 'Oral Tablet', unit: 'tablet', route: 'oral', perMl: false }],
    ['dabigatran etexilate 75 MG Oral Capsule [Pradaxa]', { ingredientText: 'dabigatran etexilate', strengthMg: 75, form: 'Oral Capsule', unit: 'capsule', brand: 'Pradaxa' }],
    ['0.4 ML enoxaparin sodium 100 MG/ML Prefilled Syringe', { strengthMg: 40, form: 'Prefilled Syringe', unit: 'syringe', route: 'injection', perMl: false }],
    ['0.8 ML enoxaparin sodium 150 MG/ML Prefilled Syringe', { strengthMg: 120, unit: 'syringe' }],
    ['24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet', { ingredientText: 'metformin hydrochloride', strengthMg: 500, form: '24 HR Extended Release Oral Tablet', unit: 'tablet' }],
    ['vancomycin 1000 MG Injection', { strengthMg: 1000, unit: 'vial', route: 'injection' }],
    ['100 ML vancomycin 5 MG/ML Injection', { strengthMg: 500, unit: 'container' }],
    ['gabapentin 50 MG/ML Oral Solution', { strengthMg: 50, unit: 'mL', perMl: true }],
    ['levothyroxine sodium 0.025 MG Oral Tablet', { strengthMg: 0.025, unit: 'tablet' }],
    ['fentanyl 0.1 MCG/ML Injectable Solution', { strengthMg: 0.0001, perMl: true }],
  ])('%s', (name, want) => {
    expect(parseProductName(name)).toMatchObject(want);
  });
  test.each([
    ['metformin hydrochloride 500 MG / sitagliptin 50 MG Oral Tablet', 'combination'],
    ['{28 (norethindrone 0.35 MG Oral Tablet) } Pack', 'pack'],
    ['insulin glargine 100 UNT/ML Pen Injector', 'no mass strength'],
  ])('%s is not a single-ingredient mass-strength product (%s)', (name, why) => {
    expect(parseProductName(name)).toEqual({ skip: why });
  });
  test('ingredient names: salts belong to the ingredient, other words make another one', () => {
    const salts = new Set(['sodium', 'etexilate', 'hydrochloride', 'macrocrystals']);
    const names = ['warfarin', 'gabapentin', 'dabigatran', 'nitrofurantoin', 'metformin'];
    expect(ingredientOf('warfarin sodium', names, salts)).toBe('warfarin');
    expect(ingredientOf('dabigatran etexilate', names, salts)).toBe('dabigatran');
    expect(ingredientOf('nitrofurantoin, macrocrystals', names, salts)).toBe('nitrofurantoin');
    expect(ingredientOf('gabapentin enacarbil', names, salts)).toBeUndefined();
    expect(ingredientOf('gabapentin', names, salts)).toBe('gabapentin');
  });
});

describe('knowledge/drug-products.json', () => {
  const t = ProductTable.load();
  // Source: ../shared/data/rxnorm/value-set-codes.tsv (the examples: 855332, 310431, 1037179)
  test('the strengths the evaluators need are there', () => {
    expect(t.choices('warfarin', 'Oral Tablet').map((p) => p.strengthMg)).toEqual([1, 2, 2.5, 3, 4, 5, 6, 7.5, 10]);
    expect(t.choices('warfarin', 'Oral Tablet').every((p) => p.splittable)).toBe(true);
    expect(t.choices('apixaban', 'Oral Tablet').map((p) => p.strengthMg)).toEqual([2.5, 5]);
    expect(t.choices('dabigatran', 'Oral Capsule').map((p) => p.strengthMg)).toEqual([75, 110, 150]);
    expect(t.choices('rivaroxaban', 'Oral Tablet').map((p) => p.strengthMg)).toEqual([2.5, 10, 15, 20]);
    expect(t.choices('gabapentin', 'Oral Capsule').map((p) => p.strengthMg)).toEqual([100, 300, 400]);
    expect(t.choices('enoxaparin', 'Prefilled Syringe').map((p) => p.strengthMg)).toEqual([30, 40, 60, 80, 100, 120, 150]);
    expect(t.get('855332')).toMatchObject({ ingredient: 'warfarin', strengthMg: 5, unit: 'tablet' });
    expect(t.get('310431')).toMatchObject({ ingredient: 'gabapentin', strengthMg: 300, unit: 'capsule' });
    // gabapentin enacarbil is another drug: never a gabapentin product
    expect(t.get('1101338')).toBeUndefined();
  });
  test('only warfarin tablets may be split', () => {
    expect(t.all().filter((p) => p.splittable).every((p) => p.ingredient === 'warfarin' && p.form === 'Oral Tablet')).toBe(true);
  });
});
