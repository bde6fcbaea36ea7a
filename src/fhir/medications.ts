// Medications as the chart records them: MedicationRequest / MedicationStatement → MedicationFact, and the monitored
// drugs' MedicationAdministrations (vancomycin infusions, warfarin doses) → AdministrationFact.
import type { MedicationAdministration, MedicationRequest, MedicationStatement } from 'fhir/r4';
import type { AdministrationFact, MedicationFact, SourceRef } from '../domain/facts.js';
import { RXNORM_SYSTEM as RXNORM } from '../domain/drugs.js';
import { referenceOf } from './references.js';
import { codingsOf, FUTURE_TOLERANCE_MS, round } from './resourceValues.js';
import { toCanonical } from './units.js';

/**
 * Monitored drugs whose administrations are read: RxNorm ingredient (and product) CUIs, name fragments, the statuses
 * that count as given, the route, and the largest plausible single dose (mg; above: an entry error).
 * - vancomycin: IV infusions (start and end); an infusion in progress counts.
 * - warfarin: oral doses (one point in time); completed administrations are doses given; not-done is a documented
 *   0 mg that day (a held dose); stopped, in-progress, on-hold, unknown and entered-in-error are not read. Product codes are knowledge/drug-codes.json's warfarin products (a unit test
 *   checks they match).
 */
export const MONITORED_ADMINISTRATIONS: { drug: string; rxnorm: string[]; text: RegExp; statuses: ReadonlySet<string>; heldStatuses?: ReadonlySet<string>; route: 'iv' | 'oral'; maxMg: number }[] = [
  { drug: 'vancomycin', rxnorm: ['11124'], text: /vancomycin|vancocin/i, statuses: new Set(['completed', 'in-progress']), route: 'iv', maxMg: 10000 },
  {
    drug: 'warfarin',
    rxnorm: ['11289', '855288', '855296', '855302', '855312', '855318', '855324', '855332', '855338', '855344', '202421', '114979'],
    text: /warfarin|coumadin|jantoven/i,
    statuses: new Set(['completed']),
    // recorded as not given (a held or refused dose): a documented 0 mg for that day
    heldStatuses: new Set(['not-done']),
    route: 'oral',
    maxMg: 50,
  },
];

export function medicationFact(r: MedicationRequest | MedicationStatement, via: SourceRef['via']): MedicationFact | undefined {
  let cc = r.medicationCodeableConcept;
  if (!cc && r.medicationReference?.reference?.startsWith('#')) {
    const id = r.medicationReference.reference.slice(1);
    const contained = (Array.isArray(r.contained) ? r.contained : []).find((c) => c.resourceType === 'Medication' && c.id === id);
    if (contained && contained.resourceType === 'Medication') cc = contained.code;
  }
  const codings = codingsOf(cc);
  const rxnorm = codings.filter((c) => c.system === RXNORM && typeof c.code === 'string').map((c) => c.code!);
  const text = [cc?.text, ...codings.map((c) => c.display), r.medicationReference?.display]
    .filter((s): s is string => typeof s === 'string' && s.length > 0)
    .join(' | ')
    .slice(0, 500);
  if (rxnorm.length === 0 && !text) return undefined;
  const date: unknown = r.resourceType === 'MedicationRequest' ? r.authoredOn : r.dateAsserted ?? r.effectiveDateTime;
  const fact: MedicationFact = { rxnorm, text, source: { reference: referenceOf(r), ...(typeof date === 'string' && date ? { date } : {}), via } };
  const end: unknown = r.resourceType === 'MedicationStatement' ? r.effectivePeriod?.end : undefined;
  if (typeof end === 'string' && end) fact.end = end;
  return fact;
}

/** Infusion rate in mg/h from dosage.rateQuantity (mg/h, g/h, mg/min) or dosage.rateRatio (mg|g per h|min). */
function rateMgPerHour(d: MedicationAdministration['dosage']): number | undefined {
  if (!d) return undefined;
  const perHour: Record<string, number> = { h: 1, min: 60 };
  const rq = d.rateQuantity;
  if (rq && typeof rq.value === 'number' && rq.value > 0) {
    const m = /^(mg|g)\/(h|min)$/.exec(String(rq.code ?? rq.unit ?? ''));
    if (m) return rq.value * (m[1] === 'g' ? 1000 : 1) * perHour[m[2]!]!;
  }
  const rr = d.rateRatio;
  const num = toCanonical(rr?.numerator, 'doseMass');
  const den = rr?.denominator;
  if (num && den && typeof den.value === 'number' && den.value > 0) {
    const f = perHour[String(den.code ?? den.unit ?? '')];
    if (f !== undefined) return (num.value / den.value) * f;
  }
  return undefined;
}

