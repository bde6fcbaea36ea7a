// Bound on how deeply nested the JSON we accept may be (hook bodies, FHIR answers). No CDS Hooks body or FHIR resource
// needs more than a few dozen levels; deeper input makes structuredClone, JSON.stringify and string conversion of the
// value overflow the stack (a RangeError → 500), so it is refused at the edge instead.
export const MAX_JSON_DEPTH = 100;

/** Is `root` nested deeper than `max` levels? Iterative, so arbitrarily deep input cannot overflow the stack here. */
export function jsonDeeperThan(root: unknown, max: number = MAX_JSON_DEPTH): boolean {
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth >= max) return true;
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
  }
  return false;
}
