// The phenoconversion table (knowledge/phenoconversion.json, hand-curated and versioned): loaded and checked once.
// A table that breaks a rule is refused at start-up with the row and the rule named, never used half-read.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PERPETRATOR_STRENGTHS, PHENO_ENZYMES, type PhenoconversionRow, type PhenoconversionTable } from '../domain/phenoconversion.js';

export const PHENOCONVERSION_FILE = 'knowledge/phenoconversion.json';

/** Genes with a CPIC activity score among the phenoconversion enzymes (an activity factor needs one). */
const ACTIVITY_ENZYMES: ReadonlySet<string> = new Set(['CYP2D6', 'CYP2C9']);

/**
 * A table version: the curation date (YYYY-MM-DD, a real calendar date), or a later revision the same day
 * (YYYY-MM-DD.N, N = 2, 3, …: the first edition of a day has no suffix, so ".1" and leading zeros are refused). An
 * audit record that names the version then tells which rows applied.
 */
export function isTableVersion(v: unknown): v is string {
  const m = typeof v === 'string' ? /^(\d{4})-(\d{2})-(\d{2})(?:\.([1-9]\d*))?$/.exec(v) : null;
  if (!m) return false;
  const [, y, mo, d, n] = m;
  const date = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  if (date.getUTCFullYear() !== Number(y) || date.getUTCMonth() !== Number(mo) - 1 || date.getUTCDate() !== Number(d)) return false;
  return n === undefined || Number(n) >= 2;
}

/** The rule broken by one row, or undefined. */
function rowProblem(r: PhenoconversionRow, sourceIds: ReadonlySet<string>): string | undefined {
  if (!(PHENO_ENZYMES as readonly string[]).includes(r.enzyme)) return `unknown enzyme "${String(r.enzyme)}"`;
  if (!(PERPETRATOR_STRENGTHS as readonly string[]).includes(r.strength)) return `unknown strength "${String(r.strength)}"`;
  if (typeof r.drug !== 'string' || !/^[a-z][a-z -]*$/.test(r.drug)) return 'drug must be a lower-case ingredient name';
  if (r.rxcui !== undefined && (typeof r.rxcui !== 'string' || !/^\d+$/.test(r.rxcui))) return 'rxcui must be an RxNorm ingredient CUI';
  if (!Array.isArray(r.synonyms) || !r.synonyms.includes(r.drug) || r.synonyms.some((s) => typeof s !== 'string' || s !== s.toLowerCase())) return 'synonyms must be lower case and include the drug name';
  if (typeof r.effectReason !== 'string' || !r.effectReason.trim()) return 'effectReason is required';
  if (!Array.isArray(r.sources) || r.sources.length === 0) return 'at least one source is required';
  const unknown = r.sources.find((s) => !sourceIds.has(s));
  if (unknown) return `unknown source "${unknown}"`;
  const e = r.effect;
  if (!e || typeof e !== 'object') return 'effect is required';
  if (e.kind === 'activity-factor') {
    if (!ACTIVITY_ENZYMES.has(r.enzyme)) return `${r.enzyme} has no activity score: an activity factor cannot apply`;
    if (typeof e.factor !== 'number' || !(e.factor >= 0 && e.factor < 1)) return 'an activity factor must be at least 0 and below 1';
    if (r.strength === 'inducer') return 'an inducer cannot lower the activity score';
    if (r.strength === 'strong' && e.factor !== 0) return 'a strong inhibitor sets the activity score to 0';
  } else if (e.kind === 'poor-metabolizer') {
    if (r.strength !== 'strong') return 'only a strong inhibitor makes a Poor Metabolizer';
    if (ACTIVITY_ENZYMES.has(r.enzyme)) return `${r.enzyme} has an activity score: use an activity factor of 0`;
  } else if (e.kind !== 'caution') return `unknown effect "${String((e as { kind?: unknown }).kind)}"`;
  return undefined;
}

/** Check a parsed table; throws with every problem found. */
export function validatePhenoconversion(t: PhenoconversionTable, file = PHENOCONVERSION_FILE): PhenoconversionTable {
  const problems: string[] = [];
  if (!isTableVersion(t.version)) problems.push('version must be a date (YYYY-MM-DD) or a same-day revision (YYYY-MM-DD.N, N from 2)');
  if (!Array.isArray(t.sources) || t.sources.length === 0) problems.push('sources must be a non-empty list');
  const ids = new Set<string>();
  for (const s of Array.isArray(t.sources) ? t.sources : []) {
    if (!s.id || ids.has(s.id)) problems.push(`source "${s.id}": missing or repeated id`);
    ids.add(s.id);
    if (typeof s.citation !== 'string' || !s.citation) problems.push(`source "${s.id}": citation is required`);
    if (typeof s.url !== 'string' || !/^https:\/\/[^\s]+$/.test(s.url)) problems.push(`source "${s.id}": url must be an https URL`);
  }
  const seen = new Set<string>();
  for (const [i, r] of (Array.isArray(t.rows) ? t.rows : []).entries()) {
    const p = rowProblem(r, ids);
    if (p) problems.push(`row ${i} (${r.enzyme} ${r.drug}): ${p}`);
    const key = `${r.enzyme}:${r.drug}`;
    if (seen.has(key)) problems.push(`row ${i}: ${key} is listed twice`);
    seen.add(key);
  }
  if (!Array.isArray(t.rows) || t.rows.length === 0) problems.push('rows must be a non-empty list');
  if (problems.length) throw new Error(`${file}: ${problems.join('; ')}`);
  return t;
}

export function loadPhenoconversion(file = path.resolve(process.cwd(), PHENOCONVERSION_FILE)): PhenoconversionTable {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as PhenoconversionTable;
  return validatePhenoconversion({ version: raw.version, sources: raw.sources, rows: raw.rows }, file);
}

let cached: PhenoconversionTable | undefined;
export function defaultPhenoconversion(): PhenoconversionTable {
  cached ??= loadPhenoconversion();
  return cached;
}
