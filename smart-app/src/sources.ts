// Guideline sources of a pharmacogenomic recommendation (CPIC, DPWG): the leading source's label and strength, the
// recommendation text as plain text (CPIC's "OTHER CONSIDERATIONS", DPWG's "- " list items as a list), and — when
// more than one source has a row (pgx.sources) — every source's row with the disagreement line first.
import type { PgxSourceRow, Recommendation } from '../../src/domain/recommendation.js';
import { h } from './dom.js';
import { dateText } from './time.js';

type Source = PgxSourceRow['source'];

/** The source the record's recommendation follows: `pgx.source` (absent = CPIC). */
export function leadingSource(r: Recommendation): Source {
  return r.pgx?.source ?? 'CPIC';
}

/** CPIC's classification as published; DPWG does not grade its recommendations (its rows say "N/A"). */
export function strengthText(source: Source, strength: string): string {
  return source === 'DPWG' ? 'not graded' : gradeText(strength);
}

/** An evidence strength as shown: DPWG's "N/A" (no grade) as "not graded". */
export function gradeText(strength: string): string {
  return strength === 'N/A' ? 'not graded' : strength;
}

const clean = (t: string) => t.replace(/\\n/g, '\n').replace(/[ \t]+/g, ' ').trim();

/**
 * A recommendation text as plain text (textContent only): CPIC's main text and its "Other considerations"; DPWG's
 * lines as paragraphs, with consecutive "- " lines as one list.
 */
export function recommendationText(text: string, source: Source): HTMLElement[] {
  if (source === 'CPIC') {
    const [main, ...other] = text.split(/OTHER CONSIDERATIONS:?/);
    const one = (t: string) => clean(t).replace(/\s+/g, ' ');
    const rest = one(other.join(' '));
    return [
      ...(one(main ?? '') ? [h('p', { class: 'rec-text' }, one(main ?? ''))] : []),
      ...(rest ? [h('p', { class: 'rec-text' }, h('em', {}, 'Other considerations: '), rest)] : []),
    ];
  }
  const out: HTMLElement[] = [];
  let list: HTMLElement | undefined;
  for (const line of clean(text).split('\n').map((l) => l.trim()).filter(Boolean)) {
    const item = /^- +(.*)$/.exec(line);
    if (item) {
      if (!list) {
        list = h('ul', { class: 'guideline-items' });
        out.push(list);
      }
      list.append(h('li', {}, item[1]!));
    } else {
      list = undefined;
      out.push(h('p', { class: 'rec-text' }, line));
    }
  }
  return out;
}

/** "name (version) · data date … · guideline" with the link. */
function guidelineLine(row: PgxSourceRow): HTMLElement {
  const g = row.guideline;
  return h(
    'p',
    { class: 'muted source-guideline' },
    `${g.name} (${g.version})`,
    // the data date, unless the version already names it (DPWG: "… via PharmCAT, data date 2024-03-25")
    g.dataDate && !g.version.includes(g.dataDate) ? ` · data date ${dateText(g.dataDate)}` : '',
    row.recommendationId && row.recommendationId !== 'none' ? ` · row ${row.recommendationId}` : '',
    ' · ',
    h('a', { href: g.url, target: '_blank', rel: 'noopener noreferrer' }, 'guideline'),
  );
}

function sourceRow(row: PgxSourceRow): HTMLElement {
  return h(
    'li',
    { class: `source-row${row.leading ? ' leads' : ''}`, 'data-testid': 'source-row', 'data-source': row.source, 'data-leading': String(row.leading) },
    h(
      'p',
      { class: 'source-head' },
      h('strong', { 'data-testid': 'source-name' }, row.source),
      ': ',
      h('span', { 'data-testid': 'source-strength' }, strengthText(row.source, row.strength)),
      row.leading ? ' ' : undefined,
      row.leading ? h('span', { class: 'badge leads', 'data-testid': 'leads', title: 'the suggestion follows this source (configuration pgx.sources)' }, 'leads') : undefined,
      row.finding ? h('span', { class: 'muted', 'data-testid': 'source-finding' }, ` · ${row.finding}`) : undefined,
    ),
    h('div', { 'data-testid': 'source-text' }, ...recommendationText(row.recommendationText, row.source)),
    guidelineLine(row),
  );
}

/** Every source's row and, when they ask different things, the disagreement line; undefined with one source. */
export function sourcesBlock(r: Recommendation): HTMLElement | undefined {
  const rows = r.pgx?.sources ?? [];
  if (rows.length < 2) return undefined;
  return h(
    'div',
    { class: 'sources', 'data-testid': 'sources' },
    r.pgx?.sourceDisagreement
      ? h('p', { class: 'source-disagreement', role: 'note', 'data-testid': 'source-disagreement' }, h('strong', {}, 'Guideline sources disagree. '), r.pgx.sourceDisagreement)
      : undefined,
    h('ol', { class: 'source-rows' }, ...rows.map(sourceRow)),
  );
}

/** DPWG's attribution: its texts refer to Dutch practice (../shared/data/dpwg/README.md). */
export function dpwgNote(r: Recommendation): HTMLElement | undefined {
  const dpwg = leadingSource(r) === 'DPWG' || (r.pgx?.sources ?? []).some((x) => x.source === 'DPWG');
  return dpwg ? h('p', { class: 'muted', 'data-testid': 'dpwg-note' }, 'DPWG (Dutch Pharmacogenetics Working Group, KNMP) texts refer to Dutch practice and need clinical review.') : undefined;
}
