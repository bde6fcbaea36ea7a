// What the glucose readings say for basal titration, pure: fasting value per day, hypoglycaemia episodes, CGM time
// below range. Definitions (docs/insulin.md): fasting value = the LOWEST reading of the day's fasting window
// (04:00–08:00 local time as the device recorded it); an episode = consecutive readings below 70 (level 1) or 54 mg/dL
// (level 2) — for a CGM lasting at least 15 minutes (international consensus, Battelino 2019), any meter reading.
import type { GlucoseReadingFact } from '../../domain/facts.js';
import type { FastingValue, LowEpisode } from '../../domain/recommendation.js';
import { zonedClock } from '../../fhir/timezone.js';

export interface ReadingRules {
  fastingWindow: { fromMinutes: number; toMinutes: number };
  lookbackDays: number;
  tbrDays: number;
  cgmEventMinutes: number;
  level1MgDl: number;
  level2MgDl: number;
}

const DAY_MS = 86400_000;

function hhmm(min: number): string {
  return `${String(Math.floor(min / 60)).padStart(2, '0')}:${String(min % 60).padStart(2, '0')}`;
}

/** Readings whose time is within `days` days before `now` (and not after it), oldest first. */
export function within(readings: readonly GlucoseReadingFact[], now: Date, days: number): GlucoseReadingFact[] {
  const from = now.getTime() - days * DAY_MS;
  return readings.filter((r) => {
    const t = Date.parse(r.time);
    return t >= from && t <= now.getTime() + 15 * 60_000;
  });
}

/** One fasting value per local date: the lowest reading in the fasting window (ties: the earliest). */
export function fastingValues(readings: readonly GlucoseReadingFact[], rules: Pick<ReadingRules, 'fastingWindow'>): FastingValue[] {
  const byDate = new Map<string, GlucoseReadingFact>();
  for (const r of readings) {
    if (r.localMinutes < rules.fastingWindow.fromMinutes || r.localMinutes >= rules.fastingWindow.toMinutes) continue;
    const cur = byDate.get(r.localDate);
    if (!cur || r.mgDl < cur.mgDl) byDate.set(r.localDate, r);
  }
  return [...byDate.values()]
    .sort((a, b) => a.localDate.localeCompare(b.localDate))
    .map((r) => ({ localDate: r.localDate, localTime: hhmm(r.localMinutes), mgDl: r.mgDl, sent: r.sent, method: r.method, source: r.source }));
}

/** The typical CGM sampling interval (median gap between consecutive CGM readings, minutes; 5 when unknown). */
function samplingMinutes(cgm: readonly GlucoseReadingFact[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < cgm.length; i++) gaps.push((Date.parse(cgm[i]!.time) - Date.parse(cgm[i - 1]!.time)) / 60_000);
  if (gaps.length === 0) return 5;
  gaps.sort((a, b) => a - b);
  return Math.max(1, gaps[Math.floor(gaps.length / 2)]!);
}

/**
 * Episodes below a threshold. CGM: a run of consecutive readings below it lasts from its first reading to the first
 * reading back at or above it (or one sampling interval after its last reading); it counts from `cgmEventMinutes`.
 * A meter reading below it is an episode on its own.
 */
export function lowEpisodes(readings: readonly GlucoseReadingFact[], threshold: number, level: 1 | 2, cgmEventMinutes: number): LowEpisode[] {
  const out: LowEpisode[] = [];
  for (const r of readings) if (r.method === 'fingerstick' && r.mgDl < threshold) out.push({ level, start: r.time, minutes: 0, lowestMgDl: r.mgDl, source: r.source });
  const cgm = readings.filter((r) => r.method === 'cgm');
  const step = samplingMinutes(cgm);
  for (let i = 0; i < cgm.length; i++) {
    if (cgm[i]!.mgDl >= threshold) continue;
    let j = i;
    let lowest = cgm[i]!;
    while (j + 1 < cgm.length && cgm[j + 1]!.mgDl < threshold) {
      j++;
      if (cgm[j]!.mgDl < lowest.mgDl) lowest = cgm[j]!;
    }
    const startMs = Date.parse(cgm[i]!.time);
    const endMs = j + 1 < cgm.length ? Date.parse(cgm[j + 1]!.time) : Date.parse(cgm[j]!.time) + step * 60_000;
    const minutes = Math.round((endMs - startMs) / 60_000);
    if (minutes >= cgmEventMinutes) out.push({ level, start: cgm[i]!.time, minutes, lowestMgDl: lowest.mgDl, source: lowest.source });
    i = j;
  }
  return out.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
}

/** CGM time below range (% of CGM readings) over the window given; undefined without CGM readings. */
export function timeBelowRange(readings: readonly GlucoseReadingFact[], rules: Pick<ReadingRules, 'level1MgDl' | 'level2MgDl'>): { below70: number; below54: number; readings: number } | undefined {
  const cgm = readings.filter((r) => r.method === 'cgm');
  if (cgm.length === 0) return undefined;
  const pct = (n: number) => Math.round((n / cgm.length) * 1000) / 10;
  return { below70: pct(cgm.filter((r) => r.mgDl < rules.level1MgDl).length), below54: pct(cgm.filter((r) => r.mgDl < rules.level2MgDl).length), readings: cgm.length };
}

/** Which zone places readings sent in UTC on the patient's clock, and where it came from (shown on the card). */
export interface ReadingZone {
  zone?: string;
  from: 'patient' | 'default' | 'none';
  /** the Patient's time zone value that is not an IANA name (ignored) */
  invalid?: string;
}

/** The patient's own valid zone first, else the configured default (validated at start), else none. */
export function readingZone(patient: { zone?: string; invalid?: string } | undefined, defaultZone: string | undefined): ReadingZone {
  const invalid = patient?.invalid !== undefined ? { invalid: patient.invalid } : {};
  if (patient?.zone) return { zone: patient.zone, from: 'patient' };
  if (defaultZone) return { zone: defaultZone, from: 'default', ...invalid };
  return { from: 'none', ...invalid };
}

/**
 * Readings sent in UTC (`Z`) get the calendar date and clock time of the zone (the fasting window 04:00–08:00 is the
 * patient's local time); readings with an explicit offset keep their own. Without a zone nothing changes.
 */
export function inZone(readings: readonly GlucoseReadingFact[], zone: string | undefined): GlucoseReadingFact[] {
  if (!zone) return [...readings];
  return readings.map((r) => {
    if (!r.sentInUtc) return r;
    const c = zonedClock(Date.parse(r.time), zone);
    return { ...r, localDate: c.date, localMinutes: c.minutes };
  });
}
