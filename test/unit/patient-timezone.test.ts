// The patient's time zone for glucose readings sent in UTC (issue 18 item 5): the fasting window 04:00–08:00 is the
// patient's local time. Clock times are Intl's (the runtime's IANA tz database); the expected local times below are
// from the rules of that database: US Eastern UTC−5, daylight time UTC−4 from 02:00 on the second Sunday of March to
// 02:00 on the first Sunday of November (US Energy Policy Act 2005; 2026: 8 March, 1 November); Central European UTC+1,
// summer time UTC+2 from 01:00 UTC on the last Sunday of March to 01:00 UTC on the last Sunday of October (EU
// Directive 2000/84/EC; 2026: 29 March, 25 October); India UTC+5:30 all year; New Zealand daylight time UTC+13 in
// December; Lord Howe Island UTC+10:30, +11 from 02:00 local on the first Sunday of October (a half-hour change,
// inside a UTC hour). Zone placement: FHIR extension http://hl7.org/fhir/StructureDefinition/timezone (valueCode, IANA name).
import type { FhirResource, Patient } from 'fhir/r4';
import { factsFingerprint } from '../../src/cds/monitoring.js';
import { toOrder } from '../../src/cds/orders.js';
import { DrugDictionary } from '../../src/domain/drugs.js';
import type { Recommendation } from '../../src/domain/recommendation.js';
import { evaluateBasalInsulin } from '../../src/dosing/insulin/evaluator.js';
import { loadInsulinKnowledge } from '../../src/dosing/insulin/knowledge.js';
import { extractFacts } from '../../src/fhir/facts.js';
import type { GatherResult } from '../../src/fhir/gather.js';
import { isTimeZone, patientTimeZone, TIMEZONE_EXTENSION, zonedClock } from '../../src/fhir/timezone.js';
import { loadConfig } from '../../src/config.js';
import { basalOrder, cgmReading } from '../fixtures/cgm.js';

const dict = DrugDictionary.load();
const k = loadInsulinKnowledge();
const P = 'tz-pt';
const hhmm = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;

describe('zonedClock: an instant on the clock of an IANA zone (Intl)', () => {
  type Case = [instant: string, zone: string, date: string, time: string, offset: string, source: string];
  test.each<Case>([
    ['2026-12-07T11:30:00Z', 'America/New_York', '2026-12-07', '06:30', '-05:00', 'US Eastern standard time, UTC−5 (December)'],
    ['2026-01-15T03:30:00Z', 'Europe/Berlin', '2026-01-15', '04:30', '+01:00', 'CET, UTC+1 in winter'],
    ['2026-07-15T03:30:00Z', 'Europe/Berlin', '2026-07-15', '05:30', '+02:00', 'CEST, UTC+2 in summer'],
    ['2026-03-08T06:30:00Z', 'America/New_York', '2026-03-08', '01:30', '-05:00', 'DST start day 2026-03-08: before 02:00 EST (07:00Z) still UTC−5'],
    ['2026-03-08T08:30:00Z', 'America/New_York', '2026-03-08', '04:30', '-04:00', 'DST start day: after 02:00 EST the clock is EDT, UTC−4'],
    ['2026-11-01T05:30:00Z', 'America/New_York', '2026-11-01', '01:30', '-04:00', 'DST end day 2026-11-01: the first 01:30 (EDT)'],
    ['2026-11-01T06:30:00Z', 'America/New_York', '2026-11-01', '01:30', '-05:00', 'DST end day: the second 01:30 (EST) — same clock time, one hour later'],
    ['2026-03-29T00:30:00Z', 'Europe/Berlin', '2026-03-29', '01:30', '+01:00', 'EU summer time starts 2026-03-29 01:00 UTC: before it CET'],
    ['2026-03-29T01:30:00Z', 'Europe/Berlin', '2026-03-29', '03:30', '+02:00', 'after 01:00 UTC: CEST (02:00–03:00 local does not exist)'],
    ['2026-10-25T03:30:00Z', 'Europe/Berlin', '2026-10-25', '04:30', '+01:00', 'EU summer time ended 2026-10-25 01:00 UTC: CET again'],
    ['2026-12-07T00:00:00Z', 'Asia/Kolkata', '2026-12-07', '05:30', '+05:30', 'India UTC+5:30 (half-hour offset)'],
    ['2026-12-07T18:00:00Z', 'Pacific/Auckland', '2026-12-08', '07:00', '+13:00', 'NZDT UTC+13: the local date is the next day'],
    ['2026-10-03T15:15:00Z', 'Australia/Lord_Howe', '2026-10-04', '01:45', '+10:30', 'Lord Howe Island: half-hour daylight saving from 02:00 local on 2026-10-04 (15:30Z), before it UTC+10:30'],
    ['2026-10-03T15:45:00Z', 'Australia/Lord_Howe', '2026-10-04', '02:45', '+11:00', 'after the change within the same UTC hour: UTC+11'],
    ['2026-12-07T23:59:00Z', 'UTC', '2026-12-07', '23:59', '+00:00', 'UTC itself'],
  ])('%s in %s → %s %s (%s) — %s', (instant, zone, date, time, offset) => {
    const c = zonedClock(Date.parse(instant), zone);
    expect({ date: c.date, time: hhmm(c.minutes), offset: c.offset }).toEqual({ date, time, offset });
  });
});

