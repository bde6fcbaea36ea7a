// Basal insulin titration Recommendation → CDS card: the step, the fasting values and lows that decided it (inputs
// table with their devices), CGM time below range, and the new dose as an update of the order in whole insulin units.
// Wording: cards/insulin-titration.md.
import type { MedicationRequest, Quantity } from 'fhir/r4';
import type { DraftOrder } from '../domain/order.js';
import type { Recommendation } from '../domain/recommendation.js';
import { dispenseRequestFor } from './dispense.js';
import { withSingleDose } from './draft.js';
import { decimal, inputsTable, literal, md, mdJoin, mdLink } from './markdown.js';
import { cardShell, fillTemplate, type RenderContext, type RenderedCard, type TemplateVars } from './render.js';

const UCUM = 'http://unitsofmeasure.org';
const UNIT_WORDS = /^(\[iu\]|iu|u|unit|units|\{unit\}|\{units\})$/i;

/** The order's own unit coding when it wrote the dose in units, else UCUM [IU] (international unit). */
function unitsQuantity(order: DraftOrder, units: number): Quantity & { value: number; unit: string } {
  const q = order.resource.dosageInstruction?.[0]?.doseAndRate?.[0]?.doseQuantity;
  if (q && [q.code, q.unit].some((w) => typeof w === 'string' && UNIT_WORDS.test(w.trim())))
    return { value: units, unit: q.unit ?? 'U', ...(q.system ? { system: q.system } : {}), ...(q.code ? { code: q.code } : {}) };
  return { value: units, unit: 'U', system: UCUM, code: '[IU]' };
}

/**
 * The order with the new dose in whole units: the drafted product is kept (a pen dials any whole-unit dose in its
 * steps; a vial is drawn up in units), the draft's once-daily timing kept, the dispense quantity dropped (the pharmacy
 * recomputes pens or vials for the new daily units) while the days of supply stay.
 */
export function insulinDoseUpdate(order: DraftOrder & { ref: string }, r: Recommendation): { resource: MedicationRequest; description: string } {
  const units = r.proposedDose!.perDose.value;
  const text = `${units} units subcutaneously once daily — ${r.method.name}`;
  const resource = withSingleDose(order.resource, unitsQuantity(order, units), 'keep', text);
  const dispense = dispenseRequestFor(order.resource, undefined, undefined);
  if (dispense) resource.dispenseRequest = dispense;
  else delete resource.dispenseRequest;
  return { resource, description: `Set ${order.ref} to ${units} units once daily`.slice(0, 500) };
}

export function renderInsulinCard(r: Recommendation, order: DraftOrder | undefined, ctx: RenderContext): RenderedCard | undefined {
  const d = r.insulin;
  if (!d || r.kind === 'info') return undefined;
  const kindName = 'insulin-titration';
  const k = ctx.templates.kind(kindName);
  const orderWord = order?.resource.status === 'active' ? 'active' : 'draft';
  const proposed = r.proposedDose?.perDose.value;
  const vars: TemplateVars = {
    headline: r.headline,
    drug: r.drug.name,
    dose: proposed !== undefined ? decimal(proposed, 0) : undefined,
    currentOrderLine: `The ${orderWord} order currently says ${decimal(d.currentUnits, 2)} units once daily.`,
    stepLine: md`**${d.step === 'raise' ? 'Raise' : d.step === 'lower' ? 'Lower' : 'Do not increase'}**: ${literal(d.because, 400)}.${proposed !== undefined ? ` New dose ${proposed} units once daily (whole units, ${d.stepUnits}-unit steps of the pen or syringe).` : ''}`,
    tbrLine: d.tbr
      ? `CGM time below range over ${d.tbr.days} days (${d.tbr.readings} readings): ${decimal(d.tbr.below70, 1)}% below 70 mg/dL (target < ${d.tbr.target70}%), ${decimal(d.tbr.below54, 1)}% below 54 mg/dL (target < ${d.tbr.target54}%).`
      : undefined,
    inputsTable: inputsTable(r),
    notesList: r.notes.length ? mdJoin(r.notes.map((n) => md`- ${literal(n, 400)}`), '\n') : undefined,
    methodName: `${r.method.name} (v${r.method.version})`,
    evidenceList: mdJoin(r.evidence.map((e) => mdLink(literal(e.citation, 400), e.url)), '; '),
  };
  if (proposed !== undefined && order?.ref && k.suggestionLabel) vars['suggestionNote'] = 'The suggestion changes the dose of the order in whole units; the product is kept.';
  const card = cardShell(r, kindName, vars, ctx);
  if (proposed !== undefined && order?.ref && k.suggestionLabel) {
    const u = insulinDoseUpdate({ ...order, ref: order.ref }, r);
    card.suggestions = [{ label: fillTemplate(k.suggestionLabel, vars), uuid: ctx.newId(), isRecommended: true, actions: [{ type: 'update', description: u.description, resource: u.resource }] }];
    card.selectionBehavior = 'at-most-one';
  }
  return { card, recommendationId: r.id };
}
