// Recommendation → CDS Hooks cards, using the clinical wording in the top-level cards/ folder.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MedicationRequest } from 'fhir/r4';
import type { Card, Suggestion } from '../cds/protocol.js';
import type { DraftOrder } from '../domain/order.js';
import type { Recommendation } from '../domain/recommendation.js';
import { LENZINI_METHOD_ID } from '../dosing/warfarin/refine.js';
import { ProductTable } from '../domain/products.js';
import { proposedDoseUpdate } from './doseUpdate.js';
import { dosingDetailsLinks } from './links.js';
import { cell, decimal, inputsTable, literal, Markdown, md, mdJoin, mdLink, mdText, type MdValue } from './markdown.js';
import { renderPgxCard } from './pgx.js';
import { renderRenalCard } from './renal.js';
import { renderTdmCard } from './tdm.js';
import { renderInsulinCard } from './insulin.js';

interface KindTemplate {
  topic: { code: string; display: string };
  sourceUrl?: string;
  summary: string;
  detailFile: string;
  suggestionLabel?: string;
  overrideReasons: { code: string; display: string }[];
}

interface TemplateFile {
  source: { label: string; topicSystem: string };
  overrideReasonSystem: string;
  kinds: Record<string, KindTemplate>;
}

export class CardTemplates {
  readonly details = new Map<string, string>();
  constructor(
    readonly file: TemplateFile,
    dir: string,
  ) {
    for (const k of Object.values(file.kinds)) this.details.set(k.detailFile, readFileSync(path.join(dir, k.detailFile), 'utf8'));
  }
  static load(dir = path.resolve(process.cwd(), 'cards')): CardTemplates {
    return new CardTemplates(JSON.parse(readFileSync(path.join(dir, 'templates.json'), 'utf8')) as TemplateFile, dir);
  }
  kind(name: string): KindTemplate {
    const k = this.file.kinds[name];
    if (!k) throw new Error(`no card template "${name}" in cards/templates.json`);
    return k;
  }
}

/** Template variables: plain text (data), or Markdown the renderer built with md`` / literal(). */
export type TemplateVars = Record<string, MdValue>;

/**
 * Replace {{name}} placeholders; a line whose placeholders are all empty is dropped (no empty sections).
 * `markdown` (a card's detail): every plain-text value is data and goes through escapeMarkdown(), Markdown values are
 * used as built. `text` (summary, suggestion labels: plain text per CDS Hooks): values as they are, never escaped.
 */
export function fillTemplate(tpl: string, vars: TemplateVars, mode: 'text' | 'markdown' = 'text'): string {
  const value = (v: MdValue): string => (mode === 'markdown' ? mdText(v) : v === undefined || v === null ? '' : String(v));
  let out = '';
  let first = true;
  for (const line of compiled(tpl)) {
    const names = line.names;
    if (names.length > 0 && !names.some((n) => value(vars[n]) !== '')) continue;
    let text = line.texts[0]!;
    for (let i = 0; i < names.length; i++) text += value(vars[names[i]!]) + line.texts[i + 1]!;
    out = first ? text : `${out}\n${text}`;
    first = false;
  }
  // dropped lines can leave runs of blank lines: at most one blank line between sections
  if (out.includes('\n\n\n')) out = out.replace(/\n{3,}/g, '\n\n');
  return out.trim();
}

/** A template split once into lines of literal texts around placeholder names (texts.length = names.length + 1). */
type CompiledLine = { texts: string[]; names: string[] };
const compiledTemplates = new Map<string, CompiledLine[]>();
function compiled(tpl: string): CompiledLine[] {
  let c = compiledTemplates.get(tpl);
  if (!c) {
    c = tpl.split('\n').map((line) => {
      const parts = line.split(/\{\{(\w+)\}\}/);
      return { texts: parts.filter((_, i) => i % 2 === 0), names: parts.filter((_, i) => i % 2 === 1) };
    });
    // templates come from cards/ (a bounded set); never let the cache grow without bound
    if (compiledTemplates.size < 1000) compiledTemplates.set(tpl, c);
  }
  return c;
}

function fmtNum(v: number, digits = 1): string {
  return decimal(v, digits);
}

/** The template kind of a recommendation rendered by the generic path (warfarin, missing data). */
function templateKind(r: Recommendation): string {
  if (r.kind === 'missing-data') return 'missing-data';
  // the INR-based refinement of an ongoing warfarin therapy is not a starting dose: its own wording
  if (r.method.id === LENZINI_METHOD_ID) return `${r.drug.name}-refine`;
  return `${r.drug.name}-${r.kind}`;
}

/** The draft order with the proposed regimen as its only dosage instruction, as a dispensable order (see doseUpdate). */
export function withProposedDose(order: DraftOrder & { ref: string }, r: Recommendation, products: ProductTable = ProductTable.empty()): MedicationRequest {
  return proposedDoseUpdate(order, r, products).resource;
}

