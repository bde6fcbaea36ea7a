// Feedback analytics: acceptance and override rates by drug, gene, card kind, indicator and service, override reasons,
// and whether accepted update suggestions were applied (seen on the next hook call for the same order: applied.ts).
import type { ReportRow, Store } from './store.js';

export interface RateRow {
  dimension: 'total' | 'drug' | 'gene' | 'kind' | 'indicator' | 'service';
  value: string;
  /** cards returned */
  cards: number;
  /** cards with at least one feedback item (the latest one counts) */
  withFeedback: number;
  accepted: number;
  overridden: number;
  /** accepted / withFeedback (null when no feedback) */
  acceptanceRate: number | null;
  /** overridden / withFeedback (null when no feedback) */
  overrideRate: number | null;
  /** accepted, and the next hook call for the same order showed the suggested order */
  applied: number;
  /** accepted, and the next hook call for the same order showed something else (e.g. the old draft) */
  notApplied: number;
  /** accepted, and no later hook call for that order yet */
  notSeenAgain: number;
  /** applied / (applied + notApplied) (null when neither) */
  appliedRate: number | null;
}

export interface OverrideReasonRow {
  code: string;
  display: string;
  count: number;
  /** count / all overridden cards */
  share: number;
}

export interface AnalyticsReport {
  since: string | null;
  generatedAt: string;
  total: RateRow;
  byDrug: RateRow[];
  byGene: RateRow[];
  byKind: RateRow[];
  byIndicator: RateRow[];
  byService: RateRow[];
  overrideReasons: OverrideReasonRow[];
  /** feedback items whose card is not in the audit trail */
  unknownCardFeedback: number;
}

const NONE = '(none)';

function rate(n: number, d: number): number | null {
  return d === 0 ? null : Math.round((n / d) * 10000) / 10000;
}

const EMPTY = { cards: 0, withFeedback: 0, accepted: 0, overridden: 0, applied: 0, notApplied: 0, notSeenAgain: 0 };

function group(rows: ReportRow[], dimension: RateRow['dimension'], keys: (r: ReportRow) => string[]): RateRow[] {
  const acc = new Map<string, typeof EMPTY>();
  for (const r of rows) {
    for (const k of keys(r)) {
      const a = acc.get(k) ?? { ...EMPTY };
      a.cards++;
      if (r.outcome) a.withFeedback++;
      if (r.outcome === 'accepted') a.accepted++;
      if (r.outcome === 'overridden') a.overridden++;
      if (r.outcome === 'accepted' && r.applied === 'applied') a.applied++;
      if (r.outcome === 'accepted' && r.applied === 'not-applied') a.notApplied++;
      if (r.outcome === 'accepted' && r.applied === 'not-seen-again') a.notSeenAgain++;
      acc.set(k, a);
    }
  }
  return [...acc.entries()]
    .map(([value, a]) => rateRow(dimension, value, a))
    .sort((x, y) => y.cards - x.cards || x.value.localeCompare(y.value));
}

function rateRow(dimension: RateRow['dimension'], value: string, a: typeof EMPTY): RateRow {
  const { cards, withFeedback, accepted, overridden, applied, notApplied, notSeenAgain } = a;
  return {
    dimension, value, cards, withFeedback, accepted, overridden,
    acceptanceRate: rate(accepted, withFeedback), overrideRate: rate(overridden, withFeedback),
    applied, notApplied, notSeenAgain, appliedRate: rate(applied, applied + notApplied),
  };
}

