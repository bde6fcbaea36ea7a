// A basal insulin order as the titration needs it: the dose in units per injection, injections per day, the product
// (pen dose step), and the reasons the titration must not run (premixed or combination product, insulin pump).
import type { MedicationRequest } from 'fhir/r4';
import { frequencyPerDayOf } from '../../cds/draftDose.js';
import type { DraftOrder } from '../../domain/order.js';
import type { PatientFacts, SourceRef } from '../../domain/facts.js';
import { RXNORM_SYSTEM } from '../../domain/drugs.js';
import type { InsulinKnowledge, InsulinProduct } from './knowledge.js';

/** Insulin unit codes and words as EHRs send them (UCUM [IU], "U" as FHIR's own examples use, words). */
const UNIT_WORDS = /^(\[iu\]|iu|u|unit|units|\{unit\}|\{units\}|\[iu\]\/dose)$/i;

export interface InsulinDose {
  units?: number;
  frequencyPerDay?: number;
  /** why the dose could not be read as units (the card says so) */
  problem?: string;
  product?: InsulinProduct;
  /** the quantity as the order wrote it, kept for the suggestion when it was in units */
  quantity?: { unit?: string; system?: string; code?: string };
  fromText?: boolean;
}

function conceptText(mr: MedicationRequest): string {
  const cc = mr.medicationCodeableConcept;
  const codings = Array.isArray(cc?.coding) ? cc!.coding : [];
  return [cc?.text, ...codings.map((c) => c?.display), mr.medicationReference?.display].filter((s): s is string => typeof s === 'string').join(' | ').slice(0, 500);
}

/** The product of the order (an RxNorm code of knowledge/insulin.json), if any. */
export function insulinProductOf(mr: MedicationRequest, k: InsulinKnowledge): InsulinProduct | undefined {
  const codings = Array.isArray(mr.medicationCodeableConcept?.coding) ? mr.medicationCodeableConcept!.coding : [];
  for (const c of codings) if (c?.system === RXNORM_SYSTEM && typeof c.code === 'string') {
    const p = k.products.find((x) => x.rxcui === c.code);
    if (p) return p;
  }
  return undefined;
}

/** The order's dose in insulin units (structured doseQuantity, else a simple "20 units" in the instruction text). */
export function readInsulinDose(order: DraftOrder, k: InsulinKnowledge): InsulinDose {
  const mr = order.resource;
  const product = insulinProductOf(mr, k);
  const withProduct = (d: InsulinDose): InsulinDose => (product ? { ...d, product } : d);
  const di = Array.isArray(mr.dosageInstruction) ? mr.dosageInstruction[0] : undefined;
  if (!di) return withProduct({ problem: 'the order has no dose' });
  if (Array.isArray(mr.dosageInstruction) && mr.dosageInstruction.length > 1) return withProduct({ problem: 'the order has more than one dosage instruction (a split or sliding-scale regimen)' });
  const f = frequencyPerDayOf(di);
  const freq = f !== undefined ? { frequencyPerDay: f } : {};
  const dr = Array.isArray(di.doseAndRate) ? di.doseAndRate[0] : undefined;
  if (dr?.rateQuantity || dr?.rateRatio || dr?.rateRange) return withProduct({ problem: 'the order gives an infusion rate (pump or infusion), not an injected dose' });
  if (dr?.doseRange) return withProduct({ problem: 'the order gives a dose range, not one dose' });
  const q = dr?.doseQuantity;
  if (q) {
    const words = [q.code, q.unit].filter((s): s is string => typeof s === 'string').map((s) => s.trim());
    if (!words.some((w) => UNIT_WORDS.test(w))) return withProduct({ problem: `the dose unit "${(words[0] ?? '(none)').slice(0, 20)}" is not insulin units` });
    if (typeof q.value !== 'number' || !Number.isFinite(q.value) || q.value <= 0 || q.value > 300) return withProduct({ problem: 'the dose has no plausible value in units (1–300)' });
    return withProduct({ units: q.value, ...freq, quantity: { ...(q.unit ? { unit: q.unit } : {}), ...(q.system ? { system: q.system } : {}), ...(q.code ? { code: q.code } : {}) } });
  }
  if (typeof di.text === 'string') {
    const all = [...di.text.slice(0, 300).matchAll(/(\d+(?:\.\d+)?)\s*(units?|u|iu)\b/gi)];
    if (all.length === 1) {
      const v = Number(all[0]![1]);
      const daily = /\b(once (a )?daily|once a day|every day|daily|at bedtime|nightly|every (morning|evening)|qd|qhs)\b/i.test(di.text) ? 1 : /\b(twice|bid|every 12 hours)\b/i.test(di.text) ? 2 : undefined;
      if (v > 0 && v <= 300) return withProduct({ units: v, ...(f !== undefined ? freq : daily !== undefined ? { frequencyPerDay: daily } : {}), fromText: true });
    }
    return withProduct({ problem: 'the dose could not be read as units from the instruction text' });
  }
  return withProduct({ problem: 'the order has no dose in units' });
}

/** Why the basal algorithm does not apply to this product (premixed, fixed-ratio combination), or undefined. */
export function notBasalAlone(order: DraftOrder, k: InsulinKnowledge): string | undefined {
  const text = conceptText(order.resource);
  if (order.drugs.length > 1 || new RegExp(k.notBasalAlone.words, 'i').test(text)) return k.notBasalAlone.why;
  return undefined;
}

/**
 * Evidence that the patient's insulin is delivered by a pump: an active (or status-less) Device classified as an
 * insulin pump (Device.type / name: src/fhir/devices.ts), or an active medication whose text names a pump or CSII.
 */
export function insulinPump(facts: PatientFacts): { text: string; source: SourceRef } | undefined {
  const d = facts.devices?.find((x) => x.kind === 'insulin-pump' && (x.status === undefined || x.status === 'active'));
  if (d) return { text: d.label, source: d.source };
  const m = facts.medications.find((x) => /\binsulin pump\b|\bcsii\b|continuous subcutaneous insulin infusion/i.test(x.text));
  if (m) return { text: m.text.slice(0, 120), source: m.source };
  return undefined;
}