describe('isTimeZone / patientTimeZone: the IANA name from the FHIR timezone extension', () => {
  test.each<[unknown, boolean]>([
    ['America/New_York', true],
    ['Europe/Berlin', true],
    ['UTC', true],
    ['Mars/Olympus_Mons', false],
    ['', false],
    ['../../etc/passwd', false],
    ['America/New_York; drop', false],
    [42, false],
    [undefined, false],
  ])('%p → %p', (name, ok) => expect(isTimeZone(name)).toBe(ok));

  const pt = (ext: Patient['extension'], meta?: Patient['extension']): Patient => ({ resourceType: 'Patient', id: P, ...(ext ? { extension: ext } : {}), ...(meta ? { meta: { extension: meta } } : {}) });
  test.each<[string, Patient, ReturnType<typeof patientTimeZone>]>([
    ['on Patient', pt([{ url: TIMEZONE_EXTENSION, valueCode: 'America/New_York' }]), { zone: 'America/New_York' }],
    ['on Patient.meta (a context the extension declares)', pt(undefined, [{ url: TIMEZONE_EXTENSION, valueCode: 'Europe/Berlin' }]), { zone: 'Europe/Berlin' }],
    ['Patient before Patient.meta', pt([{ url: TIMEZONE_EXTENSION, valueCode: 'Asia/Kolkata' }], [{ url: TIMEZONE_EXTENSION, valueCode: 'Europe/Berlin' }]), { zone: 'Asia/Kolkata' }],
    ['not an IANA name', pt([{ url: TIMEZONE_EXTENSION, valueCode: 'Eastern Time' }]), { invalid: 'Eastern Time' }],
    ['no value', pt([{ url: TIMEZONE_EXTENSION }]), { invalid: '(no code)' }],
    ['another extension only', pt([{ url: 'http://example.org/tz', valueCode: 'Europe/Berlin' }]), undefined],
    ['none', pt(undefined), undefined],
  ])('%s', (_name, p, expected) => expect(patientTimeZone(p)).toEqual(expected));
});

/** Meter readings (LOINC 41653-7) at the given instants (170 mg/dL unless given), a glargine draft of 20 units. */
function evaluate(times: (string | [string, number])[], now: string, o: { zone?: unknown; defaultTimeZone?: string; value?: number } = {}): Recommendation {
  const patient: Patient = { resourceType: 'Patient', id: P, ...(o.zone !== undefined ? { extension: [{ url: TIMEZONE_EXTENSION, valueCode: o.zone as string }] } : {}) };
  const glucose: FhirResource[] = times.map((t, i) => (typeof t === 'string' ? cgmReading(`m${i}`, P, t, o.value ?? 170, { loinc: '41653-7' }) : cgmReading(`m${i}`, P, t[0], t[1], { loinc: '41653-7' })));
  const g: GatherResult = { byKey: { patient: { resources: [patient], status: 'query' }, glucose: { resources: glucose, status: 'query' } }, fhirCalls: 2, fhirMs: 1 };
  const NOW = new Date(now);
  const facts = extractFacts(g, { patientId: P, now: NOW });
  return evaluateBasalInsulin(facts, toOrder(basalOrder('o1', P, 20), dict), 'insulin glargine', k, { now: NOW, newId: () => 'x', mode: 'order', ...(o.defaultTimeZone ? { defaultTimeZone: o.defaultTimeZone } : {}) });
}
const days = (dates: string[], time: string) => dates.map((d) => `${d}T${time}`);

