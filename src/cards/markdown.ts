// Markdown helpers shared by the card renderers: safe table cells, numbers, and the inputs table with sources.
import type { Recommendation, RecommendationInput } from '../domain/recommendation.js';
import { deviceNote } from '../fhir/devices.js';

/** Anything cell() would change besides the length: a pipe, whitespace other than one inner space. */
const NEEDS_CLEANING = /\||[^\S ]| {2}|^ | $/;
const NEEDS_CLEANING_KEEP_PIPES = /[^\S ]| {2}|^ | $/;

/**
 * One line of plain text (summary, suggestion label, or before escaping): no line breaks, whitespace collapsed,
 * bounded length; pipes become spaces unless `keepPipes` (escapeMarkdown escapes them instead, so they stay visible).
 */
export function cell(v: unknown, max = 300, keepPipes = false): string {
  const s = typeof v === 'string' ? v : String(v);
  // most cells are already clean: one regex test instead of two replaces and a trim
  if (!(keepPipes ? NEEDS_CLEANING_KEEP_PIPES : NEEDS_CLEANING).test(s)) return s.length > max ? s.slice(0, max) : s;
  return s.replace(keepPipes ? /[\r\n]+/g : /[|\r\n]+/g, ' ').replace(/\s+/g, ' ').trim().slice(0, max);
}

/**
 * Markdown the service wrote itself: its own template text, with every piece of data in it escaped by
 * escapeMarkdown(). Only values of this class reach a card's `detail` unescaped (fillTemplate, md``).
 */
export class Markdown {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** Characters with an inline meaning in CommonMark/GFM: emphasis, code, links, images, HTML, strikethrough, tables. */
const INLINE_SPECIAL = /[\\`*_[\]<>~|]|&(?=#?[0-9A-Za-z]+;)/g;
/** A block marker at the start of a line: heading, quote, list item, setext underline, thematic break. */
const BLOCK_START = /^( ?)([#+=-])/;
const ORDERED_START = /^( ?\d{1,9})([.)])(?=\s|$)/;
/**
 * Anything escapeMarkdown would change: a character INLINE_SPECIAL escapes (or any "&"), whitespace other than one
 * space, a line start BLOCK_START matches, and ORDERED_START itself.
 */
const NEEDS_ESCAPING = /[\\`*_[\]<>~|&]|[^\S ]| {2}|^ ?[#+=-]|^ ?\d{1,9}[.)](?=\s|$)/;

/**
 * THE escaping function for text that is not the service's own template (guideline text, drug and product names,
 * resource ids, lab text, allele names, reasons): one line (line breaks and runs of whitespace become one space),
 * every character CommonMark or GFM gives a meaning to backslash-escaped, so that "CYP2C9*2 … CYP2C8*3" or
 * "c.1905+1G>A (*2A)" renders as written under any renderer and no emphasis, link, image, HTML or table cell can be
 * made from data. A backslash before ASCII punctuation is the CommonMark escape (spec §2.4): it renders as the
 * character itself.
 */
export function escapeMarkdown(v: unknown): string {
  const raw = typeof v === 'string' ? v : String(v);
  // most values (numbers, units, names, ids) need nothing: one test instead of four replaces
  if (!NEEDS_ESCAPING.test(raw)) return raw;
  // one line; an edge space is kept (template fragments such as " yet" are passed as values), data is trimmed by literal()
  const s = raw.replace(/\s+/g, ' ');
  const inline = s.replace(INLINE_SPECIAL, (c) => `\\${c}`);
  // "1. x", "# x", "- x" at the start of a template line would become a list or heading: escape the marker
  return inline.replace(BLOCK_START, '$1\\$2').replace(ORDERED_START, '$1\\$2');
}

/** Data text as Markdown: whitespace collapsed, cut at `max` characters (before escaping), escaped. */
export function literal(v: unknown, max = 300): Markdown {
  return new Markdown(escapeMarkdown(cell(v, max, true)));
}

/** A value for md`` / fillTemplate: Markdown passes as it is, anything else is data and is escaped. */
export type MdValue = Markdown | string | number | undefined | null;

/** Tagged template: the literal parts are the service's Markdown, every `${value}` is escaped unless it is Markdown. */
export function md(strings: TemplateStringsArray, ...values: MdValue[]): Markdown {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += mdText(values[i]) + strings[i + 1]!;
  return new Markdown(out);
}

/** The Markdown text of a value: Markdown as it is, data escaped, nothing for undefined/null. */
export function mdText(v: MdValue): string {
  if (v === undefined || v === null) return '';
  return v instanceof Markdown ? v.text : escapeMarkdown(v);
}

/** Join values (each escaped unless Markdown) with a Markdown separator. */
export function mdJoin(values: readonly MdValue[], sep: string): Markdown {
  return new Markdown(values.map(mdText).join(sep));
}

/** A link destination for [text](url): http(s) only (anything else gives no link), characters that end it percent-encoded. */
export function mdUrl(url: string | undefined): Markdown | undefined {
  if (!url || !/^https?:\/\//i.test(url)) return undefined;
  return new Markdown(url.replace(/[\s()<>\\`]/g, (c) => (c.charCodeAt(0) < 128 ? `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}` : encodeURIComponent(c))));
}

/** "[citation](url)" when the url is http(s), else the citation alone; the citation is data. */
export function mdLink(text: MdValue, url: string | undefined): Markdown {
  const u = mdUrl(url);
  return u ? md`[${text}](${u})` : new Markdown(mdText(text));
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

/** Where an input came from: FHIR reference, date and note, or the note alone (all data, escaped). */
export function sourceText(i: RecommendationInput): Markdown {
  if (i.source) {
    // a value from a home or wearable device says so on every card, whether or not the evaluator noted it (a weight
    // from a connected scale, an INR from a home meter): never mistaken for a laboratory value
    const d = i.source.device;
    const device = d && !(i.note ?? '').includes(d.label) ? deviceNote(i.source) : undefined;
    const note = [i.note, device].filter(Boolean).join('; ');
    return literal(`${i.source.reference}${i.source.date ? `, ${i.source.date.slice(0, 10)}` : ''}${note ? ` (${note})` : ''}`);
  }
  return literal(i.note ?? '—');
}

/** Rows "| label | value unit | source |" for every input of a recommendation; every cell escaped. */
export function inputsTable(r: Recommendation): Markdown {
  let out = '';
  for (const i of r.inputs) {
    const value = `${i.value}${i.unit === 'a' ? ' years' : i.unit ? ` ${i.unit}` : ''}`;
    out += `${out ? '\n' : ''}| ${literal(i.label).text} | ${literal(value).text} | ${sourceText(i).text} |`;
  }
  return new Markdown(out);
}
