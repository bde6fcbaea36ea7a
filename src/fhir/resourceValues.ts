// Small readers shared by the FHIR fact extractors (src/fhir/facts.ts and the files it delegates to).
import type { Coding } from 'fhir/r4';

/** allow small clock differences between EHR and service; anything later is a data error */
export const FUTURE_TOLERANCE_MS = 24 * 3600 * 1000;

export function validDate(d: unknown): string | undefined {
  return typeof d === 'string' && d.length > 0 && !Number.isNaN(Date.parse(d)) ? d : undefined;
}

export function codingsOf(cc: { coding?: Coding[] } | undefined): Coding[] {
  return Array.isArray(cc?.coding) ? cc!.coding.filter((c) => typeof c === 'object' && c !== null) : [];
}

/** two decimals */
export function round(v: number): number {
  return Math.round(v * 100) / 100;
}
