// Strata evaluation of the nested CV (issue 16) and the equation's own 80% interval per stratum.
// Evaluation rows: held-out patients with both genotypes on file and age, height and weight present (a dose is only
// served for those), each shown in the four strata by removing genotypes. The model's predictions come from its
// outer fold (CvResult.oofStrata: trained without these patients); the equation's interval is calibrated on the
// outer training part only.
import { GENOTYPE_STRATA, genotypeStratum, maskToStratum, type GenotypeStratum } from '../../domain/genotypeStratum.js';
import { iwpcForStratum } from '../../dosing/warfarin/iwpc.js';
import { DOSE_BOUNDS } from '../features.js';
import type { IwpcRecord } from '../iwpcData.js';
import { curveInterval, type IntervalCurve } from '../spec.js';
import type { StratumRow } from '../strataMetrics.js';
import { calibrateInterval, type CvResult, type TrainOptions } from './pipeline.js';

const clamp = (v: number): number => Math.min(DOSE_BOUNDS.max, Math.max(DOSE_BOUNDS.min, v));

/** The equation's sqrt dose for a record shown in stratum s (undefined: incomplete, or s not reachable). */
function equationSqrt(r: IwpcRecord, s: GenotypeStratum): number | undefined {
  if (!r.iwpc) return undefined;
  const own = genotypeStratum(r.iwpc);
  const ok = own === s || own === 'both' || s === 'none';
  return ok ? iwpcForStratum(maskToStratum(r.iwpc, s)).sqrtDose : undefined;
}

/** 80% interval of the IWPC equation in each stratum, from its residuals on the given (trainable) records. */
export function calibrateEquationIntervals(records: IwpcRecord[], o: Pick<TrainOptions, 'level' | 'intervalBins' | 'bandCoverageWeight' | 'perKnotCalibration' | 'equalTails'>,
): Record<GenotypeStratum, IntervalCurve> {
  const out = {} as Record<GenotypeStratum, IntervalCurve>;
  for (const s of GENOTYPE_STRATA) {
    const mu: number[] = [];
    const dose: number[] = [];
    for (const r of records) {
      const m = r.stable ? equationSqrt(r, s) : undefined;
      if (m !== undefined) mu.push(m), dose.push(r.doseMgWeek);
    }
    out[s] = calibrateInterval(mu, dose, o);
  }
  return out;
}

/** Out-of-fold rows of each stratum (see header), clamped as served. */
export function strataRowsFromCv(records: IwpcRecord[], cv: CvResult, o: TrainOptions): Record<GenotypeStratum, StratumRow[]> {
  const rows = Object.fromEntries(GENOTYPE_STRATA.map((s) => [s, [] as StratumRow[]])) as Record<GenotypeStratum, StratumRow[]>;
  const k = Math.max(...cv.folds) + 1;
  for (let f = 0; f < k; f++) {
    const curves = calibrateEquationIntervals(records.filter((_, i) => cv.folds[i] !== f), o);
    records.forEach((r, i) => {
      if (cv.folds[i] !== f || !r.iwpc || genotypeStratum(r.iwpc) !== 'both') return;
      for (const s of GENOTYPE_STRATA) {
        const p = cv.oofStrata[i]![s]!;
        const m = equationSqrt(r, s)!;
        const e = curveInterval(curves[s], m);
        rows[s].push({
          actual: r.doseMgWeek,
          model: { pred: clamp(p.dose), low: clamp(p.low), high: clamp(p.high) },
          equation: { pred: Math.max(m, 0) ** 2, low: clamp(e.low), high: clamp(e.high) },
        });
      }
    });
  }
  return rows;
}