/** "The draft order currently says 5 mg (1 tablet …) 1× per day." / "… dose could not be read: …" / "… has no dose yet." */
export function currentOrderLine(order: DraftOrder | undefined, orderWord: 'draft' | 'active' = 'draft'): Markdown {
  const c = order?.currentDose;
  if (c) {
    const units = c.units ? md` (${fmtNum(c.units.count, 2)} × ${fmtNum(c.units.strengthMg, 3)} mg ${c.units.unit}${c.units.strengthFrom === 'product table' ? '' : md`, strength from the ${c.units.strengthFrom}`})` : '';
    return md`The ${orderWord} order currently says ${fmtNum(c.value, 2)} mg${units}${c.frequencyPerDay !== undefined ? md` ${fmtNum(c.frequencyPerDay, 2)}× per day` : ''}${c.fromText ? ' (read from its free-text instruction)' : ''}.`;
  }
  if (order?.doseProblem) return md`The ${orderWord} order's dose could not be read: ${literal(order.doseProblem, 300)}. Check it against this proposal.`;
  return md`The ${orderWord} order has no dose${orderWord === 'draft' ? ' yet' : ' in mg'}.`;
}


/** The card lists the largest factors; the rest are summed on one line (all of them stay in the Recommendation). */
const CARD_FACTORS = 6;
const signed = (v: number, unit: string): string => `${v >= 0 ? '+' : '−'}${fmtNum(Math.abs(v))} ${unit}`;
function factorLines(r: Recommendation): Markdown | undefined {
  if (!r.factors) return undefined;
  const shown = r.factors.filter((f) => Math.abs(f.contribution) >= 0.05).sort((a, b) => Math.abs(b.contribution) - Math.abs(a.contribution));
  if (shown.length === 0) return undefined;
  let lines = '';
  for (let i = 0; i < shown.length && i < CARD_FACTORS; i++) {
    const f = shown[i]!;
    lines += `${i > 0 ? '\n' : ''}- ${literal(f.label).text}: ${mdText(signed(f.contribution, f.unit))}`;
  }
  if (shown.length > CARD_FACTORS) {
    let sum = 0;
    for (let i = CARD_FACTORS; i < shown.length; i++) sum += shown[i]!.contribution;
    lines += `\n- ${shown.length - CARD_FACTORS} other factors together: ${mdText(signed(sum, shown[CARD_FACTORS]!.unit))}`;
  }
  return new Markdown(lines);
}

/** "[citation](url); citation" — citations are data, links only to http(s). */
export function evidenceList(r: Recommendation): Markdown {
  return mdJoin(r.evidence.map((e) => mdLink(literal(e.citation), e.url)), '; ');
}

/** What a dose suggestion changes (cards whose suggestion is a dose update). */
export const SUGGESTION_NOTE: Markdown = md` The suggestion changes the dose of the draft order, and its product when the drafted product cannot make the dose.`;

export interface RenderContext {
  templates: CardTemplates;
  /** products with strengths, to make a suggestion a dispensable order (default: none known) */
  products?: ProductTable;
  newId: () => string;
  /** launch URL of the SMART "Dosing details" app; every card links to it when set */
  smartLaunchUrl?: string;
}

export interface RenderedCard {
  card: Card;
  recommendationId: string;
}

/** Should this recommendation interrupt the prescriber? Informational results and matching doses stay in the app. */
export function isActionable(r: Recommendation, order: DraftOrder | undefined): boolean {
  if (r.kind === 'info') return false;
  if (r.kind === 'dose' && r.proposedDose && order?.currentDose?.frequencyPerDay !== undefined) {
    const currentDaily = order.currentDose.value * order.currentDose.frequencyPerDay;
    const t = r.proposedDose.timing;
    const periodDays = t.period * (t.periodUnit === 'h' ? 1 / 24 : t.periodUnit === 'wk' ? 7 : 1);
    const proposedDaily = (r.proposedDose.perDose.value * t.frequency) / periodDays;
    if (Math.abs(currentDaily - proposedDaily) < 1e-9) return false;
  }
  return true;
}

/**
 * The parts every card shares, from its template kind: uuid, summary (< 140 characters), Markdown detail, indicator,
 * source (label, url, topic), override reasons and the link to the SMART app.
 */
