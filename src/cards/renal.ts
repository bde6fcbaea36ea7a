// Renal dose-band Recommendation → CDS card: the kidney measure with its formula and inputs, the label band, and the
// change (an update to the label's single dose, or removing a contraindicated draft). Wording: cards/renal-*.md.
import type { Suggestion } from '../cds/protocol.js';
import type { DraftOrder } from '../domain/order.js';
import type { Recommendation } from '../domain/recommendation.js';
import { decimal, inputsTable, literal, md, mdJoin } from './markdown.js';
import { ProductTable } from '../domain/products.js';
import { proposedDoseUpdate } from './doseUpdate.js';
import { cardShell, currentOrderLine, evidenceList, fillTemplate, SUGGESTION_NOTE, type RenderContext, type RenderedCard, type TemplateVars } from './render.js';

function fmt(v: number, digits = 2): string {
  return decimal(v, digits);
}

/** Template per recommendation: a dose change, avoid/contraindicated/do not start, or a note (range, dialysis, indication). */
function templateFor(r: Recommendation): 'renal-dose' | 'renal-avoid' | 'renal-note' | 'anticoagulant-valve' {
  if (r.renal?.action === 'valve') return 'anticoagulant-valve';
  if (r.kind === 'alternative') return 'renal-avoid';
  if (r.kind === 'dose-adjustment') return 'renal-dose';
  return 'renal-note';
}

export function renderRenalCard(r: Recommendation, order: DraftOrder | undefined, ctx: RenderContext): RenderedCard | undefined {
  const renal = r.renal;
  if (!renal?.showCard) return undefined;
  const t = ctx.templates;
  const kindName = templateFor(r);
  const k = t.kind(kindName);
  const dose = r.proposedDose;
  const vars: TemplateVars = {
    headline: r.headline,
    drug: r.drug.name,
    dose: dose ? fmt(dose.perDose.value) : undefined,
    frequency: dose?.frequencyText,
    bandLine: renal.band ? md`${renal.action === 'valve' ? 'Label' : 'Label band'}: ${literal(renal.band.text)}` : undefined,
    proposalLine: dose
      ? md`Suggested: ${fmt(dose.perDose.value)} mg ${dose.frequencyText}${renal.action === 'range' && renal.band?.dailyMg ? md` (${fmt(dose.perDose.value * dose.timing.frequency)} mg/day, within ${fmt(renal.band.dailyMg[0])}–${fmt(renal.band.dailyMg[1])} mg/day)` : ''}.`
      : undefined,
    currentOrderLine: currentOrderLine(order, order?.resource.status === 'active' ? 'active' : 'draft'),
    measureLine: renal.measure ? literal(renal.measure.formula, 400) : undefined,
    inputsTable: inputsTable(r),
    notesList: r.notes.length ? mdJoin(r.notes.map((n) => md`- ${literal(n, 400)}`), '\n') : undefined,
    labelLine: md`${literal(renal.label.title)}, section ${literal(renal.label.section)}`,
    methodName: `${r.method.name} (v${r.method.version})`,
    evidenceList: evidenceList(r),
  };
  // said only on a card that carries the inline change
  if (dose && order?.ref && k.suggestionLabel) vars['suggestionNote'] = SUGGESTION_NOTE;
  const card = cardShell(r, kindName, vars, ctx, renal.label.url);
  const suggestions: Suggestion[] = [];
  if (dose && order?.ref && k.suggestionLabel) {
    const u = proposedDoseUpdate({ ...order, ref: order.ref }, r, ctx.products ?? ProductTable.empty());
    suggestions.push({
      label: `${fillTemplate(k.suggestionLabel, vars)}${u.labelSuffix}`,
      uuid: ctx.newId(),
      isRecommended: true,
      actions: [{ type: 'update', description: u.description, resource: u.resource }],
    });
  }
  if ((kindName === 'renal-avoid' || (kindName === 'anticoagulant-valve' && r.kind === 'alternative')) && order?.ref && k.suggestionLabel) {
    suggestions.push({
      label: fillTemplate(k.suggestionLabel, vars),
      uuid: ctx.newId(),
      isRecommended: r.severity === 'critical',
      actions: [{ type: 'delete', description: `Remove the draft ${r.drug.name} order (${order.ref})`, resourceId: order.ref }],
    });
  }
  if (suggestions.length > 0) {
    card.suggestions = suggestions;
    card.selectionBehavior = 'at-most-one';
  }
  return { card, recommendationId: r.id };
}
