// PatientFacts from gathered FHIR resources: newest valid value per fact, units converted, sources kept.
import type { Condition, FhirResource, Observation, Reference } from 'fhir/r4';
import type { AdministrativeSex, ConditionFact, DialysisProcedureFact, Fact, PatientFacts, SourceRef } from '../domain/facts.js';
import type { Quantity } from '../domain/units.js';
import { readGeneResults } from './genomics/index.js';
import { patientReferenceProblem, referenceOf } from './references.js';
import type { GatherResult } from './gather.js';
import { toCanonical, ucumCode, type Dimension } from './units.js';
import { deviceFact, deviceIndex, observationDevice } from './devices.js';
import { readGlucose } from './glucose.js';
import { patientTimeZone } from './timezone.js';
import { ageInYears, detailedRaceCodes, iwpcRaceOf } from './demographics.js';
import { dialysisProcedureFact } from './dialysis.js';
import { administrationFact, medicationFact } from './medications.js';
import { codingsOf, FUTURE_TOLERANCE_MS, round } from './resourceValues.js';

export const LOINC = 'http://loinc.org';

/** LOINC codes per measured fact, with the dimension and the plausible range (canonical units) for adults and children. */
export const MEASUREMENTS = {
  weight: { codes: ['29463-7', '3141-9'], dim: 'mass', min: 0.3, max: 400, label: 'Body weight' },
  height: { codes: ['8302-2', '8306-3', '3137-7'], dim: 'length', min: 25, max: 260, label: 'Body height' },
  serumCreatinine: { codes: ['2160-0', '38483-4', '14682-9'], dim: 'creatinine', min: 0.05, max: 30, label: 'Serum creatinine' },
  egfr: { codes: ['98979-8', '62238-1', '33914-3'], dim: 'egfr', min: 1, max: 250, label: 'eGFR' },
  inr: { codes: ['6301-6', '34714-6', '46418-0'], dim: 'ratio', min: 0.5, max: 20, label: 'INR' },
} as const satisfies Record<string, { codes: readonly string[]; dim: Dimension; min: number; max: number; label: string }>;

/** Drug-level LOINC codes (therapeutic drug monitoring): vancomycin [Mass/volume] in serum/plasma, trough, peak. */
export const DRUG_LEVELS: Record<string, { drug: string; label: string }> = {
  '20578-1': { drug: 'vancomycin', label: 'Vancomycin level' },
  '4090-7': { drug: 'vancomycin', label: 'Vancomycin trough level' },
  '4089-9': { drug: 'vancomycin', label: 'Vancomycin peak level' },
};
/** plausible vancomycin concentrations, mg/L (anything above is a unit or entry error) */
const DRUG_LEVEL_MAX_MGL = 200;

type MeasurementKey = keyof typeof MEASUREMENTS;
const CODE_TO_MEASUREMENT = new Map<string, MeasurementKey>(
  (Object.keys(MEASUREMENTS) as MeasurementKey[]).flatMap((k) => MEASUREMENTS[k].codes.map((c) => [c, k] as [string, MeasurementKey])),
);

const USABLE_OBSERVATION_STATUS = new Set(['final', 'amended', 'corrected']);

export { referenceOf, refersToPatient } from './references.js';

function observationDate(o: Observation): string | undefined {
  const d = o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.end ?? o.effectivePeriod?.start ?? o.issued;
  return typeof d === 'string' && !Number.isNaN(Date.parse(d)) ? d : undefined;
}

export interface ExtractOptions {
  patientId: string;
  now: Date;
  /** the call's fhirServer: an absolute subject reference counts only on it (src/fhir/references.ts) */
  fhirServer?: string;
}

