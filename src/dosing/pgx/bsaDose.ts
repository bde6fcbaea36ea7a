// A CPIC starting dose per m² body surface area (mercaptopurine with NUDT15 Poor Metabolizer: "initiate dose at
// 10 mg/m2/day") → a dose in mg for this patient, or what is missing to compute one. Never a guess: without a height
// and a weight on file, or when the draft is not given once a day, no dose is proposed and the card says why.
import type { PatientFacts } from '../../domain/facts.js';
import type { DraftOrder } from '../../domain/order.js';
import type { DoseAdjustment } from '../../domain/recommendation.js';

export interface BsaDose {
  /** set when a dose could be computed and the draft is once daily: the draft's dose → the CPIC starting dose */
  adjustment?: DoseAdjustment;
  /** what the card says about the dose (always) */
  note: string;
  /** what is missing to compute the dose, when something is */
  missing?: string[];
}

const round2 = (v: number): number => Math.round(v * 100) / 100;

/** Mosteller: BSA (m²) = √(height cm × weight kg / 3600). */
export function mostellerBsa(heightCm: number, weightKg: number): number {
  return Math.sqrt((heightCm * weightKg) / 3600);
}

export function bsaStartingDose(perM2: { mgPerM2PerDay: number; phrase: string }, facts: PatientFacts, order: DraftOrder): BsaDose {
  const per = `${perM2.mgPerM2PerDay} mg/m²/day`;
  const h = facts.height?.value;
  const w = facts.weight?.value;
  const heightCm = h && h.unit === 'cm' ? h.value : undefined;
  const weightKg = w && w.unit === 'kg' ? w.value : undefined;
  if (heightCm === undefined || weightKg === undefined || !(heightCm > 30 && heightCm < 260) || !(weightKg > 1 && weightKg < 400)) {
    const missing = [...(heightCm === undefined ? ['height'] : []), ...(weightKg === undefined ? ['weight'] : [])];
    const what = missing.length ? `no ${missing.join(' and no ')} on file` : 'the height or weight on file is implausible';
    return {
      note: `CPIC's starting dose for malignancy is ${per} ("${perM2.phrase}"); the body surface area cannot be computed (${what}), so no dose is proposed — record height and weight, or dose by body surface area yourself.`,
      missing: missing.length ? missing.map((m) => `${m} (for the ${per} starting dose)`) : ['a plausible height and weight'],
    };
  }
  const bsa = round2(mostellerBsa(heightCm, weightKg));
  const daily = round2(perM2.mgPerM2PerDay * bsa);
  const basis = `${per} × ${bsa} m² (Mosteller, ${heightCm} cm, ${weightKg} kg) = ${daily} mg/day`;
  const from = order.currentDose;
  if (!from) return { note: `CPIC's starting dose for malignancy: ${basis}. The draft order has no dose in mg, so no change is proposed.` };
  if (from.frequencyPerDay !== 1) {
    return { note: `CPIC's starting dose for malignancy: ${basis}. The draft is not dosed once daily${from.frequencyPerDay ? ` (${from.frequencyPerDay} times a day)` : ''}, so no per-dose change is proposed.` };
  }
  return {
    note: `CPIC's starting dose for malignancy: ${basis}, once daily; for non-malignant conditions CPIC advises a non-thiopurine alternative instead.`,
    adjustment: { factor: round2(daily / from.value), phrase: `${perM2.phrase}: ${basis}`, from: { value: from.value, unit: from.unit }, to: { value: daily, unit: 'mg' } },
  };
}
