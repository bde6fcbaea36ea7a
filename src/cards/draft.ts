// Draft orders echoed in update actions: rewritten doses and nothing the CDS Hooks JSON rule forbids.
import type { Dosage, MedicationRequest, Quantity } from 'fhir/r4';

/** Deep copy without null, "", [] or {} anywhere (the CDS Hooks JSON rule; FHIR forbids them too). */
export function pruneEmpty<T>(value: T): T | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return (value === '' ? undefined : value) as T | undefined;
  if (Array.isArray(value)) {
    const items = value.map((v) => pruneEmpty(v)).filter((v) => v !== undefined);
    return (items.length > 0 ? items : undefined) as T | undefined;
  }
  if (typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const p = pruneEmpty(v);
      if (p !== undefined) out[k] = p;
    }
    return (Object.keys(out).length > 0 ? out : undefined) as T | undefined;
  }
  return value;
}

function fmt(v: number): string {
  return Number(v.toFixed(3)).toString();
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
  const bounds = repeat ? Object.fromEntries(Object.entries(repeat).filter(([k]) => k.startsWith('bounds'))) : {};
  const first: Dosage = {
    ...(old.sequence !== undefined ? { sequence: old.sequence } : {}),
    text,
    timing: { repeat: { ...bounds, ...timing } },
    ...(old.asNeededBoolean !== undefined ? { asNeededBoolean: old.asNeededBoolean } : {}),
    ...(old.site ? { site: old.site } : {}),
    ...(old.route ? { route: old.route } : {}),
    ...(old.method ? { method: old.method } : {}),
    doseAndRate: [
      {
        ...(old.doseAndRate?.[0]?.type ? { type: old.doseAndRate[0].type } : {}),
        doseQuantity: { value: dose.value, unit: dose.unit, system: 'http://unitsofmeasure.org', code: dose.unit },
      },
    ],
  };
  const copy: MedicationRequest = { ...order, dosageInstruction: [first] };
  return pruneEmpty(copy) ?? structuredClone(copy);
}

function scaled(q: Quantity | undefined, factor: number): Quantity | undefined {
  return q && typeof q.value === 'number' ? { ...q, value: Number((q.value * factor).toPrecision(6)) } : q;
}

/** The draft with every dose (all instructions, all dose entries, ranges too) multiplied by `factor`. */
export function withScaledDoses(order: MedicationRequest, factor: number, note: string): MedicationRequest {
  const copy = structuredClone(order);
  copy.dosageInstruction = (Array.isArray(copy.dosageInstruction) ? copy.dosageInstruction : []).map((d) => ({
    ...d,
    text: `${d.text ? `${d.text.slice(0, 100)}, ` : ''}doses × ${fmt(factor)} — ${note}`,
    ...(Array.isArray(d.doseAndRate)
      ? {
          doseAndRate: d.doseAndRate.map((dr) => ({
            ...dr,
            ...(dr.doseQuantity ? { doseQuantity: scaled(dr.doseQuantity, factor) } : {}),
            ...(dr.doseRange ? { doseRange: { ...dr.doseRange, ...(dr.doseRange.low ? { low: scaled(dr.doseRange.low, factor) } : {}), ...(dr.doseRange.high ? { high: scaled(dr.doseRange.high, factor) } : {}) } } : {}),
          })),
        }
      : {}),
  }));
  return pruneEmpty(copy) ?? copy;
}
