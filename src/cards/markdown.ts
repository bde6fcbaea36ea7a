// Markdown helpers shared by the card renderers: safe table cells and the inputs table with sources.
import type { Recommendation, RecommendationInput } from '../domain/recommendation.js';

/** Markdown-safe table cell / inline text: no pipes or line breaks from data, whitespace collapsed, bounded length. */
export function cell(v: unknown, max = 300): string {
  return String(v).replace(/[|\r\n]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

/** Where an input came from: FHIR reference, date and note, or the note alone. */
export function sourceText(i: RecommendationInput): string {
  if (i.source) return cell(`${i.source.reference}${i.source.date ? `, ${i.source.date.slice(0, 10)}` : ''}${i.note ? ` (${i.note})` : ''}`);
  return cell(i.note ?? '—');
}

/** Rows "| label | value unit | source |" for every input of a recommendation. */
export function inputsTable(r: Recommendation): string {
  return r.inputs.map((i) => `| ${cell(i.label)} | ${cell(`${i.value}${i.unit === 'a' ? ' years' : i.unit ? ` ${i.unit}` : ''}`)} | ${sourceText(i)} |`).join('\n');
}
