// A weekly warfarin schedule a patient can take with whole or half tablets of one strength.

/** US warfarin tablet strengths, mg. */
export const WARFARIN_TABLETS_MG = [1, 2, 2.5, 3, 4, 5, 6, 7.5, 10] as const;

export interface TabletSchedule {
  strengthMg: number;
  /** dose on most days and on the other days (equal when one daily dose) */
  usualMg: number;
  otherMg: number;
  otherDays: number;
  weeklyMg: number;
  text: string;
}

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
/** Days that spread n "other" doses across the week. */
const SPREAD: Record<number, number[]> = { 1: [3], 2: [0, 3], 3: [0, 2, 4], 4: [0, 2, 4, 6], 5: [0, 1, 2, 4, 5], 6: [0, 1, 2, 3, 4, 5] };

function fmt(v: number): string {
  return Number(v.toFixed(2)).toString();
}

/** Half tablets needed for one daily dose of `dose` mg with `strength` mg tablets (0 or 1). */
function halves(dose: number, strength: number): number {
  return Math.abs(dose / strength - Math.round(dose / strength)) > 1e-9 ? 1 : 0;
}

/**
 * The schedule closest to `weeklyMg` using one tablet strength, whole or half tablets (at most 2 tablets a day), at
 * most two daily doses half a tablet apart. Among equally close schedules: fewest half tablets, then one daily dose,
 * then fewest tablets per week. `preferStrengthMg` (the drafted tablet) wins among schedules as close as the best one, so
 * the order keeps the product it was written with when that product can make the dose.
 */
export function tabletSchedule(weeklyMg: number, preferStrengthMg?: number): TabletSchedule | undefined {
  if (!Number.isFinite(weeklyMg) || weeklyMg <= 0) return undefined;
  let best: { s: TabletSchedule; score: number[] } | undefined;
  for (const s of WARFARIN_TABLETS_MG) {
    const step = s / 2;
    const low = Math.floor(weeklyMg / 7 / step) * step;
    for (let k = 0; k <= 7; k++) {
      const usual = k >= 4 ? low + step : low;
      const other = k >= 4 ? low : low + step;
      const otherDays = k >= 4 ? 7 - k : k;
      if (usual <= 0 || (otherDays > 0 && other <= 0) || Math.max(usual, otherDays > 0 ? other : 0) > 2 * s) continue;
      const total = 7 * low + k * step;
      const halfDays = (7 - otherDays) * halves(usual, s) + otherDays * halves(other, s);
      const tablets = ((7 - otherDays) * usual + otherDays * other) / s;
      const score = [Math.round(Math.abs(total - weeklyMg) * 100) / 100, preferStrengthMg !== undefined && Math.abs(s - preferStrengthMg) < 1e-9 ? 0 : 1, halfDays, otherDays === 0 ? 0 : 1, tablets];
      if (!best || score.some((v, i) => v !== best!.score[i]) && lexLess(score, best.score)) {
        const text =
          otherDays === 0
            ? `${fmt(usual)} mg daily (${s} mg tablets)`
            : `${fmt(usual)} mg daily except ${fmt(other)} mg on ${SPREAD[otherDays]!.map((d) => DAYS[d]).join(', ')} (${s} mg tablets)`;
        best = { s: { strengthMg: s, usualMg: usual, otherMg: other, otherDays, weeklyMg: total, text }, score };
      }
    }
  }
  return best?.s;
}

function lexLess(a: number[], b: number[]): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! < b[i]!;
  return false;
}