describe('the fasting window 04:00–08:00 in the patient’s time zone (ADA fasting value; readings sent in UTC)', () => {
  type Case = [name: string, times: string[], now: string, o: Parameters<typeof evaluate>[2], expected: { step?: string; missing?: RegExp; localTimes?: string[]; zoneValue: string; zoneNote: RegExp }];
  const dec = ['2026-12-05', '2026-12-06', '2026-12-07'];
  const jan = ['2026-01-13', '2026-01-14', '2026-01-15'];
  test.each<Case>([
    ['11:30Z for America/New_York is 06:30 local → three fasting values → raise 20 → 22', days(dec, '11:30:00Z'), '2026-12-07T17:00:00Z', { zone: 'America/New_York' }, { step: 'raise', localTimes: ['06:30', '06:30', '06:30'], zoneValue: 'America/New_York', zoneNote: /patient's time zone \(FHIR timezone extension\); 3 reading\(s\) sent in UTC placed in it/ }],
    ['the same readings without a zone: 11:30 UTC clock time is outside 04:00–08:00 → refused (too sparse), the limit said', days(dec, '11:30:00Z'), '2026-12-07T17:00:00Z', {}, { missing: /only 0 fasting glucose value/, zoneValue: 'UTC (no patient time zone)', zoneNote: /taken at their UTC clock time, so the 04:00–08:00 fasting window may not be the patient's morning/ }],
    ['03:30Z for Europe/Berlin in winter is 04:30 local → fasting → raise', days(jan, '03:30:00Z'), '2026-01-15T12:00:00Z', { zone: 'Europe/Berlin' }, { step: 'raise', localTimes: ['04:30', '04:30', '04:30'], zoneValue: 'Europe/Berlin', zoneNote: /patient's time zone/ }],
    ['the configured default (America/New_York) when the Patient names none', days(dec, '11:30:00Z'), '2026-12-07T17:00:00Z', { defaultTimeZone: 'America/New_York' }, { step: 'raise', localTimes: ['06:30', '06:30', '06:30'], zoneValue: 'America/New_York', zoneNote: /configured default \(PATIENT_TIME_ZONE_DEFAULT\)/ }],
    ['the Patient’s zone before the default: Berlin 04:30 (New York would be 22:30 the day before)', days(jan, '03:30:00Z'), '2026-01-15T12:00:00Z', { zone: 'Europe/Berlin', defaultTimeZone: 'America/New_York' }, { step: 'raise', localTimes: ['04:30', '04:30', '04:30'], zoneValue: 'Europe/Berlin', zoneNote: /patient's time zone/ }],
    ['an explicit offset keeps its own: 06:30−05:00 stays 06:30 for a Berlin patient (not 12:30)', days(dec, '06:30:00-05:00'), '2026-12-07T17:00:00Z', { zone: 'Europe/Berlin' }, { step: 'raise', localTimes: ['06:30', '06:30', '06:30'], zoneValue: 'Europe/Berlin', zoneNote: /every reading carries its own UTC offset, which is kept/ }],
    ['US DST start day (2026-03-08): 08:30Z is 04:30 EDT (it would be 03:30 EST) → in the window; 03-09 and 03-10 too', days(['2026-03-08', '2026-03-09', '2026-03-10'], '08:30:00Z'), '2026-03-10T17:00:00Z', { zone: 'America/New_York' }, { step: 'raise', localTimes: ['04:30', '04:30', '04:30'], zoneValue: 'America/New_York', zoneNote: /3 reading\(s\) sent in UTC/ }],
    ['US DST end day (2026-11-01): 12:30Z is 07:30 EST (it would be 08:30 EDT, outside) → in the window', days(['2026-11-01', '2026-11-02', '2026-11-03'], '12:30:00Z'), '2026-11-03T17:00:00Z', { zone: 'America/New_York' }, { step: 'raise', localTimes: ['07:30', '07:30', '07:30'], zoneValue: 'America/New_York', zoneNote: /sent in UTC/ }],
    ['an invalid zone name ("Eastern Time") is ignored with a note, never a crash: UTC clock time', days(dec, '11:30:00Z'), '2026-12-07T17:00:00Z', { zone: 'Eastern Time' }, { missing: /only 0 fasting glucose value/, zoneValue: 'UTC (no patient time zone)', zoneNote: /the Patient's time zone "Eastern Time" is not an IANA time zone name and was ignored/ }],
    ['an invalid zone with a configured default: the default is used, the ignored value said', days(dec, '11:30:00Z'), '2026-12-07T17:00:00Z', { zone: 'Mars/Olympus_Mons', defaultTimeZone: 'America/New_York' }, { step: 'raise', localTimes: ['06:30', '06:30', '06:30'], zoneValue: 'America/New_York', zoneNote: /configured default .*"Mars\/Olympus_Mons" is not an IANA time zone name and was ignored/ }],
  ])('%s', (_name, times, now, o, e) => {
    const r = evaluate(times, now, o);
    const zoneInput = r.inputs.find((i) => i.key === 'timeZone')!;
    expect(zoneInput.value).toBe(e.zoneValue);
    expect(zoneInput.note).toMatch(e.zoneNote);
    if (e.step) {
      expect(r.insulin?.step).toBe(e.step);
      expect(r.proposedDose?.perDose.value).toBe(22);
      expect(r.insulin!.fasting.map((f) => f.localTime)).toEqual(e.localTimes);
      expect(r.insulin!.timeZone).toMatchObject({ ...(o?.zone && isTimeZone(o.zone) ? { zone: o.zone, from: 'patient' } : o?.defaultTimeZone ? { zone: o.defaultTimeZone, from: 'default' } : {}) });
      // the fasting inputs are labelled with the local date and time
      for (const f of r.insulin!.fasting) expect(r.inputs.some((i) => i.label === `Fasting glucose ${f.localDate} ${f.localTime}`)).toBe(true);
    } else {
      expect(r.kind).toBe('missing-data');
      expect(r.missing[0]).toMatch(e.missing!);
    }
  });

  test('the zone row counts in the facts fingerprint only when it placed readings: with every reading on its own offset, the row changes no stored override', () => {
    const withoutRow = (r: Recommendation) => ({ ...r, inputs: r.inputs.filter((i) => i.key !== 'timeZone') });
    const own = evaluate(days(dec, '06:30:00-05:00'), '2026-12-07T17:00:00Z', { zone: 'Europe/Berlin' });
    expect(factsFingerprint(own, toOrder(basalOrder('o1', P, 20), dict))).toBe(factsFingerprint(withoutRow(own), toOrder(basalOrder('o1', P, 20), dict)));
    const placed = evaluate(days(dec, '11:30:00Z'), '2026-12-07T17:00:00Z', { zone: 'America/New_York' });
    expect(factsFingerprint(placed, toOrder(basalOrder('o1', P, 20), dict))).not.toBe(factsFingerprint(withoutRow(placed), toOrder(basalOrder('o1', P, 20), dict)));
  });

  test('a Patient time zone that is not a string (valueCode 5) is ignored with a note in the facts', () => {
    const patient = { resourceType: 'Patient', id: P, extension: [{ url: TIMEZONE_EXTENSION, valueCode: 5 }] } as unknown as Patient;
    const facts = extractFacts({ byKey: { patient: { resources: [patient], status: 'query' } }, fhirCalls: 1, fhirMs: 1 }, { patientId: P, now: new Date() });
    expect(facts.timeZone).toMatchObject({ invalid: '(no code)' });
    expect(facts.notes).toContain('Patient time zone extension ignored: not an IANA time zone name');
  });

  test('a low is labelled in the patient’s local time when a zone is known', () => {
    // 3 fasting meter readings, and a meter 60 mg/dL at 2026-12-06T08:00Z = 03:00 in New York → level 1 → lower
    const r = evaluate([...days(dec, '11:30:00Z'), ['2026-12-06T08:00:00Z', 60]], '2026-12-07T17:00:00Z', { zone: 'America/New_York' });
    const withLow = r.inputs.filter((i) => i.key.startsWith('low:'));
    expect(r.insulin?.step).toBe('lower');
    expect(withLow.some((i) => i.label.includes('2026-12-06 03:00 America/New_York'))).toBe(true);
  });
});

describe('PATIENT_TIME_ZONE_DEFAULT', () => {
  test.each<[string | undefined, string | RegExp]>([
    [undefined, ''],
    ['America/New_York', 'America/New_York'],
    ['Not/AZone', /patientTimeZoneDefault \(env PATIENT_TIME_ZONE_DEFAULT\): must be an IANA time zone name/],
  ])('%p', (v, expected) => {
    const env = { ...(v !== undefined ? { PATIENT_TIME_ZONE_DEFAULT: v } : {}) };
    if (typeof expected === 'string') expect(loadConfig(env).patientTimeZoneDefault).toBe(expected);
    else expect(() => loadConfig(env)).toThrow(expected);
  });
});
