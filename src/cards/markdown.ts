// Markdown helpers shared by the card renderers: safe table cells, numbers, and the inputs table with sources.
import type { Recommendation, RecommendationInput } from '../domain/recommendation.js';

/** Anything cell() would change besides the length: a pipe, whitespace other than one inner space. */
const NEEDS_CLEANING = /\||[^\S ]| {2}|^ | $/;

/** Markdown-safe table cell / inline text: no pipes or line breaks from data, whitespace collapsed, bounded length. */
export function cell(v: unknown, max = 300): string {
  const s = typeof v === 'string' ? v : String(v);
  // most cells are already clean: one regex test instead of two replaces and a trim
  if (!NEEDS_CLEANING.test(s)) return s.length > max ? s.slice(0, max) : s;
  return s.replace(/[|\r\n]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

/**
 * Text from a laboratory or an EHR shown inside Markdown: every character Markdown gives a meaning to is escaped, so
 * that an allele name such as "c.1905+1G>A (*2A)" or "CYP2C9*2" survives any renderer, and no link or image can be
 * made from data (inline text: line-start markers need no escape). Also cell()-cleaned (one line, no pipes).
 */
export function literal(v: unknown, max = 300): string {
  return cell(v, max).replace(/[\\`*_[\]<>~]/g, (c) => `\\${c}`);
}

/**
 * `v` rounded to `digits` decimals, without trailing zeros: the same text as Number(v.toFixed(digits)).toString(),
 * without the parse and re-print (and without toFixed when v has no more decimals than asked for).
 */
export function decimal(v: number, digits: number): string {
  const s = String(v);
  // below 1e9, not in exponent notation and with at most 6 decimals, the rounded text has at most 15 significant
  // digits: exactly what the round trip through Number would print
  if (Math.abs(v) < 1e9 && digits <= 6 && !s.includes('e')) {
    const dot = s.indexOf('.');
    if (dot === -1 || s.length - dot - 1 <= digits) return s;
    const f = v.toFixed(digits);
    let end = f.length;
    if (digits > 0) {
      while (f.charCodeAt(end - 1) === 48 /* 0 */) end--;
      if (f.charCodeAt(end - 1) === 46 /* . */) end--;
    }
    const r = end === f.length ? f : f.slice(0, end);
    return r === '-0' ? '0' : r;
  }
  return Number(v.toFixed(digits)).toString();
}

/** Where an input came from: FHIR reference, date and note, or the note alone. */
export function sourceText(i: RecommendationInput): string {
  if (i.source) return cell(`${i.source.reference}${i.source.date ? `, ${i.source.date.slice(0, 10)}` : ''}${i.note ? ` (${i.note})` : ''}`);
  return cell(i.note ?? '—');
}

/** Rows "| label | value unit | source |" for every input of a recommendation. */
export function inputsTable(r: Recommendation): string {
  let out = '';
  for (const i of r.inputs) {
    const value = `${i.value}${i.unit === 'a' ? ' years' : i.unit ? ` ${i.unit}` : ''}`;
    out += `${out ? '\n' : ''}| ${cell(i.label)} | ${cell(value)} | ${sourceText(i)} |`;
  }
  return out;
}
