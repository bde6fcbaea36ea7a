// Basal insulin titration from CGM or meter glucose: facts + order → one Recommendation (pure; the clock is passed in).
// Refuses, saying why, when the order is not a once-daily basal dose in units, the patient is on a pump, the readings
// are too sparse or their units unknown. See docs/insulin.md.
import type { DraftOrder } from '../../domain/order.js';
import type { PatientFacts } from '../../domain/facts.js';
import type { Recommendation, RecommendationInput, Severity } from '../../domain/recommendation.js';
import { deviceNote } from '../../fhir/devices.js';
import { zonedClock } from '../../fhir/timezone.js';
import type { InsulinKnowledge } from './knowledge.js';
import { insulinPump, notBasalAlone, readInsulinDose } from './order.js';
import { readingZone, within, type ReadingZone } from './readings.js';
import { titrate } from './titrate.js';

export interface InsulinOptions {
  now: Date;
  newId: () => string;
  mode: 'order' | 'monitor';
  /** the ingredient's RxNorm code when one is known (none is invented) */
  rxnorm?: string;
  /** IANA zone for readings sent in UTC when the Patient names none (config PATIENT_TIME_ZONE_DEFAULT); empty = none */
  defaultTimeZone?: string;
}

/** The "time zone of the readings" input: which zone placed the readings sent in UTC, and where it came from. */
function zoneInput(facts: PatientFacts, z: ReadingZone, utcReadings: number): RecommendationInput {
  const ignored = z.invalid !== undefined ? `; the Patient's time zone "${z.invalid}" is not an IANA time zone name and was ignored` : '';
  const placed = utcReadings > 0 ? `${utcReadings} reading(s) sent in UTC placed in it; readings with their own UTC offset keep it` : 'every reading carries its own UTC offset, which is kept';
  // the zone counts in the facts fingerprint only when it placed readings (a reading with its own offset keeps it):
  // otherwise the row explains and changes nothing, and must not make a stored override stale
  const base = { key: 'timeZone', label: 'Time zone of the readings', fingerprint: utcReadings > 0 ? ('label' as const) : ('none' as const) };
  if (z.from === 'patient') return { ...base, value: z.zone!, note: `the patient's time zone (FHIR timezone extension); ${placed}`, ...(facts.timeZone ? { source: facts.timeZone.source } : {}) };
  if (z.from === 'default') return { ...base, value: z.zone!, note: `configured default (PATIENT_TIME_ZONE_DEFAULT): the patient's record names no usable time zone${ignored}; ${placed}` };
  if (utcReadings > 0)
    return { ...base, value: 'UTC (no patient time zone)', note: `${utcReadings} reading(s) sent in UTC are taken at their UTC clock time, so the 04:00–08:00 fasting window may not be the patient's morning: no time zone on the Patient and none configured${ignored}` };
  return { ...base, value: 'each reading\'s own UTC offset', note: `every reading carries its local offset${ignored}` };
}

const fmt = (v: number, d = 1) => Number(v.toFixed(d)).toString();