/** Pure: the report from card rows (each with its latest feedback). */
export function buildReport(rows: ReportRow[], opts: { since?: Date; unknownCardFeedback?: number; now?: Date } = {}): AnalyticsReport {
  const overridden = rows.filter((r) => r.outcome === 'overridden');
  const reasons = new Map<string, OverrideReasonRow>();
  for (const r of overridden) {
    const code = r.overrideCode ?? NONE;
    const key = `${code}\u0000${r.overrideDisplay ?? ''}`;
    const row = reasons.get(key) ?? { code, display: r.overrideDisplay ?? (r.overrideCode ? '' : 'no reason given'), count: 0, share: 0 };
    row.count++;
    reasons.set(key, row);
  }
  const overrideReasons = [...reasons.values()]
    .map((r) => ({ ...r, share: rate(r.count, overridden.length) ?? 0 }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
  return {
    since: opts.since ? opts.since.toISOString() : null,
    generatedAt: (opts.now ?? new Date()).toISOString(),
    total: group(rows, 'total', () => ['all'])[0] ?? rateRow('total', 'all', EMPTY),
    byDrug: group(rows, 'drug', (r) => [r.drug || NONE]),
    byGene: group(rows, 'gene', (r) => (r.genes.length ? [...new Set(r.genes)] : [NONE])),
    byKind: group(rows, 'kind', (r) => [r.kind || NONE]),
    byIndicator: group(rows, 'indicator', (r) => [r.indicator || NONE]),
    byService: group(rows, 'service', (r) => [r.serviceId]),
    overrideReasons,
    unknownCardFeedback: opts.unknownCardFeedback ?? 0,
  };
}

export async function reportFromStore(store: Store, since?: Date): Promise<AnalyticsReport> {
  const [rows, unknown] = await Promise.all([store.reportRows(since), store.unknownCardFeedback(since)]);
  return buildReport(rows, { ...(since ? { since } : {}), unknownCardFeedback: unknown });
}

function pct(v: number | null): string {
  return v === null ? '—' : `${(v * 100).toFixed(1)}%`;
}

function rateRows(r: AnalyticsReport): RateRow[] {
  return [r.total, ...r.byDrug, ...r.byGene, ...r.byKind, ...r.byIndicator, ...r.byService];
}

/** Plain-text tables for the terminal. */
export function formatReportTable(r: AnalyticsReport): string {
  const header = ['dimension', 'value', 'cards', 'feedback', 'accepted', 'overridden', 'acceptance', 'override', 'applied', 'not applied', 'not seen', 'applied rate'];
  const body = rateRows(r).map((x) => [
    x.dimension, x.value, String(x.cards), String(x.withFeedback), String(x.accepted), String(x.overridden), pct(x.acceptanceRate), pct(x.overrideRate),
    String(x.applied), String(x.notApplied), String(x.notSeenAgain), pct(x.appliedRate),
  ]);
  const reasonsHeader = ['override reason', 'code', 'count', 'share'];
  const reasons = r.overrideReasons.map((x) => [x.display, x.code, String(x.count), pct(x.share)]);
  const lines = [
    `Feedback report${r.since ? ` since ${r.since}` : ' (all records)'} — generated ${r.generatedAt}`,
    '',
    ...table(header, body, [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]),
    '',
    'applied = accepted and applied; not applied = accepted, not applied; not seen = accepted, not seen again (no later hook call',
    'for that order yet); applied rate = applied / (applied + not applied). Measured on the next hook call for the same order.',
    '',
    ...(reasons.length ? table(reasonsHeader, reasons, [2, 3]) : ['No overrides.']),
    '',
    `Feedback for cards not in the audit trail: ${r.unknownCardFeedback}`,
  ];
  return lines.join('\n') + '\n';
}

function table(header: string[], rows: string[][], rightAligned: number[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]) => cells.map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

function csvCell(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * One CSV: rate rows, then override reasons (dimension "override_reason", value = code, count in "overridden"). The
 * applied columns come last, so tools reading the first nine columns by position keep working.
 */
export function formatReportCsv(r: AnalyticsReport): string {
  const header = ['dimension', 'value', 'label', 'cards', 'with_feedback', 'accepted', 'overridden', 'acceptance_rate', 'override_rate'];
  const lines = [[...header, 'accepted_applied', 'accepted_not_applied', 'accepted_not_seen_again', 'applied_rate'].join(',')];
  const blank = ['', '', '', ''];
  for (const x of rateRows(r)) {
    lines.push([x.dimension, x.value, '', x.cards, x.withFeedback, x.accepted, x.overridden, x.acceptanceRate, x.overrideRate, x.applied, x.notApplied, x.notSeenAgain, x.appliedRate].map(csvCell).join(','));
  }
  for (const x of r.overrideReasons) lines.push(['override_reason', x.code, x.display, '', '', '', x.count, '', x.share, ...blank].map(csvCell).join(','));
  lines.push(['unknown_card_feedback', '', '', '', r.unknownCardFeedback, '', '', '', '', ...blank].map(csvCell).join(','));
  return lines.join('\n') + '\n';
}
