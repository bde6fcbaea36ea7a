// Safe, bounded access to untrusted FHIR JSON for the genomics reader: nothing here throws or trusts a shape.

export type Rec = Record<string, unknown>;
/** A value found, a reason it could not be, or nothing said. */
export type Found<T> = { value: T } | { error: string } | undefined;

export const MAX_LIST = 50;
/** longest string we try to parse (anything longer is not a genotype) */
export const MAX_PARSE = 200;
/** longest text copied into a result */
export const MAX_TEXT = 300;

export const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);
export const list = (v: unknown, max = MAX_LIST): unknown[] => (Array.isArray(v) ? v.slice(0, max) : []);

/**
 * True when collapsing whitespace runs to one space and trimming would leave `s` unchanged: printable ASCII with
 * single spaces between words (most FHIR strings). Saves the regex replace on the common case.
 */
function isCollapsed(s: string): boolean {
  let afterSpace = true; // a leading space is not collapsed
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32) {
      if (afterSpace) return false;
      afterSpace = true;
    } else if (c < 32 || c > 126) return false;
    else afterSpace = false;
  }
  return !afterSpace || s.length === 0;
}

/** Whitespace runs collapsed to one space, trimmed. */
export const collapse = (s: string): string => (isCollapsed(s) ? s : s.replace(/\s+/g, ' ').trim());

/** A string short enough to parse, whitespace collapsed; undefined for non-strings, empty or over-long strings. */
export function str(v: unknown, max = MAX_PARSE): string | undefined {
  if (typeof v !== 'string' || v.length > max * 2) return undefined;
  const s = collapse(v);
  return s && s.length <= max ? s : undefined;
}

/** Any string, clipped for display. */
export function clip(v: unknown, max = MAX_TEXT): string | undefined {
  if (typeof v !== 'string') return undefined;
  const s = collapse(v.length > max * 2 ? v.slice(0, max * 2) : v);
  if (!s) return undefined;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

export interface Coding {
  system: string;
  code: string;
  display: string;
}

/** A code system URL compared the way senders vary it: lower case, http for https, no trailing slash. */
export function normSystem(v: unknown): string {
  const s = str(v, 200);
  if (!s) return '';
  const lower = s.toLowerCase();
  const http = lower.startsWith('https://') ? `http://${lower.slice(8)}` : lower;
  return http.endsWith('/') ? http.replace(/\/+$/, '') : http;
}

/** The first `max` elements of an array that are JSON objects (like list(v, max).filter(isRec), without the copies). */
export function recordsOf(v: unknown, max: number): Rec[] {
  const out: Rec[] = [];
  if (!Array.isArray(v)) return out;
  const n = Math.min(v.length, max);
  for (let i = 0; i < n; i++) {
    const x: unknown = v[i];
    if (isRec(x)) out.push(x);
  }
  return out;
}

export function codingsOf(cc: unknown): Coding[] {
  if (!isRec(cc)) return [];
  const out: Coding[] = [];
  for (const c of recordsOf(cc.coding, 20)) out.push({ system: normSystem(c.system), code: str(c.code, 100) ?? '', display: str(c.display) ?? '' });
  return out;
}

export const ccOf = (o: Rec): Rec | undefined => (isRec(o.valueCodeableConcept) ? o.valueCodeableConcept : undefined);
export const ccText = (cc: unknown): string | undefined => (isRec(cc) ? str(cc.text) : undefined);

export interface Component {
  codes: Coding[];
  raw: Rec;
}

export function componentsOf(o: Rec): Component[] {
  const out: Component[] = [];
  for (const c of recordsOf(o.component, 100)) out.push({ codes: codingsOf(c.code), raw: c });
  return out;
}

export const componentsWith = (o: Rec, pred: (c: Coding) => boolean): Component[] => componentsOf(o).filter((c) => c.codes.some(pred));

export const OBS_ID = /^[A-Za-z0-9\-.]{1,64}$/;

/** "Observation/<id>" from a local, absolute or versioned reference. */
export function observationRef(v: unknown): string | undefined {
  const s = str(v, 500);
  if (!s) return undefined;
  const m = /(?:^|\/)Observation\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/.exec(s);
  return m ? `Observation/${m[1]}` : undefined;
}

/** Append a non-empty string that is not in the list yet. */
export function addNew(list: string[], s: string | undefined): void {
  if (s && !list.includes(s)) list.push(s);
}
