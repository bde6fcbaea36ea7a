// CPIC and DPWG side by side for one ordered drug (config pgx.sources: which sources, the first one leads).
// - Each source's matched row is evaluated on its own (src/dosing/pgx/evaluator.ts, dpwg.ts).
// - One guidance recommendation per drug: the leading source's, or the other's when the leading one has no row
//   (a DPWG-only drug gets a DPWG card). It carries every source's row (pgx.sources) for the card and the SMART app.
// - The rows disagree when they ask for different things (avoid/alternative, dose, caution, standard/none): one line
//   says so, and the suggestion follows the leading source. No card when every source says standard/none.
// - Test suggestions come from CPIC (DPWG rows carry no test strength); an uninterpretable result is reported once.
import type { PgxSourceRow, Recommendation } from '../../domain/recommendation.js';

export type PgxSource = 'cpic' | 'dpwg';
export const DEFAULT_PGX_SOURCES: readonly PgxSource[] = ['cpic', 'dpwg'];

const RANK: Record<string, number> = { avoid: 5, alternative: 4, dose: 3, caution: 2, standard: 1, none: 0 };
const ROW_ACTIONS = new Set(['avoid', 'alternative', 'dose', 'caution', 'standard', 'none']);
const GROUP: Record<string, string> = { avoid: 'avoid or choose an alternative', alternative: 'avoid or choose an alternative', dose: 'adjust the dose', caution: 'use with caution', standard: 'no change', none: 'no change' };
const LABEL: Record<PgxSource, 'CPIC' | 'DPWG'> = { cpic: 'CPIC', dpwg: 'DPWG' };

const isRow = (r: Recommendation): boolean => !!r.pgx && ROW_ACTIONS.has(r.pgx.action);

function finding(r: Recommendation): string {
  return (r.genes ?? []).filter((g) => g.result !== 'No result on file' || g.phenotype).map((g) => `${g.gene} ${g.phenotype ?? g.result}`).join(' + ');
}

function sourceRow(r: Recommendation, source: 'CPIC' | 'DPWG', leading: boolean): PgxSourceRow {
  const g = r.guideline!;
  const row: PgxSourceRow = {
    source,
    leading,
    action: r.pgx!.action as PgxSourceRow['action'],
    strength: source === 'CPIC' ? g.classification : 'N/A',
    recommendationText: r.pgx!.recommendationText,
    recommendationId: g.recommendationId,
    guideline: { id: g.id, name: g.name, url: source === 'DPWG' ? (r.evidence[0]?.url ?? g.url) : g.url, version: g.version },
    finding: finding(r),
  };
  const date = /data date (\d{4}-\d{2}-\d{2})/.exec(g.version)?.[1];
  if (date) row.guideline.dataDate = date;
  if (r.doseAdjustment) row.doseFactor = r.doseAdjustment.factor;
  return row;
}

const ACTION_WORDS: Record<string, string> = { avoid: 'avoid', alternative: 'choose an alternative', dose: 'adjust the dose', caution: 'use with caution', standard: 'no action', none: 'no recommendation' };

/** Merge the sources' recommendations for one drug; `bySource` in any order, `order` = config pgx.sources. */
export function combineSources(bySource: Partial<Record<PgxSource, Recommendation[]>>, order: readonly PgxSource[]): Recommendation[] {
  const active = order.filter((s) => bySource[s] !== undefined);
  // sources in configured order; within one source (DPWG has one guideline per gene: clomipramine CYP2C19 and CYP2D6)
  // the row asking the most first, so that the leading row is never a "no action" one while its own source asks more
  const rows = active.flatMap((s) =>
    (bySource[s] ?? [])
      .filter(isRow)
      .sort((a, b) => RANK[b.pgx!.action]! - RANK[a.pgx!.action]! + (b.pgx!.showCard ? 0.5 : 0) - (a.pgx!.showCard ? 0.5 : 0))
      .map((r) => ({ s, r })),
  );
  const out: Recommendation[] = [];
  if (rows.length > 0) {
    const lead = rows[0]!;
    const main = lead.r;
    if (rows.length > 1) {
      main.pgx!.sources = rows.map(({ s, r }) => sourceRow(r, LABEL[s], r === main));
      // sources disagree when their leading rows ask different things (two rows of one source concern different genes)
      const firsts = active.flatMap((s) => rows.filter((x) => x.s === s).slice(0, 1));
      const groups = new Set(firsts.map(({ r }) => GROUP[r.pgx!.action]));
      if (groups.size > 1) {
        main.pgx!.sourceDisagreement = `${firsts.map(({ s, r }) => `${LABEL[s]}: ${ACTION_WORDS[r.pgx!.action]}`).join('; ')} — the sources disagree; the suggestion follows ${LABEL[lead.s]} (configuration pgx.sources).`;
      }
      // a card when any source asks for something (or its results disagree), none when all say no action
      main.pgx!.showCard = rows.some(({ r }) => r.pgx!.showCard);
      for (const { r } of rows.slice(1)) if (r.pgx?.showCard && main.severity === 'info' && r.severity !== 'info') main.severity = r.severity;
    }
    out.push(main);
  }
  // gene-level recommendations: every source's test suggestion and unreadable report, once per gene set
  const seen = new Set<string>();
  for (const s of active) {
    for (const r of (bySource[s] ?? []).filter((x) => !isRow(x))) {
      const key = `${r.pgx?.action}:${(r.genes ?? []).map((g) => g.gene).join('/')}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(r);
    }
  }
  return out;
}
