// Draft orders echoed in update actions: rewritten doses and nothing the CDS Hooks JSON rule forbids.
import type { Dosage, MedicationRequest, Quantity } from 'fhir/r4';
import { frequencyPerDayOf } from '../cds/draftDose.js';
import type { DraftOrder } from '../domain/order.js';
import { dispenseRequestFor, type Dispensing } from './dispense.js';
import { decimal } from './markdown.js';

/** Deep copy without null, "", [] or {} anywhere (the CDS Hooks JSON rule; FHIR forbids them too). */
export function pruneEmpty<T>(value: T): T | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return (value === '' ? undefined : value) as T | undefined;
  if (typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const v of value as unknown[]) {
      const p = pruneEmpty(v);
      if (p !== undefined) items.push(p);
    }
    return (items.length > 0 ? items : undefined) as T | undefined;
  }
  const o = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  let kept = false;
  for (const k of Object.keys(o)) {
    // a "__proto__" key from JSON.parse would set the copy's prototype, not a property: hostile input, dropped
    if (k === '__proto__') continue;
    const p = pruneEmpty(o[k]);
    if (p !== undefined) {
      out[k] = p;
      kept = true;
    }
  }
  return (kept ? out : undefined) as T | undefined;
}

function fmt(v: number): string {
  return decimal(v, 3);
}

export type TimingRepeat = { frequency: number; period: number; periodUnit: 'd' | 'h' | 'wk' };

