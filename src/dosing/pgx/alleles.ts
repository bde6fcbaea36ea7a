// Allele names and activity scores: the arithmetic shared by the knowledge build (which checks it against every
// CPIC diplotype row) and the engine (which applies it to a patient's diplotype).

/** An activity value: exact, or "at least" (copy number ≥ N), or not assignable (uncertain-function allele). */
export type Activity = { value: number; atLeast: boolean } | 'n/a';

/** "1.0" → {1,false}; "≥3.0" → {3,true}; "n/a" or "" → 'n/a'. */
export function parseActivity(s: string): Activity {
  const m = /^(≥)?\s*(\d+(?:\.\d+)?)$/.exec(s.trim());
  if (!m) return 'n/a';
  return { value: Number(m[2]), atLeast: m[1] !== undefined };
}

/** CPIC lookup-key notation: one decimal unless a quarter step needs two ("1.0", "0.25", "≥3.0"). */
export function formatActivity(a: Activity): string {
  if (a === 'n/a') return 'n/a';
  const v = Math.round(a.value * 100) / 100;
  const s = Number.isInteger(Math.round(v * 10 * 1000) / 1000) ? v.toFixed(1) : v.toFixed(2);
  return `${a.atLeast ? '≥' : ''}${s}`;
}

export function addActivity(a: Activity, b: Activity): Activity {
  if (a === 'n/a' || b === 'n/a') return 'n/a';
  return { value: a.value + b.value, atLeast: a.atLeast || b.atLeast };
}

/** Named-allele genes carry a star alias in brackets ("c.1905+1G>A (*2A)"); the reader may send either form. */
export function alleleAlias(name: string): string {
  return name.replace(/\s*\([^)]*\)\s*$/, '').trim();
}

/** One collator for the process: localeCompare with options builds a new one on every call (it showed in profiles). */
const NUMERIC = new Intl.Collator('en', { numeric: true });

/** Stable order of the two alleles of a diplotype, so "*2/*1" and "*1/*2" find the same table row. */
export function canonicalDiplotype(a: string, b: string): string {
  return NUMERIC.compare(a, b) <= 0 ? `${a}/${b}` : `${b}/${a}`;
}

/** Split a diplotype into its two alleles; undefined unless there are exactly two. */
export function splitDiplotype(d: string): [string, string] | undefined {
  const slash = d.indexOf('/');
  if (slash === -1 || d.indexOf('/', slash + 1) !== -1) return undefined;
  const a = d.slice(0, slash).trim();
  const b = d.slice(slash + 1).trim();
  return a && b ? [a, b] : undefined;
}

/**
 * Activity of one allele as written in a result, from the gene's allele table. Handles the table's own names,
 * their bracket-less aliases, copy numbers the table does not list ("*1x3", "*2xN" = two or more copies,
 * "*1x≥3") and tandems ("*36+*10"). undefined when an allele is not in the table (the result cannot be scored).
 */
export function alleleActivity(name: string, table: Readonly<Record<string, string>>, aliases: Readonly<Record<string, string>> = {}): Activity | undefined {
  const direct = table[name] ?? (aliases[name] !== undefined ? table[aliases[name]!] : undefined);
  if (direct !== undefined) return parseActivity(direct);
  if (name.includes('+')) {
    const parts = name.split('+').map((p) => p.trim());
    let sum: Activity = { value: 0, atLeast: false };
    for (const p of parts) {
      const a = alleleActivity(p, table, aliases);
      if (a === undefined) return undefined;
      sum = addActivity(sum, a);
    }
    return sum;
  }
  const cn = /^(.+?)x(\d+|N|≥\d+)$/.exec(name);
  if (cn) {
    const base = alleleActivity(cn[1]!, table, aliases);
    if (base === undefined || base === 'n/a' || base.atLeast) return base;
    const copies = cn[2]!;
    if (base.value === 0) return { value: 0, atLeast: false };
    if (copies === 'N') return { value: 2 * base.value, atLeast: true };
    if (copies.startsWith('≥')) return { value: Number(copies.slice(1)) * base.value, atLeast: true };
    return { value: Number(copies) * base.value, atLeast: false };
  }
  return undefined;
}

/** Activity score of a diplotype, or undefined when an allele is unknown. */
export function diplotypeActivity(diplotype: string, table: Readonly<Record<string, string>>, aliases: Readonly<Record<string, string>> = {}): Activity | undefined {
  const parts = splitDiplotype(diplotype);
  if (!parts) return undefined;
  const a = alleleActivity(parts[0], table, aliases);
  const b = alleleActivity(parts[1], table, aliases);
  if (a === undefined || b === undefined) return undefined;
  return addActivity(a, b);
}

/** Phenotype of an activity score from the gene's score → phenotype rows (nearest listed score at or below). */
export function phenotypeOfActivity(a: Activity, rows: readonly (readonly [string, string])[]): string {
  if (a === 'n/a') return 'Indeterminate';
  const key = formatActivity(a);
  const exact = rows.find(([k]) => k === key);
  if (exact) return exact[1];
  let best: { v: number; p: string } | undefined;
  for (const [k, p] of rows) {
    const r = parseActivity(k);
    if (r === 'n/a') continue;
    if (r.value <= a.value && (!best || r.value > best.v)) best = { v: r.value, p };
  }
  return best?.p ?? 'Indeterminate';
}
