// The patient's time zone (IANA name) and clock times in it, with Intl only (no time-zone data of our own).
// Where the zone is read: the FHIR extension http://hl7.org/fhir/StructureDefinition/timezone (valueCode, an IANA
// name, BCP 175). Its declared context is date, dateTime, instant, time and Meta — not Patient — and FHIR R4 has no
// Patient element for a time zone, so the service reads it on Patient itself (where EHRs put it as a local convention)
// and on Patient.meta (a context the extension allows). See docs/insulin.md ("Time zone").
import type { Patient } from 'fhir/r4';

export const TIMEZONE_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/timezone';

/** Is this an IANA time zone name the runtime knows ("America/New_York", "UTC")? Never throws. */
export function isTimeZone(name: unknown): name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 64 || !/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    if (formatters.size > 200) formatters.clear();
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's UTC offset at an instant, minutes (Intl: the zone's wall clock minus UTC). */
function offsetMinutes(ms: number, zone: string): number {
  const parts = Object.fromEntries(formatter(zone).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const [y, mo, d, h, mi, s] = ['year', 'month', 'day', 'hour', 'minute', 'second'].map((k) => Number(parts[k]));
  return Math.round((Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) - Math.floor(ms / 1000) * 1000) / 60_000);
}

// the offset at the start of each UTC hour, per zone: a week of 5-minute CGM readings needs ~170 Intl calls, not 2,000
const hourOffsets = new Map<string, number>();
function offsetAtHour(zone: string, hour: number): number {
  const key = `${zone}|${hour}`;
  let o = hourOffsets.get(key);
  if (o === undefined) {
    o = offsetMinutes(hour * 3600_000, zone);
    if (hourOffsets.size > 100_000) hourOffsets.clear();
    hourOffsets.set(key, o);
  }
  return o;
}

/** The calendar date, clock minutes after midnight and UTC offset ("-05:00") of an instant in an IANA zone. */
export function zonedClock(ms: number, zone: string): { date: string; minutes: number; offset: string } {
  const hour = Math.floor(ms / 3600_000);
  const a = offsetAtHour(zone, hour);
  // the same offset at both ends of the hour: no change inside it (a zone changes its offset at most once an hour)
  const offsetMin = a === offsetAtHour(zone, hour + 1) ? a : offsetMinutes(ms, zone);
  const local = new Date(Math.floor(ms / 60_000) * 60_000 + offsetMin * 60_000);
  const sign = offsetMin < 0 ? '-' : '+';
  const abs = Math.abs(offsetMin);
  return {
    date: local.toISOString().slice(0, 10),
    minutes: local.getUTCHours() * 60 + local.getUTCMinutes(),
    offset: `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`,
  };
}

/**
 * The time zone a Patient resource names: Patient.extension, else Patient.meta.extension (the first timezone
 * extension found). `invalid`: the value is not an IANA name the runtime knows (cut to 40 characters, for the note).
 */
export function patientTimeZone(p: Patient): { zone: string } | { invalid: string } | undefined {
  const lists = [p.extension, p.meta?.extension].map((l) => (Array.isArray(l) ? l : []));
  for (const list of lists) {
    const ext = list.find((e) => e?.url === TIMEZONE_EXTENSION);
    if (!ext) continue;
    const v: unknown = ext.valueCode ?? (ext as { valueString?: unknown }).valueString;
    return isTimeZone(v) ? { zone: v } : { invalid: typeof v === 'string' ? v.slice(0, 40) : '(no code)' };
  }
  return undefined;
}