/** A MedicationAdministration of a monitored drug → AdministrationFact, or the reason it is not usable. */
export function administrationFact(r: MedicationAdministration, via: SourceRef['via'], nowMs: number): AdministrationFact | { ignored: string } | undefined {
  const cc = r.medicationCodeableConcept;
  const codings = codingsOf(cc);
  const text = [cc?.text, ...codings.map((c) => c.display), r.medicationReference?.display].filter((x): x is string => typeof x === 'string').join(' ');
  const codes = codings.filter((c) => c.system === RXNORM && typeof c.code === 'string').map((c) => c.code!);
  const m = MONITORED_ADMINISTRATIONS.find((x) => codes.some((c) => x.rxnorm.includes(c)) || x.text.test(text));
  if (!m) return undefined;
  const held = m.heldStatuses?.has(String(r.status)) === true;
  if (!held && !m.statuses.has(String(r.status))) return { ignored: `status ${String(r.status).slice(0, 32)}` };
  const startIso = r.effectivePeriod?.start ?? r.effectiveDateTime;
  const startMs = typeof startIso === 'string' ? Date.parse(startIso) : Number.NaN;
  const amount = toCanonical(r.dosage?.dose, 'doseMass');
  const amountProblem = !amount || amount.value <= 0 ? 'no dose in mg or g' : amount.value > m.maxMg ? `dose above ${m.maxMg} mg (implausible for ${m.drug})` : undefined;
  if (m.route === 'oral') {
    if (Number.isNaN(startMs)) return { ignored: 'no date-time' };
    if (startMs > nowMs + FUTURE_TOLERANCE_MS) return { ignored: 'dated in the future' };
    // an oral dose is one point in time; its calendar date as recorded (the source's timezone) counts the days of
    // therapy. A dose given without a usable amount still marks its day (amountMg 0 + amountUnusable: never summed).
    const at = new Date(startMs).toISOString();
    const localDate = /^\d{4}-\d{2}-\d{2}/.exec(startIso as string)?.[0];
    return {
      drug: m.drug,
      amountMg: held || amountProblem ? 0 : amount!.value,
      ...(held ? { held: true as const } : amountProblem ? { amountUnusable: amountProblem } : {}),
      start: at,
      end: at,
      route: 'oral',
      ...(localDate ? { localDate } : {}),
      source: { reference: referenceOf(r), date: startIso as string, via },
    };
  }
  if (amountProblem || !amount) return { ignored: amountProblem ?? 'no dose in mg or g' };
  if (Number.isNaN(startMs)) return { ignored: 'no start time' };
  if (startMs > nowMs + FUTURE_TOLERANCE_MS) return { ignored: 'dated in the future' };
  let endMs = typeof r.effectivePeriod?.end === 'string' ? Date.parse(r.effectivePeriod.end) : Number.NaN;
  let endNote: string | undefined;
  if (!Number.isNaN(endMs) && endMs <= startMs) return { ignored: 'infusion end not after its start' };
  if (Number.isNaN(endMs)) {
    const rate = rateMgPerHour(r.dosage);
    if (rate) {
      endMs = startMs + (amount.value / rate) * 3600_000;
      endNote = `end inferred from the infusion rate (${round(rate)} mg/h)`;
    } else {
      endMs = startMs + Math.max(1, amount.value / 1000) * 3600_000;
      endNote = 'no end or rate recorded: infusion assumed to last 1 h per g (at least 1 h)';
    }
  }
  return {
    drug: m.drug,
    amountMg: amount.value,
    start: new Date(startMs).toISOString(),
    end: new Date(endMs).toISOString(),
    ...(endNote ? { endNote } : {}),
    route: 'iv',
    source: { reference: referenceOf(r), date: new Date(startMs).toISOString(), via },
  };
}
