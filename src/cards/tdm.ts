// AUC-guided vancomycin Recommendation → CDS card: proposed regimen (loading + maintenance), predicted AUC24 of the
// proposal and of the current regimen with the 10th–90th percentile band, method, inputs. Wording: cards/vancomycin-dose.md.
import type { DraftOrder } from '../domain/order.js';
import type { Recommendation } from '../domain/recommendation.js';
import { decimal, inputsTable, literal, md, mdJoin } from './markdown.js';
import { ProductTable } from '../domain/products.js';
import { proposedDoseUpdate } from './doseUpdate.js';
import { cardShell, evidenceList, fillTemplate, type RenderContext, type RenderedCard, type TemplateVars } from './render.js';

function fmt(v: number, digits = 0): string {
  return decimal(v, digits);
}
const band = (b: { p10: number; p90: number }) => `${fmt(b.p10)}–${fmt(b.p90)}`;

export function renderTdmCard(r: Recommendation, order: DraftOrder | undefined, ctx: RenderContext): RenderedCard | undefined {
  const tdm = r.tdm;
  if (!tdm || r.kind === 'info') return undefined;
  const kindName = 'vancomycin-dose';
  const k = ctx.templates.kind(kindName);
  const dose = r.proposedDose;
  const p = tdm.proposed;
  const vars: TemplateVars = {
    headline: r.headline,
    drug: r.drug.name,
    dose: fmt(p.doseMg),
    interval: fmt(p.intervalH),
    loadingLine: tdm.loading ? md`Loading dose: ${fmt(tdm.loading.doseMg)} mg IV over ${fmt(tdm.loading.infusionH, 2)} h (${literal(tdm.loading.basis, 400)}).` : undefined,
    maintenanceLine: `Maintenance: ${fmt(p.doseMg)} mg IV every ${fmt(p.intervalH)} h, infused over ${fmt(p.infusionH, 2)} h — predicted steady-state AUC24 ${fmt(p.auc24)} mg·h/L (10th–90th percentile ${band(p.band)}); trough ${fmt(p.troughMgL, 1)} mg/L, peak ${fmt(p.peakMgL, 1)} mg/L.`,
    currentLine: tdm.current
      ? `${tdm.current.from === 'draft-order' ? 'Draft order' : 'Current (administered)'} regimen ${fmt(tdm.current.doseMg)} mg every ${fmt(tdm.current.intervalH, 1)} h: predicted AUC24 ${fmt(tdm.current.auc24)} mg·h/L (10th–90th percentile ${band(tdm.current.band)}) — ${tdm.current.withinTarget ? 'within' : tdm.current.auc24 < tdm.target.low ? 'below' : 'above'} the target.`
      : undefined,
    targetLine: `Target AUC24 ${tdm.target.low}–${tdm.target.high} mg·h/L (MIC 1 mg/L), aiming at ${tdm.target.aim}.`,
    methodLine:
      tdm.method === 'bayesian'
        ? `Bayesian (MAP) estimate from ${tdm.levelsUsed} level(s) and ${tdm.dosesRecorded} recorded dose(s); individual CL ${fmt(tdm.parameters.CL, 2)} L/h, Vc ${fmt(tdm.parameters.Vc, 1)} L.`
        : `Population (prior) estimate — no usable levels; CL ${fmt(tdm.parameters.CL, 2)} L/h (CrCl ${fmt(tdm.crclMlMin, 1)} mL/min). Measure levels to individualise.`,
    modelLine: md`${literal(tdm.model.name)} — ${literal(tdm.model.citation, 400)}`,
    inputsTable: inputsTable(r),
    notesList: r.notes.length ? mdJoin(r.notes.map((n) => md`- ${literal(n, 400)}`), '\n') : undefined,
    methodName: `${r.method.name} (v${r.method.version})`,
    evidenceList: evidenceList(r),
  };
  // said only on a card that carries the inline change
  if (dose && order?.ref && k.suggestionLabel) vars['suggestionNote'] = md` The suggestion changes only the maintenance dose and interval of the draft order; order a loading dose separately.`;
  const card = cardShell(r, kindName, vars, ctx);
  if (dose && order?.ref && k.suggestionLabel) {
    const u = proposedDoseUpdate({ ...order, ref: order.ref }, r, ctx.products ?? ProductTable.empty(), `IV every ${fmt(p.intervalH)} hours, infused over ${fmt(p.infusionH, 2)} h`);
    card.suggestions = [
      {
        label: `${fillTemplate(k.suggestionLabel, vars)}${u.labelSuffix}`,
        uuid: ctx.newId(),
        isRecommended: true,
        actions: [{ type: 'update', description: u.description, resource: u.resource }],
      },
    ];
    card.selectionBehavior = 'at-most-one';
  }
  return { card, recommendationId: r.id };
}
