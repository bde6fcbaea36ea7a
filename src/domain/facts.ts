// PatientFacts: what the service knows about the patient, each fact with the FHIR resource it came from.
import type { Quantity } from './units.js';

/** Where a fact came from: a FHIR reference (e.g. "Observation/123") and the clinically relevant date. */
export interface SourceRef {
  reference: string;
  /** effective/issued date of the source, ISO 8601 */
  date?: string;
  /** how we obtained it: from the hook's prefetch or a query we made ourselves */
  via?: 'prefetch' | 'query' | 'context';
  /**
   * The value as the source reported it, when the service converted it before use: another UCUM unit (176 [lb_av]
   * read as 79.8 kg) or the other DNA strand (VKORC1 rs9923231 C/T on the genomic plus strand read as A/G on the gene
   * strand). Absent when the value was used as reported. Shown by the SMART app ("176 lb = 79.8 kg").
   */
  reported?: { value: number | string; unit?: string; strand?: 'plus' | 'gene' };
  /** the device that measured it (Observation.device), when one is named: a home or wearable device, not the laboratory */
  device?: DeviceProvenance;
}

/** What kind of device a value came from (src/fhir/devices.ts classifies Device.type / name / Observation.device.display). */
export type DeviceKind = 'cgm' | 'glucose-meter' | 'home-inr-meter' | 'scale' | 'bp-monitor' | 'insulin-pump' | 'device';

/** A value's device and provenance, shown on cards ("CGM", "home INR meter") so it is never mistaken for a laboratory value. */
export interface DeviceProvenance {
  kind: DeviceKind;
  /** for the card, e.g. "CGM (Dexcom G7)", "home INR meter (CoaguChek INRange)" */
  label: string;
  /** "Device/cgm-1" when the Observation references one */
  reference?: string;
  /** measured at the point of care / at home by the patient's own device, not by a laboratory method */
  pointOfCare: boolean;
}

/** A Device of the patient (Device?patient=…): used to tell an insulin pump, and a reading's device. */
export interface DeviceFact {
  kind: DeviceKind;
  label: string;
  /** Device.status; absent when not recorded */
  status?: string;
  source: SourceRef;
}

/** One glucose reading (CGM sensor reading or fingerstick meter), in mg/dL, at its local time as recorded. */
export interface GlucoseReadingFact {
  mgDl: number;
  /** as sent (mmol/L readings are converted: 1 mmol/L = 18.016 mg/dL) */
  sent: { value: number; unit: 'mg/dL' | 'mmol/L' };
  /** instant, ISO 8601 (UTC) */
  time: string;
  /**
   * calendar date and clock time in the timestamp's own offset (the patient's local time as the device recorded it);
   * for a reading sent in UTC (`sentInUtc`) the UTC clock until the titration places it in the patient's time zone
   */
  localDate: string;
  localMinutes: number;
  /** the timestamp was sent in UTC (`Z` or `-00:00`): its clock time is not the patient's local time */
  sentInUtc?: true;
  method: 'cgm' | 'fingerstick';
  loinc: string;
  source: SourceRef;
}

export interface Fact<T> {
  value: T;
  source: SourceRef;
}

export type AdministrativeSex = 'male' | 'female' | 'other' | 'unknown';

/** Race categories used by the IWPC equations (OMB race → IWPC groups). */
export type IwpcRace = 'White' | 'Asian' | 'Black' | 'MissingOrMixed';

/** A pharmacogenomic result for one gene, normalised from any Genomics Reporting IG generation. */
export interface GeneResult {
  /** HGNC symbol, e.g. "CYP2C9", "VKORC1", "HLA-B" */
  gene: string;
  /** star-allele diplotype in CPIC notation without the gene prefix, e.g. "*1/*3" */
  diplotype?: string;
  /** a single star allele reported on its own (one haplotype Observation), e.g. "*4"; never a diplotype */
  haplotype?: string;
  /** single-variant genotype: rsID and the two alleles as reported on the gene's coding strand where known */
  variant?: { rsid: string; genotype: string; strand?: 'plus' | 'gene' };
  /**
   * a complete result of one allele (CPIC allele name): a mitochondrial variant ("1555A>G", MT-RNR1) or an X-linked
   * gene in a hemizygous male (G6PD); never a lone haplotype
   */
  allele?: string;
  /** activity score stated by the lab, in CPIC notation ("0.0", "1.25", "≥3.0") */
  activityScore?: string;
  /** HLA allele carriage, e.g. { allele: "*57:01", positive: true } */
  hla?: { allele: string; positive: boolean };
  /** phenotype as stated by the lab (e.g. "Poor Metabolizer", "Likely Intermediate Metabolizer") */
  phenotype?: string;
  /** drug the stated phenotype/implication applies to (RxNorm code), when the result is drug-specific */
  drugRxNorm?: string;
  /** the human-readable result as sent */
  text: string;
  source: SourceRef;
  /** present when other results for the same gene were set aside (disagreement, older result) */
  notes?: string[];
  /** the source Observation's status when it was amended or corrected (otherwise it is final) */
  status?: 'amended' | 'corrected';
  /** Observations this result was assembled from, besides `source` (haplotypes, variant calls of one report) */
  from?: string[];
}

/**
 * A genomic result that is on file but could not be interpreted: it is never presented as "no result on file".
 * `reason` is PHI-free (it may be logged); `text` is the result as sent, for the card only.
 */
export interface UnreadGeneResult {
  /** HGNC symbols the result concerns, as far as they can be told; empty when no gene can be told */
  genes: string[];
  reason: string;
  /** the value as sent, clipped (shown to the clinician, never logged) */
  text?: string;
  source: SourceRef;
}

