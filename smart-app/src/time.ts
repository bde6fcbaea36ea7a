// Dates and times on screen: source times as the source wrote them, the service's own times in the reader's zone.

export function dateText(iso: string | undefined): string {
  return iso ? iso.slice(0, 10) : '—';
}

/**
 * A source date: the day, and the time when the source has one (levels, INR, administrations), as the source wrote
 * it. A time with a UTC offset other than zero keeps its own calendar date and shows the offset (a warfarin dose given
 * at 20:00 UTC−05:00 is on that day of therapy, not on the next UTC day); UTC times are marked UTC.
 */
export function dateTimeText(iso: string | undefined): string {
  if (!iso) return '—';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d)(?::\d\d(?:\.\d+)?)?(Z|[+-]\d\d:\d\d)?$/.exec(iso);
  if (!m) return iso.slice(0, 10);
  const [, date, time, zone] = m;
  if (zone === undefined) return time === '00:00' ? date! : `${date} ${time}`;
  if (zone === 'Z' || zone === '+00:00' || zone === '-00:00') return time === '00:00' ? date! : `${date} ${time} UTC`;
  return `${date} ${time} (UTC${zone.replace('-', '−')})`;
}

const WHEN = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });

/**
 * When the service made a recommendation: date and time in the reader's time zone, with the zone named
 * ("7 Dec 2026, 14:05 CET"), so two recommendations of the same day are told apart and the time is not misread.
 */
export function whenText(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? dateText(iso) : WHEN.format(d);
}

/** Age in whole years on `today` from a FHIR birthDate (YYYY, YYYY-MM or YYYY-MM-DD); undefined when unknown. */
export function ageYears(birthDate: string | undefined, today = new Date()): number | undefined {
  const m = /^(\d{4})(?:-(\d\d)(?:-(\d\d))?)?$/.exec(birthDate ?? '');
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), m[2] ? Number(m[2]) : undefined, m[3] ? Number(m[3]) : undefined];
  if (mo === undefined) return undefined; // a year alone does not give the age in years for certain
  let age = today.getFullYear() - y;
  const before = today.getMonth() + 1 < mo || (today.getMonth() + 1 === mo && d !== undefined && today.getDate() < d);
  if (before) age -= 1;
  return age >= 0 && age < 150 ? age : undefined;
}
