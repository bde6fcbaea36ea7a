// Monitoring (patient-view): which evaluated results call for action, how their cards differ from order-time cards,
// and the facts fingerprint that keeps an overridden card from being repeated while nothing has changed.
import { createHash } from 'node:crypto';
import type { Recommendation } from '../domain/recommendation.js';
import type { DraftOrder } from './orders.js';
import type { Card } from './protocol.js';
import { md } from '../cards/markdown.js';

/** Kinds that never interrupt on chart opening: nothing to act on (info), or a request for data or a test. */
const NOT_ACTIONABLE_ON_MONITORING = new Set<Recommendation['kind']>(['info', 'missing-data', 'test-suggested']);

/** A monitoring card is shown only when an active order calls for action: a warning or critical, actionable result. */
export function callsForAction(rec: Recommendation, card: Card): boolean {
  if (!(card.indicator === 'warning' || card.indicator === 'critical')) return false;
  // a pharmacogenomic result on file that cannot be read is a warning to act on (review it), not missing data to record
  if (rec.pgx?.action === 'unreadable') return true;
  return !NOT_ACTIONABLE_ON_MONITORING.has(rec.kind);
}

/**
 * What a recommendation was computed from, as a stable hash: the drug, the kind and severity of the result, the order
 * (id and current dose), each input's key, value, unit and source reference (or only its label, for inputs marked
 * `fingerprint: 'label'`), and the proposed dose. Dates, notes and
 * wording are left out, so the same facts give the same fingerprint on every chart opening; a new creatinine result,
 * a changed order or a new genotype gives a new one.
 */
export function factsFingerprint(rec: Recommendation, order: DraftOrder | undefined): string {
  // The canonical form is the JSON of { v, drug, kind, severity, method, order, currentDose, inputs, genes, proposed },
  // built in three pieces so each input is serialised once (inputs are sorted by their serialisation: the order they
  // are listed in does not matter). Stored fingerprints must not change between versions (test/unit/monitoring.test.ts).
  const head = JSON.stringify({
    v: 1,
    drug: rec.drug.name.toLowerCase(),
    kind: rec.kind,
    severity: rec.severity,
    method: rec.method.id,
    order: order?.ref ?? null,
    currentDose: order?.currentDose ? [order.currentDose.value, order.currentDose.unit, order.currentDose.frequencyPerDay ?? null] : null,
  });
  const inputs = rec.inputs
    .map((i) =>
      JSON.stringify(
        i.fingerprint === 'label'
          ? [i.key, i.label, null, null]
          : [i.key, typeof i.value === 'number' ? Number(i.value.toPrecision(6)) : i.value, i.unit ?? null, i.source?.reference ?? null],
      ),
    )
    .sort();
  const tail = JSON.stringify({
    genes: (rec.genes ?? []).map((g) => [g.gene, g.result, g.source?.reference ?? null]).sort(),
    proposed: rec.proposedDose ? [rec.proposedDose.perDose.value, rec.proposedDose.perDose.unit, rec.proposedDose.timing.frequency, rec.proposedDose.timing.period, rec.proposedDose.timing.periodUnit] : null,
  });
  const canonical = `${head.slice(0, -1)},"inputs":[${inputs.join(',')}],${tail.slice(1)}`;
  return createHash('sha256').update(canonical).digest('hex');
}

/** Order-time wording that does not fit an active order; each replaced or removed in monitoring cards. */
const WORDING: [RegExp, string][] = [
  [/ ?The suggestion changes only [^.;]*(?:; order a loading dose separately)?\./g, ''],
  [/\bthe draft order\b/g, 'the active order'],
  [/\bThe draft order\b/g, 'The active order'],
  [/\bDraft order\b/g, 'Active order'],
  [/\bthe draft\b/g, 'the active'],
];

/**
 * The card for an active order on chart opening: the same content, no inline suggestions (an active order is changed
 * through the EHR's own ordering workflow, where order-select / order-sign offer the inline change), wording for an
 * active order, and a line saying which order was checked and why the card is shown.
 */
export function asMonitoringCard(card: Card, order: DraftOrder | undefined): Card {
  const out: Card = { ...card };
  delete out.suggestions;
  delete out.selectionBehavior;
  let detail = card.detail ?? '';
  for (const [re, to] of WORDING) detail = detail.replace(re, to);
  // the order reference is data: escaped like every other piece of data in a card's Markdown
  const which = order?.ref ? md`active order ${order.ref}`.text : 'an active order';
  out.detail = `${detail.trimEnd()}\n\n_Checked when the chart was opened (${which}). To change the order, use the EHR's ordering workflow; the change is checked again when it is signed. If you override this card, it is not shown again until the facts behind it change._`;
  return out;
}
