// PatientFacts from gathered FHIR resources: newest valid value per fact, units converted, sources kept.
import type {
  Coding,
  Condition,
  Extension,
  FhirResource,
  MedicationAdministration,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Reference,
} from 'fhir/r4';
import type { AdministrationFact, AdministrativeSex, ConditionFact, DialysisKind, DialysisProcedureFact, Fact, IwpcRace, MedicationFact, PatientFacts, SourceRef } from '../domain/facts.js';
import type { Quantity } from '../domain/units.js';
import { encodeToken } from './genomics/codes.js';
import { readGeneResults } from './genomics/index.js';
import { patientReferenceProblem, referenceOf } from './references.js';
import type { GatherResult } from './gather.js';
import { toCanonical, ucumCode, type Dimension } from './units.js';
import { deviceFact, deviceIndex, observationDevice } from './devices.js';
import { readGlucose } from './glucose.js';
import { patientTimeZone } from './timezone.js';

export const LOINC = 'http://loinc.org';
export const RXNORM = 'http://www.nlm.nih.gov/research/umls/rxnorm';

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

export const SNOMED = 'http://snomed.info/sct';
export const CPT = 'http://www.ama-assn.org/go/cpt';
export const ICD10_PCS = 'http://www.cms.gov/Medicare/Coding/ICD10';

/**
 * Dialysis Procedure codes: the one list read by extractFacts and queried by the `dialysis` prefetch template in
 * config/services.json (a unit test checks the template lists exactly these). Meanings checked from the SNOMED CT
 * International release, CPT 2024 and ICD-10-PCS (FY2017+ 5A1D codes) as recalled, not against a terminology server.
 * Kinds: CPT 90945/90947 ("dialysis procedure other than hemodialysis", e.g. peritoneal dialysis, hemofiltration or
 * other CRRT) and SNOMED "renal dialysis" do not name the modality → `dialysis`; ICD-10-PCS prolonged intermittent
 * (6–18 h/day, e.g. SLED) is grouped with CRRT, which the label tables do not cover either.
 */
export const DIALYSIS_PROCEDURES: readonly { system: string; code: string; display: string; kind: DialysisKind }[] = [
  { system: SNOMED, code: '302497006', display: 'Hemodialysis', kind: 'hemodialysis' },
  { system: SNOMED, code: '233575001', display: 'Intermittent hemodialysis', kind: 'hemodialysis' },
  { system: SNOMED, code: '71192002', display: 'Peritoneal dialysis', kind: 'peritoneal' },
  { system: SNOMED, code: '225230008', display: 'Chronic peritoneal dialysis', kind: 'peritoneal' },
  { system: SNOMED, code: '238318009', display: 'Continuous ambulatory peritoneal dialysis', kind: 'peritoneal' },
  { system: SNOMED, code: '428648006', display: 'Automated peritoneal dialysis', kind: 'peritoneal' },
  { system: SNOMED, code: '265764009', display: 'Renal dialysis', kind: 'dialysis' },
  { system: SNOMED, code: '714749008', display: 'Continuous renal replacement therapy', kind: 'crrt' },
  { system: CPT, code: '90935', display: 'Hemodialysis procedure with single evaluation', kind: 'hemodialysis' },
  { system: CPT, code: '90937', display: 'Hemodialysis procedure requiring repeated evaluation', kind: 'hemodialysis' },
  { system: CPT, code: '90945', display: 'Dialysis procedure other than hemodialysis, single evaluation', kind: 'dialysis' },
  { system: CPT, code: '90947', display: 'Dialysis procedure other than hemodialysis, repeated evaluations', kind: 'dialysis' },
  { system: ICD10_PCS, code: '5A1D70Z', display: 'Performance of urinary filtration, intermittent, less than 6 hours per day', kind: 'hemodialysis' },
  { system: ICD10_PCS, code: '5A1D80Z', display: 'Performance of urinary filtration, prolonged intermittent, 6-18 hours per day', kind: 'crrt' },
  { system: ICD10_PCS, code: '5A1D90Z', display: 'Performance of urinary filtration, continuous, greater than 18 hours per day', kind: 'crrt' },
];
/** Procedure statuses that mean the procedure was performed (FHIR: "stopped" = ended after the main activity began). */
export const DIALYSIS_PROCEDURE_STATUSES: ReadonlySet<string> = new Set(['completed', 'in-progress', 'stopped']);

/** The `code` search parameter value of the dialysis prefetch/query: "system|code,…". */
export function dialysisProcedureCodeParam(): string {
  return DIALYSIS_PROCEDURES.map((c) => encodeToken(c.system, c.code)).join(',');
}

function validDate(d: unknown): string | undefined {
  return typeof d === 'string' && d.length > 0 && !Number.isNaN(Date.parse(d)) ? d : undefined;
}

