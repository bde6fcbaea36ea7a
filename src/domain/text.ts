// Client strings that reach the store: one rule for all of them (issue 21, scope 3).
//
// C0 control characters other than tab, line feed and carriage return (U+0000–U+0008, U+000B, U+000C,
// U+000E–U+001F) are refused in every structural string (ids, codes, URLs, FHIR data: FHIR strings may not contain
// them) and stripped from free text a person typed (feedback `overrideReason.userComment`). PostgreSQL text and JSONB
// cannot hold U+0000 at all; without this rule such a value made the database refuse the write, and the service
// reported a refused write as an outage.

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/;
const CONTROL_G = /[\u0000-\u0008\u000B\u000C\u000E-\u001F]/g;

export function hasControl(s: string): boolean {
  return CONTROL.test(s);
}

export function stripControls(s: string): string {
  return s.replace(CONTROL_G, '');
}

/**
 * Where in `v` the first string value or object key holding a control character is ("context.patientId",
 * "prefetch.patient.name[0].family"), or undefined. Never says what the string was.
 */
export function findControl(v: unknown): string | undefined {
  // nearly every body holds none: one walk that builds no path strings, and the path only for a body that does
  return holdsControl(v, 0) ? controlPath(v, '', 0) : undefined;
}

/** Whether controlPath would find something: the same nodes, the same depth bound, no strings built. */
function holdsControl(v: unknown, depth: number): boolean {
  if (typeof v === 'string') return CONTROL.test(v);
  if (v === null || typeof v !== 'object' || depth > 64) return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) if (holdsControl(v[i], depth + 1)) return true;
    return false;
  }
  for (const k in v) {
    if (!Object.prototype.hasOwnProperty.call(v, k)) continue;
    if (CONTROL.test(k) || holdsControl((v as Record<string, unknown>)[k], depth + 1)) return true;
  }
  return false;
}

function controlPath(v: unknown, at: string, depth: number): string | undefined {
  if (typeof v === 'string') return hasControl(v) ? at || '(body)' : undefined;
  if (v === null || typeof v !== 'object' || depth > 64) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = controlPath(v[i], `${at}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    const here = at ? `${at}.${hasControl(k) ? '(key)' : k}` : hasControl(k) ? '(key)' : k;
    if (hasControl(k)) return here;
    const p = controlPath(x, here, depth + 1);
    if (p) return p;
  }
  return undefined;
}

/** A copy of `v` with control characters removed from every string and key (the store's last resort, see resilient.ts). */
export function stripControlsDeep<T>(v: T, depth = 0): T {
  if (typeof v === 'string') return stripControls(v) as T;
  if (v === null || typeof v !== 'object' || depth > 64) return v;
  if (Array.isArray(v)) return v.map((x) => stripControlsDeep(x, depth + 1)) as T;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [stripControls(k), stripControlsDeep(x, depth + 1)])) as T;
}
