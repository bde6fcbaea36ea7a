// IWPC equations checked against the pred_iwpc_pgx / pred_iwpc_clinical columns of the IWPC training file.
import { readFileSync } from 'node:fs';
import { iwpcClinical, iwpcPharmacogenetic, type IwpcInputs } from '../../src/dosing/warfarin/iwpc.js';
import { parseCsv } from '../../src/util/csv.js';
import { iwpcRowInputs, IWPC_TRAIN_CSV } from '../support/iwpc.js';

const rows = parseCsv(readFileSync(IWPC_TRAIN_CSV, 'utf8'));

describe('IWPC equations reproduce the published predictions in the IWPC data (every complete row)', () => {
  const complete = rows.filter((r) => r['pred_iwpc_pgx'] !== '' && r['pred_iwpc_pgx'] !== 'NA');
  test('there are 3,526 complete rows, as the data README states', () => {
    expect(complete.length).toBe(3526);
  });
  test('pharmacogenetic equation within 0.01 mg/week on every complete row', () => {
    const bad: string[] = [];
    complete.forEach((r, i) => {
      const inputs: IwpcInputs = iwpcRowInputs(r)!;
      const got = iwpcPharmacogenetic(inputs).weeklyDoseMg;
      // failures name the row's position in the file, not its subject id
      if (Math.abs(got - Number(r['pred_iwpc_pgx'])) > 0.01) bad.push(`complete row ${i}: ${got} vs ${r['pred_iwpc_pgx']}`);
    });
    expect(bad).toEqual([]);
  });
  test('clinical equation within 0.01 mg/week on every complete row', () => {
    const bad: string[] = [];
    complete.forEach((r, i) => {
      const got = iwpcClinical(iwpcRowInputs(r)!).weeklyDoseMg;
      if (Math.abs(got - Number(r['pred_iwpc_clinical'])) > 0.01) bad.push(`complete row ${i}: ${got} vs ${r['pred_iwpc_clinical']}`);
    });
    expect(bad).toEqual([]);
  });
  test('terms sum to the square root of the dose', () => {
    const r = iwpcPharmacogenetic(iwpcRowInputs(complete[0]!)!);
    expect(r.terms.reduce((s, t) => s + t.sqrtContribution, 0) ** 2).toBeCloseTo(r.weeklyDoseMg, 10);
  });
});