/** "once daily", "twice daily", "3 times daily", "every 12 hours", "every 2 days", "once weekly". */
export function timingText(t: NonNullable<NonNullable<Dosage['timing']>['repeat']> | undefined): string | undefined {
  if (!t || typeof t.period !== 'number' || t.period <= 0) return undefined;
  const n = typeof t.frequency === 'number' && t.frequency > 0 ? t.frequency : 1;
  const times = n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`;
  if (t.periodUnit === 'd' && t.period === 1) return `${times} daily`;
  if (t.periodUnit === 'wk' && t.period === 1) return `${times} weekly`;
  if (t.periodUnit === 'h' && n === 1) return `every ${fmt(t.period)} hours`;
  if (t.periodUnit === 'd' && n === 1) return `every ${fmt(t.period)} days`;
  if (t.periodUnit === 'wk' && n === 1) return `every ${fmt(t.period)} weeks`;
  return undefined;
}

/**
 * The draft with one new regimen: a single dosage instruction with a single dose (the draft's route, method, site and
 * regimen bounds kept). Other instructions and doses of the draft are dropped, so accepting the suggestion can never
 * sign a dose nobody proposed. `timing` "keep" keeps the draft's own timing (a dose change at the same frequency).
 */
export function withSingleDose(
  order: MedicationRequest,
  dose: { value: number; unit: string } | Quantity,
  timing: TimingRepeat | 'keep',
  text: string,
): MedicationRequest {
  // pruneEmpty below makes the deep copy: nothing of `order` is shared with, or changed in, the result
  const old: Dosage = Array.isArray(order.dosageInstruction) && order.dosageInstruction[0] ? order.dosageInstruction[0] : {};
  const repeat = old.timing?.repeat;
  const bounds: Record<string, unknown> = {};
  if (repeat) for (const k of Object.keys(repeat)) if (k.startsWith('bounds')) bounds[k] = repeat[k as keyof typeof repeat];
  // fields in FHIR order; the optional ones assigned in place (an object spread per field cost more than the rest)
  const first: Dosage = {};
  if (old.sequence !== undefined) first.sequence = old.sequence;
  first.text = text;
  if (timing === 'keep') {
    if (old.timing) first.timing = old.timing;
  } else first.timing = { repeat: Object.assign(bounds, timing) };
  if (old.asNeededBoolean !== undefined) first.asNeededBoolean = old.asNeededBoolean;
  if (old.site) first.site = old.site;
  if (old.route) first.route = old.route;
  if (old.method) first.method = old.method;
  const doseAndRate: NonNullable<Dosage['doseAndRate']>[number] = {};
  if (old.doseAndRate?.[0]?.type) doseAndRate.type = old.doseAndRate[0].type;
  doseAndRate.doseQuantity = 'system' in dose || 'code' in dose ? { ...dose } : { value: dose.value, unit: dose.unit, system: 'http://unitsofmeasure.org', code: dose.unit };
  first.doseAndRate = [doseAndRate];
  const copy: MedicationRequest = { ...order, dosageInstruction: [first] };
  return pruneEmpty(copy) ?? structuredClone(copy);
}

/**
 * The draft as a complete order for the proposed dose: the product that makes it (see dispensingFor), the dose as units
 * or mg, the timing, and a text written from the same structured dose; the dispense quantity recomputed for the new
 * units per day. A product change replaces a medicationReference (and its contained Medication).
 */
export function withDispensedDose(order: DraftOrder, d: Dispensing, timing: TimingRepeat | 'keep', frequencyText: string, note?: string): MedicationRequest {
  const text = `${d.doseText} ${frequencyText}${note ? ` — ${note}` : ''}`;
  const updated = withSingleDose(order.resource, d.doseQuantity as Quantity & { value: number; unit: string }, timing, text);
  if (d.change || !updated.medicationCodeableConcept) {
    const ref = updated.medicationReference?.reference;
    delete updated.medicationReference;
    if (typeof ref === 'string' && ref.startsWith('#') && Array.isArray(updated.contained)) {
      updated.contained = updated.contained.filter((c) => c?.id !== ref.slice(1));
      if (updated.contained.length === 0) delete updated.contained;
    }
    updated.medicationCodeableConcept = d.medication;
  }
  const rep = timing === 'keep' ? order.resource.dosageInstruction?.[0]?.timing?.repeat : timing;
  const perDay = frequencyPerDayOf(rep ? { timing: { repeat: rep } } : undefined);
  const old = order.currentDose;
  // units the draft used per day: counted, or its mg dose in units of its product
  const oldCount = old?.units?.count ?? (old && order.product && !order.product.perMl ? old.value / order.product.strengthMg : undefined);
  const dispense = dispenseRequestFor(order.resource, d.units && perDay !== undefined ? d.units.count * perDay : undefined, oldCount !== undefined && old?.frequencyPerDay !== undefined ? oldCount * old.frequencyPerDay : undefined);
  if (dispense) updated.dispenseRequest = dispense;
  else delete updated.dispenseRequest;
  return pruneEmpty(updated) ?? updated;
}

function scaled(q: Quantity | undefined, factor: number): Quantity | undefined {
  return q && typeof q.value === 'number' ? { ...q, value: Number((q.value * factor).toPrecision(6)) } : q;
}

function quantityText(q: Quantity | undefined): string {
  return q && typeof q.value === 'number' ? `${fmt(q.value)} ${q.unit ?? q.code ?? ''}`.trim() : '?';
}

/**
 * The draft with every dose (all instructions, all dose entries, ranges too) multiplied by `factor`, for a draft whose
 * dose is not one dose the service can read; each instruction's text is rewritten from its scaled dose and timing.
 */
export function withScaledDoses(order: MedicationRequest, factor: number, note: string): MedicationRequest {
  const copy = structuredClone(order);
  // new objects for what changes (optional fields assigned in place, not spread in: same keys, same order)
  copy.dosageInstruction = (Array.isArray(copy.dosageInstruction) ? copy.dosageInstruction : []).map((d) => {
    const instruction: Dosage = { ...d };
    const parts: string[] = [];
    if (Array.isArray(d.doseAndRate)) {
      instruction.doseAndRate = d.doseAndRate.map((dr) => {
        const scaledDr = { ...dr };
        if (dr.doseQuantity) {
          scaledDr.doseQuantity = scaled(dr.doseQuantity, factor);
          parts.push(quantityText(scaledDr.doseQuantity));
        }
        if (dr.doseRange) {
          const range = { ...dr.doseRange };
          if (dr.doseRange.low) range.low = scaled(dr.doseRange.low, factor);
          if (dr.doseRange.high) range.high = scaled(dr.doseRange.high, factor);
          scaledDr.doseRange = range;
          parts.push(`${quantityText(range.low)}–${quantityText(range.high)}`);
        }
        return scaledDr;
      });
    }
    const when = timingText(d.timing?.repeat);
    // the old text described the old dose: never left on the order (it prints on the label)
    instruction.text = `${parts.length ? parts.join(' + ') : 'dose'}${when ? ` ${when}` : ''} (doses × ${fmt(factor)} — ${note})`;
    return instruction;
  });
  return pruneEmpty(copy) ?? copy;
}
