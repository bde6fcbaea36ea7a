// Glucose readings from CGM sensors and fingerstick meters → GlucoseReadingFact (mg/dL, local time as recorded).
// Codes: HL7 CGM IG STU 1 (hl7.org/fhir/uv/cgm) sensor readings 99504-3 "Glucose [Mass/volume] in Interstitial fluid"
// (mg/dL) and 105272-9 "Glucose [Moles/volume] in Interstitial fluid" (mmol/L); fingerstick 41653-7 / 14743-9 (glucometer,
// capillary blood). Laboratory glucose (e.g. 2345-7 serum/plasma) is not read: its method and timing differ. See docs/insulin.md for the sources and what was checked.
import type { Observation } from 'fhir/r4';
import type { DeviceProvenance, GlucoseReadingFact, SourceRef } from '../domain/facts.js';
import { referenceOf } from './references.js';

export const LOINC_SYSTEM = 'http://loinc.org';

/** Glucose reading codes: the method they imply and the dimension of their value. */
export const GLUCOSE_CODES: Record<string, { method: 'cgm' | 'fingerstick'; dim: 'mass' | 'molar'; label: string }> = {
  '99504-3': { method: 'cgm', dim: 'mass', label: 'Glucose [Mass/volume] in Interstitial fluid (CGM)' },
  '105272-9': { method: 'cgm', dim: 'molar', label: 'Glucose [Moles/volume] in Interstitial fluid (CGM)' },
  '41653-7': { method: 'fingerstick', dim: 'mass', label: 'Glucose [Mass/volume] in Capillary blood by Glucometer' },
  '14743-9': { method: 'fingerstick', dim: 'molar', label: 'Glucose [Moles/volume] in Capillary blood by Glucometer' },
};

/** mg/dL per mmol/L of glucose (molar mass 180.16 g/mol). */
export const MGDL_PER_MMOLL = 18.016;
/** plausible readings, mg/dL (CGM sensors report 40–400; a meter up to ~600) */
const MIN_MGDL = 10;
const MAX_MGDL = 800;
const USABLE = new Set(['final', 'amended', 'corrected', 'preliminary']);

/** The glucose code of an Observation, or undefined. */
export function glucoseCodeOf(o: Observation): string | undefined {
  const codings = Array.isArray(o.code?.coding) ? o.code.coding : [];
  return codings.find((c) => c?.system === LOINC_SYSTEM && typeof c.code === 'string' && GLUCOSE_CODES[c.code] !== undefined)?.code;
}

/** The unit of a glucose value, from its UCUM code or unit text; undefined when it is neither mg/dL nor mmol/L. */
function unitOf(q: Observation['valueQuantity']): 'mg/dL' | 'mmol/L' | undefined {
  for (const u of [q?.code, q?.unit]) {
    if (typeof u !== 'string') continue;
    const w = u.trim().toLowerCase().replace(/\s+/g, '');
    if (w === 'mg/dl') return 'mg/dL';
    if (w === 'mmol/l') return 'mmol/L';
  }
  return undefined;
}

export type GlucoseRead = { reading: GlucoseReadingFact } | { unread: { reason: string; time?: string; source: SourceRef } } | { ignored: string };

/**
 * One glucose Observation. `ignored`: not a reading to use at all (status, future, no time) — said in the notes.
 * `unread`: a reading that exists but whose value cannot be used (unknown unit, implausible): the titration refuses
 * rather than computing without it (it might be a low).
 */
export function readGlucose(o: Observation, via: SourceRef['via'], device: DeviceProvenance | undefined, nowMs: number): GlucoseRead | undefined {
  const code = glucoseCodeOf(o);
  if (!code) return undefined;
  const spec = GLUCOSE_CODES[code]!;
  if (!USABLE.has(String(o.status))) return { ignored: `status ${String(o.status).slice(0, 32)}` };
  const t = typeof o.effectiveDateTime === 'string' ? o.effectiveDateTime : typeof o.effectiveInstant === 'string' ? o.effectiveInstant : undefined;
  const m = t ? /^(\d{4}-\d{2}-\d{2})T(\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?/.exec(t) : null;
  const ms = t ? Date.parse(t) : Number.NaN;
  if (!m || Number.isNaN(ms)) return { ignored: 'no reading date-time' };
  if (ms > nowMs + 15 * 60_000) return { ignored: 'dated in the future' };
  const source: SourceRef = { reference: referenceOf(o), date: t!, via, ...(device ? { device } : {}) };
  const q = o.valueQuantity;
  const unit = unitOf(q);
  if (typeof q?.value !== 'number' || !Number.isFinite(q.value)) return { unread: { reason: 'no numeric value', time: new Date(ms).toISOString(), source } };
  if (!unit) return { unread: { reason: `unit "${String(q.code ?? q.unit ?? '(none)').slice(0, 20)}" is neither mg/dL nor mmol/L`, time: new Date(ms).toISOString(), source } };
  if ((unit === 'mmol/L') !== (spec.dim === 'molar')) return { unread: { reason: `unit ${unit} does not match LOINC ${code}`, time: new Date(ms).toISOString(), source } };
  const mgDl = unit === 'mmol/L' ? q.value * MGDL_PER_MMOLL : q.value;
  if (mgDl < MIN_MGDL || mgDl > MAX_MGDL) return { unread: { reason: `value outside ${MIN_MGDL}–${MAX_MGDL} mg/dL`, time: new Date(ms).toISOString(), source } };
  // a CGM value without a device reference is still a CGM reading by its code (the IG's sensor-reading profile)
  const dev: DeviceProvenance = device ?? (spec.method === 'cgm' ? { kind: 'cgm', label: 'CGM', pointOfCare: true } : { kind: 'glucose-meter', label: 'glucose meter', pointOfCare: true });
  return {
    reading: {
      mgDl: Number(mgDl.toPrecision(6)),
      sent: { value: q.value, unit },
      time: new Date(ms).toISOString(),
      localDate: m[1]!,
      localMinutes: Number(m[2]) * 60 + Number(m[3]),
      // sent in UTC: its clock is not the patient's (RFC 3339: -00:00 = the local offset is unknown); +00:00 is an offset
      ...(m[4] === 'Z' || m[4] === '-00:00' ? { sentInUtc: true as const } : {}),
      method: spec.method,
      loinc: code,
      source: { ...source, device: dev },
    },
  };
}