export function evaluateBasalInsulin(facts: PatientFacts, order: DraftOrder, ingredient: string, k: InsulinKnowledge, o: InsulinOptions): Recommendation {
  const a = k.algorithm;
  const display = k.ingredients[ingredient]?.display ?? ingredient;
  const dose = readInsulinDose(order, k);
  const stepUnits = dose.product?.stepUnits ?? 1;
  const inputs: RecommendationInput[] = [];
  const ctx = order.ref ? { source: { reference: order.ref, via: 'context' as const } } : {};
  if (dose.units !== undefined) inputs.push({ key: 'currentDose', label: `Current ${display} order`, value: `${fmt(dose.units, 2)} units${dose.frequencyPerDay !== undefined ? ` ${fmt(dose.frequencyPerDay, 2)}× per day` : ''}`, ...ctx, ...(dose.product ? { note: `${dose.product.name}: ${stepUnits}-unit steps` } : {}) });
  inputs.push({ key: 'target', label: 'Fasting glucose goal', value: `${a.targetMgDl.low}–${a.targetMgDl.high}`, unit: 'mg/dL', note: a.targetMgDl.source });
  const base = {
    id: o.newId(),
    drug: { name: ingredient, ...(o.rxnorm ? { rxnorm: o.rxnorm } : {}) },
    ...(order.ref ? { orderRef: order.ref } : {}),
    ...(dose.units !== undefined ? { draftDose: { value: dose.units, unit: 'U', ...(dose.frequencyPerDay !== undefined ? { frequencyPerDay: dose.frequencyPerDay } : {}) } } : {}),
    method: { id: a.id, name: a.name, version: a.version },
    evidence: [{ citation: a.citation, url: a.url }, { citation: k.tbr.citation, url: k.tbr.url }],
  };
  const refuse = (why: string, extraNotes: string[] = []): Recommendation => ({
    ...base,
    kind: 'missing-data',
    severity: 'info',
    headline: `${display}: no titration step proposed — ${why}`.slice(0, 139),
    inputs,
    missing: [why],
    notes: [...extraNotes, 'Titrate by the institution\'s protocol until the data allow an algorithmic step.'],
  });

  const pump = insulinPump(facts);
  if (pump) {
    inputs.push({ key: 'pump', label: 'Insulin pump', value: pump.text, source: pump.source, fingerprint: 'label' });
    return refuse('the patient uses an insulin pump (basal rates are set on the pump, not by this algorithm)');
  }
  const combo = notBasalAlone(order, k);
  if (combo) return refuse(combo);
  if (dose.units === undefined) return refuse(`the order's dose is unknown in units: ${dose.problem ?? 'not readable'}`);
  if (dose.frequencyPerDay !== undefined && Math.abs(dose.frequencyPerDay - 1) > 1e-9)
    return refuse(`the order is ${fmt(dose.frequencyPerDay, 2)}× per day: only a once-daily basal dose is titrated (the fasting value reflects the evening dose of a split regimen)`);
  if (dose.frequencyPerDay === undefined) return refuse('the order has no frequency: only a once-daily basal dose is titrated');

  const readings = facts.glucose ?? [];
  // the glucose search failed, or was cut (page cap, MAX_RESOURCES_PER_KEY: newest first) before the look-back began
  const glucoseProblem = facts.unavailable.find((u) => u.startsWith('glucose:'));
  if (glucoseProblem && readings.length === 0) return refuse(`the glucose readings could not be read (${glucoseProblem.slice(9)})`);
  const oldest = readings[0] ? Date.parse(readings[0].time) : Number.NaN;
  if (glucoseProblem && !(oldest <= o.now.getTime() - a.lookbackDays * 86400_000))
    return refuse(`not all glucose readings of the last ${a.lookbackDays} days could be read (${glucoseProblem.slice(9)}): a low may be among those not read`);
  const zone = readingZone(facts.timeZone, o.defaultTimeZone);
  if (readings.length > 0) inputs.push(zoneInput(facts, zone, within(readings, o.now, a.lookbackDays).filter((r) => r.sentInUtc).length));
  const out = titrate({ readings, zone, unread: facts.glucoseUnread ?? [], currentUnits: dose.units, stepUnits, now: o.now, ...(o.mode === 'monitor' && typeof order.resource.authoredOn === 'string' ? { doseSetAt: order.resource.authoredOn } : {}) }, k);
  if (out.status === 'refused') {
    const unread = facts.glucoseUnread?.[0];
    if (unread) inputs.push({ key: 'glucoseUnread', label: 'Glucose reading not readable', value: unread.reason, source: unread.source });
    return refuse(`${out.reason}${glucoseProblem ? `; not all glucose readings on file could be read (${glucoseProblem.slice(9)})` : ''}`, readings.length === 0 ? ['No CGM or meter glucose readings were found (LOINC 99504-3, 105272-9, 41653-7, 14743-9).'] : []);
  }
  const d = out.detail;
  for (const f of d.fasting)
    inputs.push({ key: `fasting:${f.localDate}`, label: `Fasting glucose ${f.localDate} ${f.localTime}`, value: fmt(f.mgDl, 0), unit: 'mg/dL', source: f.source, note: [f.sent.unit === 'mmol/L' ? `sent as ${f.sent.value} mmol/L` : undefined, deviceNote(f.source)].filter(Boolean).join('; ') });
  const lowAt = (iso: string) => {
    if (!zone.zone) return `${iso.slice(0, 16).replace('T', ' ')} UTC`;
    const c = zonedClock(Date.parse(iso), zone.zone);
    return `${c.date} ${String(Math.floor(c.minutes / 60)).padStart(2, '0')}:${String(c.minutes % 60).padStart(2, '0')} ${zone.zone}`;
  };
  for (const l of d.lows)
    inputs.push({ key: `low:${l.level}:${l.start}`, label: `Hypoglycaemia level ${l.level} (${lowAt(l.start)}${l.minutes ? `, ${l.minutes} min` : ''})`, value: fmt(l.lowestMgDl, 0), unit: 'mg/dL', source: l.source, ...(deviceNote(l.source) ? { note: deviceNote(l.source)! } : {}) });
  // counted by its label only: every new reading changes the percentages a little, which is not a new fact (a low is
  // its own input, and crossing a target changes the step)
  if (d.tbr) inputs.push({ key: 'tbr', label: `CGM time below range (last ${a.tbrDays} days)`, value: `${d.tbr.below70}% < 70, ${d.tbr.below54}% < 54`, unit: 'mg/dL', note: `${d.tbr.readings} readings over ${d.tbr.days} days; consensus targets < ${d.tbr.target70}% and < ${d.tbr.target54}%`, fingerprint: 'label' });
  inputs.push({ key: 'meanFasting', label: `Mean fasting glucose (${d.fasting.length} days)`, value: fmt(d.meanFastingMgDl, 0), unit: 'mg/dL' });

  const notes = [
    d.because + '.',
    `Fasting value = the lowest reading between 04:00 and 08:00 local time of each day (${zone.zone ? `a reading's own UTC offset, readings sent in UTC in ${zone.zone}` : d.timeZone?.utcReadings ? 'as the device recorded it; readings sent in UTC at their UTC clock time, no patient time zone known' : 'as the device recorded it'}); last ${a.lookbackDays} days used, ${d.readingsUsed} readings.`,
    ...(glucoseProblem ? [`Not every glucose reading on file was read (${glucoseProblem.slice(9)}); the last ${a.lookbackDays} days were, the time below range covers ${d.tbr?.days ?? 0} days.`] : []),
    ...(d.step === 'lower' ? ['If a clear cause explains the low (missed meal, unusual exercise, alcohol, another glucose-lowering drug), the reduction may not be needed: address the cause and override with that reason.'] : []),
    ...(d.step === 'raise' ? ['Stop increasing and review the regimen (overbasalization) when the basal dose exceeds about 0.5 units/kg/day, or with a large bedtime-to-morning glucose fall.'] : []),
  ];
  const severity: Severity = d.step === 'lower' ? (d.lows.some((l) => l.level === 2) ? 'critical' : 'warning') : d.step === 'raise' || d.step === 'hold' ? 'warning' : 'info';
  const proposed = d.proposedUnits;
  const headline =
    d.step === 'raise' || d.step === 'lower'
      ? `${display}: ${d.step} to ${proposed} units once daily (fasting mean ${fmt(d.meanFastingMgDl, 0)} mg/dL${d.lows.length ? `, ${d.lows.length} low(s)` : ''})`
      : d.step === 'hold'
        ? `${display}: do not increase — ${d.lows.length === 0 && d.tbr && d.tbr.below70 >= d.tbr.target70 ? `time below 70 mg/dL ${d.tbr.below70}%` : `fasting mean ${fmt(d.meanFastingMgDl, 0)} mg/dL below goal`}`
        : d.step === 'wait'
          ? `${display}: fasting above goal; next titration step not yet due`
          : `${display}: fasting glucose at goal — keep ${dose.units} units`;
  return {
    ...base,
    kind: d.step === 'keep' || d.step === 'wait' ? 'info' : 'dose-adjustment',
    severity,
    headline: headline.slice(0, 139),
    ...(proposed !== undefined ? { proposedDose: { perDose: { value: proposed, unit: 'U' }, frequencyText: 'once daily', timing: { frequency: 1, period: 1, periodUnit: 'd' as const }, roundingNote: `whole units in ${stepUnits}-unit steps` } } : {}),
    inputs,
    missing: [],
    notes,
    insulin: d,
  };
}
