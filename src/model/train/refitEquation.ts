// The IWPC 2009 equations' own columns, re-fitted by least squares on a training part (issue 16 evaluation): the
// published equations were derived on IWPC data that include most of the patients they are scored on here, so a
// re-fit on the outer training part only, scored on the same held-out rows, measures how much that helps them.
import type { IwpcInputs } from '../../dosing/warfarin/iwpc.js';
import type { IwpcRecord } from '../iwpcData.js';
import { fitRidge } from './linear.js';

const CYP2C9_LEVELS = ['*1/*2', '*1/*3', '*2/*2', '*2/*3', '*3/*3'] as const;

/** The clinical equation's columns (Appendix S1f): age decade, height, weight, race ×3, inducer, amiodarone. */
export function clinicalColumns(i: IwpcInputs): number[] {
  return [i.ageDecade, i.heightCm, i.weightKg, +(i.race === 'Asian'), +(i.race === 'Black'), +(i.race === 'MissingOrMixed'), +i.enzymeInducer, +i.amiodarone];
}

/** The pharmacogenetic equation's columns for a patient with both genotypes (S1e; its "unknown" terms left out). */
export function pgxColumns(i: IwpcInputs): number[] {
  return [...clinicalColumns(i), +(i.vkorc1 === 'A/G'), +(i.vkorc1 === 'A/A'), ...CYP2C9_LEVELS.map((g) => +(i.cyp2c9 === g))];
}

export interface RefitEquation {
  intercept: number;
  coef: number[];
  /** weekly dose in mg/week (negative square roots clamped at 0, as the published equations are) */
  dose(i: IwpcInputs): number;
}

/** Ordinary least squares of √(weekly dose) on `columns` over the stable records with age, height and weight. */
export function refitEquation(records: IwpcRecord[], columns: (i: IwpcInputs) => number[]): RefitEquation {
  const use = records.filter((r) => r.stable && r.iwpc);
  if (!use.length) throw new Error('refitEquation: no stable record with age, height and weight');
  const X = use.map((r) => columns(r.iwpc!));
  const y = use.map((r) => Math.sqrt(r.doseMgWeek));
  const { intercept, coef } = fitRidge(X, y, new Array<number>(X.length).fill(1), X[0]!.map((_, j) => j), 1e-9);
  return {
    intercept,
    coef,
    dose: (i) => Math.max(columns(i).reduce((s, v, j) => s + coef[j]! * v, intercept), 0) ** 2,
  };
}