export function cardShell(r: Recommendation, kindName: string, vars: TemplateVars, ctx: RenderContext, sourceUrl?: string): Card {
  const t = ctx.templates;
  const k = t.kind(kindName);
  const url = sourceUrl ?? k.sourceUrl;
  const topic = { system: t.file.source.topicSystem, code: k.topic.code, display: k.topic.display };
  const card: Card = {
    uuid: ctx.newId(),
    summary: cell(fillTemplate(k.summary, vars, 'text'), 139, true), // plain text: one line, nothing escaped or removed
    detail: fillTemplate(t.details.get(k.detailFile)!, vars, 'markdown'),
    indicator: r.severity,
    source: url ? { label: t.file.source.label, url, topic } : { label: t.file.source.label, topic },
    overrideReasons: k.overrideReasons.map((o) => ({ system: t.file.overrideReasonSystem, code: o.code, display: o.display })),
  };
  const { links } = dosingDetailsLinks(r, ctx.smartLaunchUrl);
  if (links) card.links = links;
  return card;
}

export function renderCard(r: Recommendation, order: DraftOrder | undefined, ctx: RenderContext): RenderedCard | undefined {
  if (r.pgx) return renderPgxCard(r, order, ctx);
  if (r.renal && r.kind !== 'missing-data') return renderRenalCard(r, order, ctx);
  if (r.tdm && r.kind !== 'missing-data') return renderTdmCard(r, order, ctx);
  if (r.insulin && r.kind !== 'missing-data') return renderInsulinCard(r, order, ctx);
  if (!isActionable(r, order)) return undefined;
  const t = ctx.templates;
  const kindName = templateKind(r);
  const k = t.kind(kindName);
  const dose = r.proposedDose;
  // an active order is re-checked on patient-view (monitoring); everything else is a draft being ordered
  const orderWord = order?.resource.status === 'active' ? 'active' : 'draft';
  const vars: TemplateVars = {
    headline: r.headline,
    drug: r.drug.name,
    dose: dose ? fmtNum(dose.perDose.value, 2) : undefined,
    weekly: dose?.perWeek ? fmtNum(dose.perWeek.value) : undefined,
    methodName: `${r.method.name} (v${r.method.version})`,
    intervalLine: r.interval
      ? md`80% prediction interval for the stable dose: ${fmtNum(r.interval.low.value)}–${fmtNum(r.interval.high.value)} ${r.interval.low.unit}${dose?.estimate ? md` (estimate ${fmtNum(dose.estimate.value)} ${dose.estimate.unit})` : ''}.`
      : undefined,
    scheduleLine: dose?.scheduleText ? md`With one tablet strength: ${dose.scheduleText}.` : undefined,
    currentOrderLine: currentOrderLine(order, orderWord),
    inputsTable: inputsTable(r),
    targetLine: r.targetInr
      ? md`**Target INR assumed: ${fmtNum(r.targetInr.range[0])}–${fmtNum(r.targetInr.range[1])}** (${r.targetInr.because}${r.targetInr.conditions.length ? md`: ${r.targetInr.conditions.map((c) => c.reference).join(', ')}` : ''}; ${literal(r.targetInr.source, 300)}). The dosing equations were derived mostly in patients with a 2–3 target.`
      : undefined,
    cpicLine: r.cpicBranch
      ? md`CPIC 2017 warfarin flowchart (${r.cpicBranch.figure === 'adult' ? 'Figure 2, adults' : 'Figure 3, children'}): ${literal(r.cpicBranch.text, 400)}${r.cpicBranch.strength ? md` (${r.cpicBranch.strength.toLowerCase()})` : ''}.`
      : undefined,
    baseWeekly: r.factorBase ? fmtNum(r.factorBase.dose.value) : undefined,
    baseDescription: r.factorBase?.description,
    factorsList: factorLines(r),
    comparatorsList: r.comparators?.length
      ? md`For comparison: ${mdJoin(r.comparators.map((c) => md`${c.method}: ${fmtNum(c.dose.value)} ${c.dose.unit}`), '; ')}.`
      : undefined,
    notesList: r.notes.length ? mdJoin(r.notes.map((n) => md`- ${literal(n)}`), '\n') : undefined,
    missingList: r.missing.length ? mdJoin(r.missing.map((m) => md`- ${literal(m)}`), '\n') : undefined,
    evidenceList: evidenceList(r),
  };
  // said only on a card that carries the inline change
  if (dose && order?.ref && k.suggestionLabel) vars['suggestionNote'] = SUGGESTION_NOTE;
  const card = cardShell(r, kindName, vars, ctx);
  if (dose && order?.ref && k.suggestionLabel) {
    const u = proposedDoseUpdate({ ...order, ref: order.ref }, r, ctx.products ?? ProductTable.empty());
    const suggestion: Suggestion = {
      label: `${fillTemplate(k.suggestionLabel, vars)}${u.labelSuffix}`,
      uuid: ctx.newId(),
      isRecommended: true,
      actions: [{ type: 'update', description: u.description, resource: u.resource }],
    };
    card.suggestions = [suggestion];
    card.selectionBehavior = 'at-most-one';
  }
  return { card, recommendationId: r.id };
}
