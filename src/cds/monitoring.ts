// Monitoring (patient-view): which evaluated results call for action, how their cards differ from order-time cards,
// and the facts fingerprint that keeps an overridden card from being repeated while nothing has changed.
import { hash } from 'node:crypto';
import { renderCard, type CardTemplates } from '../cards/render.js';
import { smartLaunchUrl, type AppConfig } from '../config.js';
import type { IntendedOrder } from '../domain/applied.js';
import type { DrugDictionary } from '../domain/drugs.js';
import type { PatientFacts } from '../domain/facts.js';
import type { Recommendation } from '../domain/recommendation.js';
import type { EvaluatorRegistry } from '../dosing/registry.js';
import type { GatherResult } from '../fhir/gather.js';
import type { CardRecord } from '../store/store.js';
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
 * `fingerprint: 'label'`; inputs marked `fingerprint: 'none'` are left out), and the proposed dose. Dates, notes and
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
    .filter((i) => i.fingerprint !== 'none')
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
  // one-shot: the same digest as createHash().update().digest(), without the Hash object (~6 → ~2.5 µs per card)
  return hash('sha256', canonical, 'hex');
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

/**
 * The monitor-mode gathering (patient-view and notifications): the shared keys first, then — for the drugs of the
 * active orders found — the keys their evaluators declare, within what is left of the same deadline.
 */
export async function gatherForActiveOrders(o: {
  gather: (keys: string[], deadlineMs: number) => Promise<GatherResult>;
  keysFor: (ingredients: Set<string>) => string[];
  /** the active orders with an evaluator, from the gathered MedicationRequests */
  ordersOf: (medicationRequests: unknown[]) => DraftOrder[];
  deadlineMs: number;
}): Promise<{ gathered: GatherResult; orders: DraftOrder[]; ordersUnavailable?: string }> {
  let gathered = await o.gather(o.keysFor(new Set()), o.deadlineMs);
  const meds = gathered.byKey['medicationRequests'];
  const orders = meds && meds.status !== 'failed' ? o.ordersOf(meds.resources) : [];
  const more = o.keysFor(new Set(orders.flatMap((x) => x.drugs.map((d) => d.ingredient)))).filter((k) => !(k in gathered.byKey));
  const left = o.deadlineMs - gathered.fhirMs;
  if (more.length > 0 && left > 0) {
    const second = await o.gather(more, left);
    gathered = { byKey: { ...gathered.byKey, ...second.byKey }, fhirCalls: gathered.fhirCalls + second.fhirCalls, fhirMs: gathered.fhirMs + second.fhirMs };
  }
  return { gathered, orders, ...(meds?.status === 'failed' ? { ordersUnavailable: meds.error ?? 'unavailable' } : {}) };
}

/** One result shown (or written back): the recommendation, its order, its card and the card's audit record. */
export interface EvaluatedCard {
  rec: Recommendation;
  order: DraftOrder;
  card: Card;
  record: CardRecord;
}

/**
 * Every order's drugs through their evaluators. In monitor mode only results that call for action are kept, as
 * monitoring cards; each card's record carries its facts fingerprint. Used by every hook and by notifications.
 */
export async function evaluateOrders(o: {
  registry: EvaluatorRegistry;
  facts: PatientFacts;
  orders: DraftOrder[];
  drugs: DrugDictionary;
  config: AppConfig;
  templates: CardTemplates;
  newId: () => string;
  monitor: boolean;
  /** the orders a card's update suggestions intend (never fails) */
  intended: (card: Card) => IntendedOrder[];
}): Promise<{ recommendations: Recommendation[]; shown: EvaluatedCard[] }> {
  const recommendations: Recommendation[] = [];
  const shown: EvaluatedCard[] = [];
  for (const order of o.orders) {
    for (const drug of order.drugs) {
      for (const rec of await o.registry.evaluate({ facts: o.facts, order, drug, drugs: o.drugs, config: o.config, newId: o.newId, mode: o.monitor ? 'monitor' : 'order' })) {
        if (order.currentDose && !rec.draftDose) rec.draftDose = { ...order.currentDose };
        recommendations.push(rec);
        const rendered = renderCard(rec, order, { templates: o.templates, products: o.drugs.products, newId: o.newId, smartLaunchUrl: smartLaunchUrl(o.config) });
        if (!rendered || (o.monitor && !callsForAction(rec, rendered.card))) continue;
        const card = o.monitor ? asMonitoringCard(rendered.card, order) : rendered.card;
        const intendedOrders = o.intended(card);
        shown.push({
          rec,
          order,
          card,
          record: {
            uuid: card.uuid!,
            recommendationId: rec.id,
            suggestionUuids: (card.suggestions ?? []).map((s) => s.uuid!),
            kind: rec.kind,
            indicator: card.indicator,
            genes: [...new Set((rec.genes ?? []).map((g) => g.gene))],
            factsFingerprint: factsFingerprint(rec, order),
            ...(intendedOrders.length ? { intendedOrders } : {}),
          },
        });
      }
    }
  }
  return { recommendations, shown };
}
