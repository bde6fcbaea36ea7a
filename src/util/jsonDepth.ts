// Bound on how deeply nested the JSON we accept may be (hook bodies, FHIR answers). No CDS Hooks body or FHIR resource
// needs more than a few dozen levels; deeper input makes structuredClone, JSON.stringify and string conversion of the
// value overflow the stack (a RangeError → 500), so it is refused at the edge instead.
export const MAX_JSON_DEPTH = 100;

/**
 * Is `root` nested deeper than `max` levels? Recursion stops at `max`, so arbitrarily deep input cannot overflow the
 * stack here; no arrays are allocated per node (this runs on every request body).
 */
export function jsonDeeperThan(root: unknown, max: number = MAX_JSON_DEPTH): boolean {
  return deeper(root, 0, max);
}

function deeper(v: unknown, depth: number, max: number): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (depth >= max) return true;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (deeper(v[i], depth + 1, max)) return true;
    return false;
  }
  for (const k in v as Record<string, unknown>) {
    if (Object.prototype.hasOwnProperty.call(v, k) && deeper((v as Record<string, unknown>)[k], depth + 1, max)) return true;
  }
  return false;
}