/** Build PatientFacts from everything gathered (prefetch and queries), checking each resource belongs to the patient. */
export function extractFacts(g: GatherResult, o: ExtractOptions): PatientFacts {
  const notes: string[] = [];
  const unavailable: string[] = [];
  for (const [key, k] of Object.entries(g.byKey)) {
    if (k.status === 'failed') unavailable.push(`${key}: ${k.error ?? 'unavailable'}`);
    else if (k.incomplete) unavailable.push(`${key}: not all result pages could be read`);
  }

  // one pool of resources, deduplicated by reference, remembering how each arrived
  const pool = new Map<string, { r: FhirResource; via: SourceRef['via'] }>();
  for (const k of Object.values(g.byKey)) {
    const via: SourceRef['via'] = k.status === 'query' ? 'query' : 'prefetch';
    for (const r of k.resources) {
      const ref = typeof r.id === 'string' && r.id ? `${r.resourceType}/${r.id}` : `${r.resourceType}/#${pool.size}`; // dedup key only, never shown
      if (!pool.has(ref)) pool.set(ref, { r, via });
    }
  }

  const facts: PatientFacts = { patientId: o.patientId, genes: [], medications: [], conditions: [], unavailable, notes };
  /** a resource whose subject is not this patient is set aside, and said (another patient, server, or a fragment) */
  const setAside = (r: FhirResource, subject: Reference | undefined): boolean => {
    const why = patientReferenceProblem(subject, o.patientId, o.fhirServer);
    if (why !== undefined) notes.push(`${referenceOf(r)} ignored: subject is ${why}`);
    return why !== undefined;
  };
  const nowMs = o.now.getTime();
  const observations: Observation[] = [];
  const best: Partial<Record<MeasurementKey, { q: Quantity; date?: string; ms: number; ref: string; via: SourceRef['via']; reported?: SourceRef['reported']; device?: SourceRef['device'] }[]>> = {};
  // the Devices gathered (Device?patient=…): a reading's device, and the patient's own (an insulin pump)
  const devices = deviceIndex([...pool.values()].map((x) => x.r));

  for (const { r, via } of pool.values()) {
    switch (r.resourceType) {
      case 'Patient': {
        if (r.id !== o.patientId) {
          notes.push(`${referenceOf(r)} ignored: not the patient in context`);
          break;
        }
        const src: SourceRef = { reference: referenceOf(r), via };
        if (typeof r.birthDate === 'string') {
          const age = ageInYears(r.birthDate, o.now);
          if (age !== undefined) {
            facts.birthDate = { value: r.birthDate, source: src };
            facts.ageYears = { value: age, source: src };
          } else notes.push('Patient.birthDate not usable');
        }
        if (r.gender === 'male' || r.gender === 'female' || r.gender === 'other' || r.gender === 'unknown')
          facts.sex = { value: r.gender as AdministrativeSex, source: src };
        const race = iwpcRaceOf(r);
        if (race) facts.race = { value: race, source: src };
        const detailed = detailedRaceCodes(r);
        if (detailed.length > 0) facts.raceDetailed = { value: detailed, source: src };
        const tz = patientTimeZone(r);
        if (tz) {
          facts.timeZone = 'zone' in tz ? { zone: tz.zone, source: src } : { invalid: tz.invalid, source: src };
          if ('invalid' in tz) notes.push('Patient time zone extension ignored: not an IANA time zone name');
        }
        break;
      }
      case 'Observation': {
        if (setAside(r, r.subject)) break;
        const device = observationDevice(r, devices);
        const glucose = readGlucose(r, via, device, nowMs);
        if (glucose) {
          if ('ignored' in glucose) notes.push(`${referenceOf(r)} (glucose) ignored: ${glucose.ignored}`);
          else if ('unread' in glucose) (facts.glucoseUnread ??= []).push(glucose.unread);
          else (facts.glucose ??= []).push(glucose.reading);
          break;
        }
        const levelCode = codingsOf(r.code).find((c) => c.system === LOINC && typeof c.code === 'string' && DRUG_LEVELS[c.code] !== undefined);
        if (levelCode) {
          const spec = DRUG_LEVELS[levelCode.code!]!;
          const ref = referenceOf(r);
          if (!USABLE_OBSERVATION_STATUS.has(String(r.status))) {
            notes.push(`${ref} (${spec.label}) ignored: status ${String(r.status)}`);
            break;
          }
          // a level is only usable at its exact sampling time
          const t = typeof r.effectiveDateTime === 'string' ? r.effectiveDateTime : typeof r.effectiveInstant === 'string' ? r.effectiveInstant : undefined;
          const ms = t ? Date.parse(t) : Number.NaN;
          if (Number.isNaN(ms)) {
            notes.push(`${ref} (${spec.label}) ignored: no sampling date-time`);
            break;
          }
          if (ms > nowMs + FUTURE_TOLERANCE_MS) {
            notes.push(`${ref} (${spec.label}) ignored: dated in the future`);
            break;
          }
          const q = toCanonical(r.valueQuantity, 'drugConcentration');
          if (!q || q.value < 0 || q.value > DRUG_LEVEL_MAX_MGL) {
            notes.push(`${ref} (${spec.label}) ignored: no plausible value with a known UCUM unit`);
            break;
          }
          (facts.drugLevels ??= []).push({ drug: spec.drug, loinc: levelCode.code!, mgL: q.value, time: new Date(ms).toISOString(), source: { reference: ref, date: t!, via } });
          break;
        }
        const code = codingsOf(r.code).find((c) => c.system === LOINC && c.code && CODE_TO_MEASUREMENT.has(c.code));
        if (!code) {
          // everything that is not a measurement may be a genomic result: the genomics reader decides
          observations.push(r);
          break;
        }
        const key = CODE_TO_MEASUREMENT.get(code.code!)!;
        const spec = MEASUREMENTS[key];
        const ref = referenceOf(r);
        if (!USABLE_OBSERVATION_STATUS.has(String(r.status))) {
          notes.push(`${ref} (${spec.label}) ignored: status ${String(r.status)}`);
          break;
        }
        const date = observationDate(r);
        const ms = date ? Date.parse(date) : Number.NEGATIVE_INFINITY;
        if (ms > nowMs + FUTURE_TOLERANCE_MS) {
          notes.push(`${ref} (${spec.label}) ignored: dated in the future`);
          break;
        }
        const q = toCanonical(r.valueQuantity, spec.dim);
        if (!q) {
          notes.push(`${ref} (${spec.label}) ignored: no numeric value with a known UCUM unit`);
          break;
        }
        if (q.value < spec.min || q.value > spec.max) {
          notes.push(`${ref} (${spec.label}) ignored: ${round(q.value)} ${q.unit} is outside ${spec.min}–${spec.max}`);
          break;
        }
        // converted to the canonical unit: keep the value as reported (shown as "176 lb = 79.8 kg")
        const unit = q.value !== r.valueQuantity!.value ? ucumCode(r.valueQuantity!) : undefined;
        const reported = unit !== undefined ? { value: r.valueQuantity!.value!, unit } : undefined;
        (best[key] ??= []).push({ q, ...(date ? { date } : {}), ms, ref, via, ...(reported ? { reported } : {}), ...(device ? { device } : {}) });
        break;
      }
      case 'MedicationRequest':
      case 'MedicationStatement': {
        if (setAside(r, r.subject)) break;
        if (r.status !== 'active') break;
        const m = medicationFact(r, via);
        if (m) facts.medications.push(m);
        break;
      }
      case 'MedicationAdministration': {
        if (setAside(r, r.subject)) break;
        const a = administrationFact(r, via, nowMs);
        if (!a) break;
        if ('ignored' in a) notes.push(`${referenceOf(r)} (administration) ignored: ${a.ignored}`);
        else {
          if (a.amountUnusable) notes.push(`${referenceOf(r)} (administration): ${a.amountUnusable}; counted as given on its date, amount unknown`);
          (facts.administrations ??= []).push(a);
        }
        break;
      }
      case 'Procedure': {
        if (setAside(r, r.subject)) break;
        const p = dialysisProcedureFact(r, via, nowMs);
        if (!p) break;
        if ('ignored' in p) notes.push(`${referenceOf(r)} (dialysis procedure) ignored: ${p.ignored}`);
        else (facts.dialysisProcedures ??= []).push(p);
        break;
      }
      case 'Device': {
        if (setAside(r, r.patient)) break;
        const d = deviceFact(r, via);
        if (d) (facts.devices ??= []).push(d);
        break;
      }
      case 'Condition': {
        const c = r as Condition;
        if (setAside(c, c.subject)) break;
        const codes = codingsOf(c.code).map((x) => ({
          ...(x.system ? { system: x.system } : {}),
          ...(x.code ? { code: x.code } : {}),
          ...(x.display ? { display: x.display } : {}),
        }));
        const text = String((typeof c.code?.text === 'string' ? c.code.text : undefined) ?? codes.find((x) => typeof x.display === 'string' && x.display)?.display ?? '').slice(0, 300);
        const cf: ConditionFact = { codes, text, source: { reference: referenceOf(c), ...(typeof c.recordedDate === 'string' && c.recordedDate ? { date: c.recordedDate } : {}), via } };
        facts.conditions.push(cf);
        break;
      }
      default:
        break;
    }
  }

  const newest = (key: MeasurementKey): Fact<Quantity> | undefined => {
    const list = best[key];
    if (!list?.length) return undefined;
    list.sort((a, b) => b.ms - a.ms);
    const top = list[0]!;
    return { value: top.q, source: { reference: top.ref, ...(top.date ? { date: top.date } : {}), via: top.via, ...(top.reported ? { reported: top.reported } : {}), ...(top.device ? { device: top.device } : {}) } };
  };
  const w = newest('weight');
  if (w) facts.weight = w;
  const h = newest('height');
  if (h) facts.height = h;
  const cr = newest('serumCreatinine');
  if (cr) facts.serumCreatinine = cr;
  const e = newest('egfr');
  if (e) facts.egfr = e;
  const inrs = best.inr?.sort((a, b) => b.ms - a.ms);
  if (inrs?.length) facts.inr = inrs.map((x) => ({ value: x.q.value, source: { reference: x.ref, ...(x.date ? { date: x.date } : {}), via: x.via, ...(x.device ? { device: x.device } : {}) } }));

  facts.glucose?.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  facts.drugLevels?.sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
  facts.administrations?.sort((a, b) => Date.parse(a.start) - Date.parse(b.start));
  // newest first; in progress counts as now
  const performedMs = (p: DialysisProcedureFact) => (p.ongoing ? Number.POSITIVE_INFINITY : Date.parse(p.date!));
  facts.dialysisProcedures?.sort((a, b) => performedMs(b) - performedMs(a));

  const genomics = readGeneResults(observations);
  facts.genes = genomics.results;
  if (genomics.unread.length) facts.unreadGenes = genomics.unread;
  for (const ig of genomics.ignored) if (!/not a pharmacogenomic/i.test(ig.reason)) notes.push(`${ig.reference} ignored: ${ig.reason}`);
  return facts;
}
