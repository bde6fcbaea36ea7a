// The titration step, pure: ADA Standards of Care basal titration (raise 2 units every 3 days while the fasting glucose
// is above the goal without hypoglycaemia; on hypoglycaemia without a clear cause lower by 10–20%), with lows and time
// below range per the international CGM consensus (Battelino 2019). The rules are knowledge/insulin.json's.
import type { GlucoseReadingFact } from '../../domain/facts.js';
import type { InsulinDetail } from '../../domain/recommendation.js';
import type { InsulinKnowledge } from './knowledge.js';
import { fastingValues, inZone, lowEpisodes, timeBelowRange, within, type ReadingZone } from './readings.js';

export interface TitrationInput {
  readings: readonly GlucoseReadingFact[];
  /** glucose readings that exist but could not be read (unit unknown, implausible), with their time */
  unread: readonly { reason: string; time?: string }[];
  currentUnits: number;
  stepUnits: number;
  now: Date;
  /** when the current dose was set (the active order's authoredOn), to keep "every 3 days" */
  doseSetAt?: string;
  /** the zone for readings sent in UTC (readings.ts readingZone); absent = their UTC clock time */
  zone?: ReadingZone;
}

export type TitrationOutcome = { status: 'titrated'; detail: InsulinDetail } | { status: 'refused'; reason: string; fastingCount?: number };

const DAY_MS = 86400_000;

/** Round down to the pen's step, and at least one step below the current dose (never 0). */
function lowered(current: number, fraction: number, step: number): number {
  const target = Math.floor((current * (1 - fraction)) / step) * step;
  return Math.max(step, Math.min(target, current - step));
}

export function titrate(i: TitrationInput, k: InsulinKnowledge): TitrationOutcome {
  const a = k.algorithm;
  const rules = { ...a, level1MgDl: k.tbr.level1MgDl, level2MgDl: k.tbr.level2MgDl };
  const fromMs = i.now.getTime() - a.lookbackDays * DAY_MS;
  const unreadRecent = i.unread.filter((u) => u.time === undefined || Date.parse(u.time) >= fromMs);
  if (unreadRecent.length > 0)
    return { status: 'refused', reason: `${unreadRecent.length} glucose reading(s) of the last ${a.lookbackDays} days could not be read (${unreadRecent[0]!.reason}): a reading whose unit is unknown could be a low, so no step is proposed` };
  const placed = inZone(i.readings, i.zone?.zone);
  const recent = within(placed, i.now, a.lookbackDays);
  const fasting = fastingValues(recent, a).filter((f) => Date.parse(f.source.date ?? '') >= fromMs);
  if (fasting.length < a.minFastingValues)
    return { status: 'refused', reason: `only ${fasting.length} fasting glucose value(s) (lowest reading 04:00–08:00 local time) in the last ${a.lookbackDays} days; at least ${a.minFastingValues} are needed`, fastingCount: fasting.length };
  const lows = [...lowEpisodes(recent, k.tbr.level1MgDl, 1, a.cgmEventMinutes), ...lowEpisodes(recent, k.tbr.level2MgDl, 2, a.cgmEventMinutes)].sort((x, y) => Date.parse(x.start) - Date.parse(y.start));
  const tbrWindow = within(placed, i.now, a.tbrDays);
  const t = timeBelowRange(tbrWindow, rules);
  // the days the CGM readings read actually cover (at most tbrDays): a search cut short is not called 7 days
  const firstCgm = tbrWindow.find((r) => r.method === 'cgm');
  const covered = firstCgm ? Math.min(a.tbrDays, Math.round(((i.now.getTime() - Date.parse(firstCgm.time)) / DAY_MS) * 10) / 10) : 0;
  const tbr = t ? { ...t, days: covered, target70: k.tbr.targetBelow70Percent, target54: k.tbr.targetBelow54Percent } : undefined;
  const mean = Math.round((fasting.reduce((s, f) => s + f.mgDl, 0) / fasting.length) * 10) / 10;
  const target = { low: a.targetMgDl.low, high: a.targetMgDl.high };
  const z = i.zone ?? { from: 'none' as const };
  const timeZone = { ...(z.zone ? { zone: z.zone } : {}), from: z.from, utcReadings: recent.filter((r) => r.sentInUtc).length, ...(z.invalid !== undefined ? { invalid: z.invalid } : {}) };
  const base = { currentUnits: i.currentUnits, stepUnits: i.stepUnits, target, meanFastingMgDl: mean, fasting, lows, ...(tbr ? { tbr } : {}), readingsUsed: recent.length, timeZone };
  const done = (d: Omit<InsulinDetail, keyof typeof base>): TitrationOutcome => ({ status: 'titrated', detail: { ...base, ...d } });

  const level2 = lows.some((l) => l.level === 2);
  if (lows.length > 0) {
    const f = level2 ? a.lowerFraction.level2 : a.lowerFraction.level1;
    const to = lowered(i.currentUnits, f, i.stepUnits);
    return done({
      step: 'lower',
      proposedUnits: to,
      because: `${lows.length} hypoglycaemia episode(s) in the last ${a.lookbackDays} days (${level2 ? `level 2, below ${k.tbr.level2MgDl}` : `level 1, below ${k.tbr.level1MgDl}`} mg/dL): lower by ${Math.round(f * 100)}% if no clear cause (missed meal, exercise, another glucose-lowering drug) explains it — ${i.currentUnits} → ${to} units`,
    });
  }
  if (tbr && (tbr.below70 >= tbr.target70 || tbr.below54 >= tbr.target54))
    return done({ step: 'hold', because: `time below range over ${tbr.days} days is ${tbr.below70}% below 70 mg/dL and ${tbr.below54}% below 54 (consensus targets < ${tbr.target70}% and < ${tbr.target54}%): no increase; review the lows` });
  if (mean > target.high) {
    const setMs = i.doseSetAt ? Date.parse(i.doseSetAt) : Number.NaN;
    if (!Number.isNaN(setMs) && i.now.getTime() - setMs < a.intervalDays * DAY_MS) {
      const due = new Date(setMs + a.intervalDays * DAY_MS).toISOString().slice(0, 10);
      return done({ step: 'wait', because: `fasting glucose above ${target.high} mg/dL, but the dose was set less than ${a.intervalDays} days ago: the next step is due on ${due}` });
    }
    const raise = Math.max(i.stepUnits, Math.round(a.raiseUnits / i.stepUnits) * i.stepUnits);
    return done({ step: 'raise', proposedUnits: i.currentUnits + raise, because: `mean fasting glucose ${mean} mg/dL is above the ${target.low}–${target.high} mg/dL goal without hypoglycaemia: raise by ${raise} units — ${i.currentUnits} → ${i.currentUnits + raise} units` });
  }
  if (mean < target.low)
    return done({ step: 'hold', because: `mean fasting glucose ${mean} mg/dL is below the ${target.low}–${target.high} mg/dL goal (no reading below ${k.tbr.level1MgDl}): no increase; consider a lower dose` });
  return done({ step: 'keep', because: `mean fasting glucose ${mean} mg/dL is within the ${target.low}–${target.high} mg/dL goal without hypoglycaemia: keep the dose` });
}