/** An active co-medication (MedicationRequest or MedicationStatement). */
export interface MedicationFact {
  /** RxNorm codes found on the medication (product or ingredient) */
  rxnorm: string[];
  /** display text (lower-cased names are matched as a fallback) */
  text: string;
  /** end of the effective period of a MedicationStatement (ISO), when stated */
  end?: string;
  source: SourceRef;
}

export interface ConditionFact {
  codes: { system?: string; code?: string; display?: string }[];
  text: string;
  source: SourceRef;
}

/** A measured drug level (therapeutic drug monitoring), mg/L, at its exact sampling time. */
export interface DrugLevelFact {
  /** ingredient, lower case, e.g. "vancomycin" */
  drug: string;
  /** LOINC code of the Observation, e.g. "20578-1" (any), "4090-7" (trough), "4089-9" (peak) */
  loinc: string;
  mgL: number;
  /** effectiveDateTime (exact sampling time, ISO 8601) */
  time: string;
  source: SourceRef;
}

/**
 * A recorded administration (MedicationAdministration) of a monitored drug: an infusion with its start and end
 * (vancomycin), or an oral dose (warfarin: start = end = the time it was given).
 */
export interface AdministrationFact {
  /** ingredient, lower case, e.g. "vancomycin" */
  drug: string;
  amountMg: number;
  /** infusion start / end, ISO 8601 (equal for an oral dose) */
  start: string;
  end: string;
  /** how the end was obtained when it was not recorded, e.g. "assumed 1 h per g (no end or rate recorded)" */
  endNote?: string;
  route?: 'iv' | 'oral';
  /**
   * set (oral doses only) when the dose was given but its amount is not usable (no UCUM mass unit, implausible):
   * amountMg is then 0 and must not be used; the administration still marks the day it was given
   */
  amountUnusable?: string;
  /**
   * set (oral doses only) when the administration is recorded as not given (status not-done, e.g. a held dose):
   * amountMg is 0 — a documented 0 mg that day, not a missing record
   */
  held?: true;
  /** calendar date (YYYY-MM-DD) as recorded, in the source's own timezone: days of therapy are counted on it */
  localDate?: string;
  source: SourceRef;
}

/** Dialysis modality of a Procedure code: intermittent hemodialysis, peritoneal dialysis, continuous (or prolonged
 * intermittent) renal replacement therapy, or dialysis of unspecified modality. */
export type DialysisKind = 'hemodialysis' | 'peritoneal' | 'crrt' | 'dialysis';

/** A dialysis Procedure (SNOMED CT / CPT / ICD-10-PCS code of src/fhir/facts.ts DIALYSIS_PROCEDURES) that was performed. */
export interface DialysisProcedureFact {
  kind: DialysisKind;
  /** the matching coding, e.g. { system: 'http://snomed.info/sct', code: '302497006', display: 'Hemodialysis' } */
  code: { system: string; code: string; display: string };
  /** Procedure.status: completed, in-progress or stopped (the only statuses read) */
  status: 'completed' | 'in-progress' | 'stopped';
  /** when it was last performed (ISO 8601): performedPeriod.end, performedDateTime or performedPeriod.start; absent only when in progress without a date */
  date?: string;
  /** in progress (no end): counts as performed at the hook time */
  ongoing: boolean;
  source: SourceRef;
}

export interface PatientFacts {
  patientId: string;
  birthDate?: Fact<string>;
  /** age in whole years at the time of the hook call */
  ageYears?: Fact<number>;
  sex?: Fact<AdministrativeSex>;
  race?: Fact<IwpcRace>;
  /** detailed race codes (CDC Race & Ethnicity, US Core race extension "detailed"), e.g. ["2039-6"] */
  raceDetailed?: Fact<string[]>;
  weight?: Fact<Quantity>; // kg
  height?: Fact<Quantity>; // cm
  serumCreatinine?: Fact<Quantity>; // mg/dL
  egfr?: Fact<Quantity>; // mL/min/{1.73_m2}
  inr?: Fact<number>[]; // newest first
  /** drug levels (vancomycin), oldest first */
  drugLevels?: DrugLevelFact[];
  /** administrations of monitored drugs (vancomycin infusions, warfarin oral doses), oldest first */
  administrations?: AdministrationFact[];
  genes: GeneResult[];
  /** genomic results on file that could not be interpreted (see UnreadGeneResult) */
  unreadGenes?: UnreadGeneResult[];
  medications: MedicationFact[];
  conditions: ConditionFact[];
  /** dialysis Procedures performed (completed, in progress, or stopped after it began), newest first */
  dialysisProcedures?: DialysisProcedureFact[];
  /** glucose readings (CGM, meter), oldest first */
  glucose?: GlucoseReadingFact[];
  /** glucose Observations that could not be read (unknown unit, no time), PHI-free reasons: never silently dropped */
  glucoseUnread?: { reason: string; time?: string; source: SourceRef }[];
  /** the patient's devices (insulin pump, CGM, meters) */
  devices?: DeviceFact[];
  /**
   * the patient's IANA time zone (FHIR extension `timezone` on Patient or Patient.meta, src/fhir/timezone.ts):
   * `zone` when the runtime knows the name, else `invalid` with the value as sent (ignored, and said)
   */
  timeZone?: { zone?: string; invalid?: string; source: SourceRef };
  /** data the service tried to obtain and could not, by kind (e.g. "weight: timeout") */
  unavailable: string[];
  /** values set aside and why (implausible, unknown unit, another patient, future date): PHI-free */
  notes: string[];
}
