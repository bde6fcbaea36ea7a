// Draft orders echoed in update actions: rewritten doses and nothing the CDS Hooks JSON rule forbids.
import type { Dosage, MedicationRequest, Quantity } from 'fhir/r4';
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

/**
 * The draft with one new regimen: a single dosage instruction with a single dose (the draft's route, method, site and
 * regimen bounds kept). Other instructions and doses of the draft are dropped, so accepting the suggestion can never
 * sign a dose nobody proposed.
 */
export function withSingleDose(
  order: MedicationRequest,
  dose: { value: number; unit: string },
  timing: { frequency: number; period: number; periodUnit: 'd' | 'h' | 'wk' },
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
  first.timing = { repeat: Object.assign(bounds, timing) };
  if (old.asNeededBoolean !== undefined) first.asNeededBoolean = old.asNeededBoolean;
  if (old.site) first.site = old.site;
  if (old.route) first.route = old.route;
  if (old.method) first.method = old.method;
  const doseAndRate: NonNullable<Dosage['doseAndRate']>[number] = {};
  if (old.doseAndRate?.[0]?.type) doseAndRate.type = old.doseAndRate[0].type;
  doseAndRate.doseQuantity = { value: dose.value, unit: dose.unit, system: 'http://unitsofmeasure.org', code: dose.unit };
  first.doseAndRate = [doseAndRate];
  const copy: MedicationRequest = { ...order, dosageInstruction: [first] };
  return pruneEmpty(copy) ?? structuredClone(copy);
}

function scaled(q: Quantity | undefined, factor: number): Quantity | undefined {
  return q && typeof q.value === 'number' ? { ...q, value: Number((q.value * factor).toPrecision(6)) } : q;
}

/** The draft with every dose (all instructions, all dose entries, ranges too) multiplied by `factor`. */
export function withScaledDoses(order: MedicationRequest, factor: number, note: string): MedicationRequest {
  const copy = structuredClone(order);
  // new objects for what changes (optional fields assigned in place, not spread in: same keys, same order)
  copy.dosageInstruction = (Array.isArray(copy.dosageInstruction) ? copy.dosageInstruction : []).map((d) => {
    const instruction: Dosage = { ...d, text: `${d.text ? `${d.text.slice(0, 100)}, ` : ''}doses × ${fmt(factor)} — ${note}` };
    if (Array.isArray(d.doseAndRate)) {
      instruction.doseAndRate = d.doseAndRate.map((dr) => {
        const scaledDr = { ...dr };
        if (dr.doseQuantity) scaledDr.doseQuantity = scaled(dr.doseQuantity, factor);
        if (dr.doseRange) {
          const range = { ...dr.doseRange };
          if (dr.doseRange.low) range.low = scaled(dr.doseRange.low, factor);
          if (dr.doseRange.high) range.high = scaled(dr.doseRange.high, factor);
          scaledDr.doseRange = range;
        }
        return scaledDr;
      });
    }
    return instruction;
  });
  return pruneEmpty(copy) ?? copy;
}