/** A Procedure with a dialysis code → DialysisProcedureFact, the reason it is not usable, or undefined (not dialysis). */
function dialysisProcedureFact(r: Procedure, via: SourceRef['via'], nowMs: number): DialysisProcedureFact | { ignored: string } | undefined {
  let match: (typeof DIALYSIS_PROCEDURES)[number] | undefined;
  for (const c of codingsOf(r.code)) {
    match = DIALYSIS_PROCEDURES.find((d) => d.system === c.system && d.code === (typeof c.code === 'string' ? c.code.trim().toUpperCase() : undefined));
    if (match) break;
  }
  if (!match) return undefined;
  const status = String(r.status);
  if (!DIALYSIS_PROCEDURE_STATUSES.has(status)) return { ignored: `status ${String(status).slice(0, 32)}` };
  const start = validDate(r.performedPeriod?.start);
  const end = validDate(r.performedPeriod?.end);
  const at = validDate(r.performedDateTime);
  const ongoing = status === 'in-progress';
  // in progress: shown with its start; done: dated by its end (or the one date-time recorded)
  const date = ongoing ? start ?? at : end ?? at ?? start;
  if (!date && !ongoing) return { ignored: 'no performed date' };
  for (const d of [start, end, at]) if (d && Date.parse(d) > nowMs + FUTURE_TOLERANCE_MS) return { ignored: 'dated in the future' };
  return {
    kind: match.kind,
    code: { system: match.system, code: match.code, display: match.display },
    status: status as DialysisProcedureFact['status'],
    ...(date ? { date } : {}),
    ongoing,
    source: { reference: referenceOf(r), ...(date ? { date } : {}), via },
  };
}

type MeasurementKey = keyof typeof MEASUREMENTS;
const CODE_TO_MEASUREMENT = new Map<string, MeasurementKey>(
  (Object.keys(MEASUREMENTS) as MeasurementKey[]).flatMap((k) => MEASUREMENTS[k].codes.map((c) => [c, k] as [string, MeasurementKey])),
);

const USABLE_OBSERVATION_STATUS = new Set(['final', 'amended', 'corrected']);
/** allow small clock differences between EHR and service; anything later is a data error */
const FUTURE_TOLERANCE_MS = 24 * 3600 * 1000;

export { referenceOf, refersToPatient } from './references.js';

function observationDate(o: Observation): string | undefined {
  const d = o.effectiveDateTime ?? o.effectiveInstant ?? o.effectivePeriod?.end ?? o.effectivePeriod?.start ?? o.issued;
  return typeof d === 'string' && !Number.isNaN(Date.parse(d)) ? d : undefined;
}

function codingsOf(cc: { coding?: Coding[] } | undefined): Coding[] {
  return Array.isArray(cc?.coding) ? cc!.coding.filter((c) => typeof c === 'object' && c !== null) : [];
}

/** Age in whole years on `now`; partial dates (YYYY or YYYY-MM) use the earliest possible birthday. */
export function ageInYears(birthDate: string, now: Date): number | undefined {
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(birthDate);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = m[2] ? Number(m[2]) : 1;
  const d = m[3] ? Number(m[3]) : 1;
  let age = now.getUTCFullYear() - y;
  if (now.getUTCMonth() + 1 < mo || (now.getUTCMonth() + 1 === mo && now.getUTCDate() < d)) age--;
  return age >= 0 && age < 130 ? age : undefined;
}

const US_CORE_RACE = 'http://hl7.org/fhir/us/core/StructureDefinition/us-core-race';
const OMB_TO_IWPC: Record<string, IwpcRace> = { '2106-3': 'White', '2028-9': 'Asian', '2054-5': 'Black' };

/** IWPC race group from the US Core race extension (OMB categories); several categories count as mixed. */
export function iwpcRaceOf(p: Patient): IwpcRace | undefined {
  const ext = (Array.isArray(p.extension) ? p.extension : []).find((e: Extension) => e?.url === US_CORE_RACE);
  if (!ext) return undefined;
  const omb = (Array.isArray(ext.extension) ? ext.extension : [])
    .filter((e) => e?.url === 'ombCategory' && typeof e.valueCoding?.code === 'string')
    .map((e) => e.valueCoding!.code!);
  if (omb.length === 0) return undefined;
  if (omb.length > 1) return 'MissingOrMixed';
  return OMB_TO_IWPC[omb[0]!] ?? 'MissingOrMixed';
}

/** Detailed race codes (CDC Race & Ethnicity code system) from the US Core race extension. */
export function detailedRaceCodes(p: Patient): string[] {
  const ext = (Array.isArray(p.extension) ? p.extension : []).find((e: Extension) => e?.url === US_CORE_RACE);
  return (Array.isArray(ext?.extension) ? ext!.extension : [])
    .filter((e) => e?.url === 'detailed' && typeof e.valueCoding?.code === 'string')
    .map((e) => e.valueCoding!.code!)
    .slice(0, 20);
}

function medicationFact(r: MedicationRequest | MedicationStatement, via: SourceRef['via']): MedicationFact | undefined {
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
function administrationFact(r: MedicationAdministration, via: SourceRef['via'], nowMs: number): AdministrationFact | { ignored: string } | undefined {
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

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
