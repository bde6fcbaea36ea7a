// "Inputs used": every input with value, unit, date and source, and what the service converted before use
// ("176 lb = 79.8 kg", "Lab reported C/T = A/G on the gene strand").
import type { Recommendation, RecommendationInput } from '../../src/domain/recommendation.js';
import { h } from './dom.js';
import { populationText, unitText } from './text.js';
import { dateTimeText } from './time.js';

type Reported = NonNullable<NonNullable<RecommendationInput['source']>['reported']>;

const STRAND_TEXT = { plus: 'the genomic plus strand', gene: 'the gene strand' } as const;

function numberText(v: number): string {
  return String(Number(v.toPrecision(6)));
}

export function valueText(i: Pick<RecommendationInput, 'value' | 'unit'>): string {
  const v = typeof i.value === 'boolean' ? (i.value ? 'yes' : 'no') : typeof i.value === 'number' ? numberText(i.value) : i.value;
  const u = unitText(i.unit);
  return u ? `${v} ${u}` : v;
}

/**
 * What the source reported and what the service used, when they differ: a unit conversion ("176 lb = 79.8 kg") or a
 * genotype given on the other DNA strand ("Lab reported C/T = A/G on the gene strand"). Undefined when nothing was
 * converted (or the converted value was not used).
 */
export function conversionText(value: RecommendationInput['value'], unit: string | undefined, r: Reported | undefined): string | undefined {
  if (!r || typeof value === 'boolean') return undefined;
  if (r.strand && typeof r.value === 'string' && typeof value === 'string' && /^[ACGT]\/[ACGT]$/.test(value)) {
    const other = r.strand === 'plus' ? 'gene' : 'plus';
    return `Lab reported ${r.value} = ${value} on ${STRAND_TEXT[other]} (the lab wrote ${STRAND_TEXT[r.strand]})`;
  }
  if (typeof r.value === 'number' && typeof value === 'number' && r.unit) {
    return `Converted: ${valueText({ value: r.value, unit: r.unit })} = ${valueText({ value, ...(unit ? { unit } : {}) })}`;
  }
  return undefined;
}

function sourceCell(i: RecommendationInput): HTMLElement {
  const conv = conversionText(i.value, i.unit, i.source?.reported);
  const conversion = conv ? h('div', { class: 'conversion', 'data-testid': 'conversion' }, conv) : undefined;
  if (!i.source) return h('td', { class: 'source' }, i.note ?? '—');
  return h(
    'td',
    { class: 'source' },
    h('code', {}, i.source.reference),
    i.source.via ? h('span', { class: 'muted' }, i.source.via === 'prefetch' ? ' (sent by the EHR)' : i.source.via === 'query' ? ' (read by the service)' : ` (${i.source.via})`) : undefined,
    conversion,
    i.note ? h('div', { class: 'muted' }, i.note) : undefined,
  );
}

export function inputsSection(r: Recommendation, section: (title: string, cls: string, ...children: (Node | string | false | undefined)[]) => HTMLElement): HTMLElement {
  // every input the same way (weights, creatinine, computed CrCl/eGFR with the formula in the note, INR, levels…)
  const rows = r.inputs.map((i) =>
    h(
      'tr',
      { 'data-key': i.key },
      h('th', { scope: 'row' }, i.label),
      // a CPIC population code in the guideline's words (the code stays in the card's data)
      h('td', { class: 'value' }, i.key === 'population' && typeof i.value === 'string' ? populationText(i.value) || 'all patients' : valueText(i)),
      h('td', { class: i.source?.date ? 'date' : 'date none' }, dateTimeText(i.source?.date)),
      sourceCell(i),
    ),
  );
  return section(
    'Inputs used',
    'inputs-section',
    h('table', { class: 'inputs', 'data-testid': 'inputs' }, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Input'), h('th', { scope: 'col' }, 'Value'), h('th', { scope: 'col' }, 'Date'), h('th', { scope: 'col' }, 'Source'))), h('tbody', {}, ...rows)),
    r.missing.length ? h('div', { class: 'missing', 'data-testid': 'missing' }, h('h3', {}, 'Missing'), h('ul', {}, ...r.missing.map((m) => h('li', {}, m)))) : h('p', { class: 'muted' }, 'Nothing the method needs was missing.'),
  );
}
