// The patient's recent recommendations, grouped per order (per drug when a recommendation names no order): in each
// group the latest of each method is marked "latest"; earlier ones are superseded and folded away.
import type { RecommendationSummary } from './api.js';
import { h } from './dom.js';
import { renderBanner, type PatientBanner } from './patient.js';
import { capital } from './text.js';
import { whenText } from './time.js';

export const SEVERITY_TEXT: Record<string, string> = { info: 'Information', warning: 'Warning', critical: 'Critical' };

export interface RecommendationGroup {
  drug: string;
  orderRef?: string;
  /** the newest recommendation of each method, newest first */
  latest: RecommendationSummary[];
  /** the rest, newest first */
  superseded: RecommendationSummary[];
}

const ms = (iso: string) => {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? 0 : t;
};

/** Groups in order of their newest recommendation; within a group, one "latest" per method (a starting dose and its refinement are both current). */
export function groupRecommendations(items: RecommendationSummary[]): RecommendationGroup[] {
  const groups = new Map<string, RecommendationGroup>();
  const sorted = [...items].sort((a, b) => ms(b.createdAt) - ms(a.createdAt));
  for (const i of sorted) {
    const key = `${i.drug.toLowerCase()}\n${i.orderRef ?? ''}`;
    let g = groups.get(key);
    if (!g) {
      g = { drug: i.drug, ...(i.orderRef ? { orderRef: i.orderRef } : {}), latest: [], superseded: [] };
      groups.set(key, g);
    }
    if (g.latest.some((l) => l.method.name === i.method.name)) g.superseded.push(i);
    else g.latest.push(i);
  }
  return [...groups.values()];
}

function item(i: RecommendationSummary, open: (id: string) => void, latest: boolean): HTMLElement {
  const b = h(
    'button',
    { type: 'button', class: 'rec-item', 'data-id': i.id },
    h('span', { class: `badge ${i.severity}` }, SEVERITY_TEXT[i.severity] ?? i.severity),
    latest ? h('span', { class: 'badge latest', 'data-testid': 'latest' }, 'latest') : h('span', { class: 'badge superseded' }, 'superseded'),
    ' ',
    h('strong', {}, capital(i.drug)),
    ' · ',
    h('time', { datetime: i.createdAt, class: 'rec-when' }, whenText(i.createdAt)),
    h('span', { class: 'rec-headline' }, i.headline),
    h('span', { class: 'rec-method muted' }, i.method.name),
  );
  b.addEventListener('click', () => open(i.id));
  return h('li', {}, b);
}

function orderText(ref: string): string {
  const m = /^MedicationRequest\/(.+)$/.exec(ref);
  return m ? `order ${m[1]}` : ref;
}

export function renderList(items: RecommendationSummary[], patient: PatientBanner, open: (id: string) => void): HTMLElement[] {
  const groups = groupRecommendations(items);
  const body = groups.length
    ? h(
        'div',
        { 'data-testid': 'rec-list' },
        ...groups.map((g) =>
          h(
            'section',
            { class: 'rec-group', 'data-testid': 'rec-group', 'aria-label': `${capital(g.drug)}${g.orderRef ? `, ${orderText(g.orderRef)}` : ''}` },
            h('h2', {}, capital(g.drug), g.orderRef ? h('span', { class: 'muted' }, ` · ${orderText(g.orderRef)}`) : undefined),
            h('ul', { class: 'rec-list' }, ...g.latest.map((i) => item(i, open, true))),
            g.superseded.length
              ? h(
                  'details',
                  { class: 'superseded', 'data-testid': 'superseded' },
                  h('summary', {}, `${g.superseded.length} earlier recommendation${g.superseded.length === 1 ? '' : 's'} (superseded)`),
                  h('ul', { class: 'rec-list' }, ...g.superseded.map((i) => item(i, open, false))),
                )
              : undefined,
          ),
        ),
      )
    : h('p', { 'data-testid': 'rec-empty' }, 'No dosing recommendations were made for this patient yet.');
  return [renderBanner(patient), h('section', { 'aria-label': 'Recent recommendations' }, h('h1', {}, 'Recent dosing recommendations'), body)];
}
