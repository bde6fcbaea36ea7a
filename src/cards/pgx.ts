// Pharmacogenomic Recommendation → CDS card: gene result, phenotype, CPIC recommendation and strength, and the
// change as suggestions (alternative drug, adjusted dose, genotype test). Wording comes from cards/pgx-*.md.
import type { MedicationRequest, ServiceRequest } from 'fhir/r4';
import { timingText, withScaledDoses } from './draft.js';
import { doseUpdate, type DoseUpdate } from './doseUpdate.js';
import { ProductTable } from '../domain/products.js';
import { cell, decimal, literal, Markdown, md, mdJoin, mdLink, mdUrl } from './markdown.js';
import type { Action, Suggestion } from '../cds/protocol.js';
import type { DraftOrder } from '../domain/order.js';
import { RXNORM_SYSTEM } from '../domain/drugs.js';
import type { AlternativeDrug, PgxSourceRow, Recommendation, UnreadablePgxResult } from '../domain/recommendation.js';
import { populationWords } from '../knowledge/populations.js';
import { cardShell, fillTemplate, type RenderContext, type RenderedCard, type TemplateVars } from './render.js';

/** The subject of a created resource: the draft's patient reference when it is a string, else the hook's patient. */
function subjectOf(order: DraftOrder | undefined, patientId: string | undefined): { reference: string } | { display: string } {
  const ref = order?.resource.subject?.reference;
  if (typeof ref === 'string' && ref.trim()) return { reference: ref };
  return patientId ? { reference: `Patient/${patientId}` } : { display: 'the patient of the draft order' };
}

const TEMPLATE_BY_ACTION = {
  avoid: 'pgx-avoid',
  alternative: 'pgx-alternative',
  dose: 'pgx-dose',
  caution: 'pgx-caution',
  standard: 'pgx-info',
  none: 'pgx-info',
  test: 'pgx-test',
  unreadable: 'pgx-unreadable',
} as const;


/** The guideline population in its own words with the code in parentheses ("cardiovascular indications: … (CVI ACS PCI)"). */
function populationLabel(code: string): Markdown {
  const words = populationWords(code);
  return words ? md`${literal(words, 200)} (${literal(code, 60)})` : literal(code, 60);
}

function fmt(v: number): string {
  return decimal(v, 2);
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * One paragraph: literal "\\n" and line breaks as spaces, whitespace collapsed. One pass that touches only what
 * changes (a run of two or more, a literal "\\n", whitespace other than a space), not every single space.
 */
function oneParagraph(s: string): string {
  return s.replace(/(?:\\n|\s){2,}|\\n|[^\S ]/g, ' ').trim();
}

/** A DPWG text (plain text from the build, "- " list items on their own lines) as Markdown, every line escaped (a line
 * cannot start a heading or list: escapeMarkdown escapes block markers). */
function dpwgMarkdown(t: string): Markdown {
  // whole lines (never cut: DPWG has lines of up to ~1,100 characters, e.g. efavirenz CYP2B6)
  const lines = t.split('\n').map((l) => (l.startsWith('- ') ? md`- ${literal(l.slice(2), l.length)}` : md`\n${literal(l, l.length)}\n`));
  return new Markdown(mdJoin(lines, '\n').text.replace(/\n{3,}/g, '\n\n').trim());
}

/** Both sources' rows side by side (the leading one first), each with its strength and guideline link. */
function sourcesTable(rows: PgxSourceRow[]): Markdown {
  const line = (x: PgxSourceRow) => {
    const raw = x.source === 'DPWG' ? x.recommendationText.replace(/\n- /g, ' • ').replace(/\n/g, ' ') : (x.recommendationText.split(/OTHER CONSIDERATIONS:?/)[0] ?? '');
    const clipped = raw.length > 400 ? `${raw.slice(0, 399).trimEnd()}…` : raw;
    // the leading row's text is the recommendation shown above the table
    const text = x.leading ? 'shown above' : literal(clipped, 400);
    const link = md`${mdLink(literal(x.guideline.name, 120), x.guideline.url)} — ${literal(x.guideline.version, 120)}`;
    return md`| ${x.source}${x.leading ? ' (leads)' : ''} | ${text} | ${x.strength} | ${link} |`;
  };
  return mdJoin([md`| Source | Recommendation for this result | Strength | Guideline |`, md`|---|---|---|---|`, ...rows.map(line)], '\n');
}

/** The CPIC text as markdown (escaped: it is guideline data): "OTHER CONSIDERATIONS" on its own paragraph. */
function recommendationMarkdown(t: string): Markdown {
  const [main, ...rest] = t.split(/OTHER CONSIDERATIONS:?/);
  const other = rest.map(oneParagraph).filter(Boolean).join(' ');
  return other ? md`${oneParagraph(main ?? '')}\n\n*Other considerations:* ${other}` : md`${oneParagraph(main ?? '')}`;
}


/**
 * A guideline dose change as a complete order when the draft has one dose the service read: the draft's timing kept,
 * the dose rounded down (by at most 20%) to one whole units of a strength make, product and text rewritten.
 * Undefined for drafts with several doses or ranges (scaled instead).
 */
function pgxDoseUpdate(r: Recommendation, order: DraftOrder & { ref: string }, mg: number, products: ProductTable): DoseUpdate | undefined {
  const instructions = Array.isArray(order.resource.dosageInstruction) ? order.resource.dosageInstruction : [];
  if (!order.currentDose || instructions.length !== 1 || (instructions[0]!.doseAndRate?.length ?? 0) > 1) return undefined;
  const perDay = order.currentDose.frequencyPerDay;
  const da = r.doseAdjustment!;
  return doseUpdate(order, r, products, {
    perDoseMg: mg,
    timing: 'keep',
    frequencyText: timingText(instructions[0]!.timing?.repeat) ?? (perDay !== undefined ? `${fmt(perDay)} times per day` : 'at the drafted times'),
    note: `${r.pgx?.source ?? 'CPIC'}: ${cell(da.phrase, 80)}`,
    roundDownTo: 0.8,
  });
}

function alternativeOrder(order: DraftOrder | undefined, patientId: string | undefined, alt: AlternativeDrug): MedicationRequest {
  const subject = subjectOf(order, patientId);
  return {
    resourceType: 'MedicationRequest',
    status: 'draft',
    intent: order?.resource.intent ?? 'order',
    subject,
    medicationCodeableConcept: alt.rxnorm ? { coding: [{ system: RXNORM_SYSTEM, code: alt.rxnorm, display: alt.name }], text: alt.display } : { text: alt.display },
  } as MedicationRequest;
}


function testRequest(order: DraftOrder | undefined, patientId: string | undefined, gene: string, text: string, drug: string): ServiceRequest {
  const subject = subjectOf(order, patientId);
  const request: ServiceRequest = {
    resourceType: 'ServiceRequest',
    status: 'draft',
    intent: 'order',
    subject,
    code: { text },
    reasonCode: [{ text: `Pharmacogenomic test before prescribing ${drug} (CPIC guideline)` }],
  };
  if (gene) request.note = [{ text: `Gene: ${gene}` }];
  return request;
}

/** "A DPYD result is on file (Observation/7, 2025-06-01: "…") but could not be interpreted (reason)." */
function unreadableLine(u: UnreadablePgxResult, drug: string): Markdown {
  const where = [u.source.reference, u.source.date?.slice(0, 10)].filter(Boolean).join(', ');
  const text = u.text ? md`: "${literal(u.text, 200)}"` : '';
  return md`A ${u.gene} result is on file (${literal(where, 120)}${text}) but could not be interpreted (${literal(u.reason, 200)}) — review it before prescribing ${drug}.`;
}

export interface PgxRenderContext extends RenderContext {
  /** patient of the hook call, for resources created by suggestions when the draft has no subject */
  patientId?: string;
}

/** Render a PGx recommendation; undefined when it is kept for the SMART app only. */
export function renderPgxCard(r: Recommendation, order: DraftOrder | undefined, ctx: PgxRenderContext): RenderedCard | undefined {
  const p = r.pgx;
  if (!p || !p.showCard) return undefined;
  const t = ctx.templates;
  // a "no change" row with an interacting drug that may change the phenotype (no documented adjustment): a caution card
  const cautions = (p.phenoconversion ?? []).filter((x) => x.effect === 'caution');
  const kindName = cautions.length && (p.action === 'standard' || p.action === 'none') ? 'pgx-caution' : TEMPLATE_BY_ACTION[p.action];
  const k = t.kind(kindName);
  const g = r.guideline;
  const genes = r.genes ?? [];
  const plainFinding =
    genes
      // a gene without a result has a phenotype only when an interacting drug sets it (phenoconversion)
      .filter((x) => x.result !== 'No result on file' || x.phenotype)
      .map((x) => `${x.gene} ${x.phenotype ?? x.result}`)
      .join(' + ') || genes.map((x) => `${x.gene} not tested`).join(' + ');
  const withCautions = cautions.length ? `${plainFinding}, ${[...new Set(cautions.map((x) => x.drug))].join(' and ')} active` : plainFinding;
  const finding = p.disagreements?.length ? `${p.disagreements.map((d) => d.gene).join('/')} results disagree; cautious reading ${withCautions}` : withCautions;
  const da = r.doseAdjustment;
  const src = p.source ?? 'CPIC';
  const rowOf = (s: 'CPIC' | 'DPWG') => (p.sources ? p.sources.find((x) => x.source === s)?.recommendationId : src === s && g && g.recommendationId !== 'none' ? g.recommendationId : undefined);
  const update = da?.to && order?.ref && order.resource.id && (p.action === 'avoid' || p.action === 'alternative' || p.action === 'dose') ? pgxDoseUpdate(r, { ...order, ref: order.ref }, da.to.value, ctx.products ?? ProductTable.empty()) : undefined;
  const rounded = update?.dispensing.roundedFromMg !== undefined ? md` Rounded down to ${fmt(update.dispensing.perDoseMg)} mg, the nearest dose whole units of one strength make (the suggestion uses it).` : undefined;
  const doseLine = da
    ? da.to && da.from
      ? md`Suggested dose: ${fmt(da.to.value)} ${da.to.unit} instead of ${fmt(da.from.value)} ${da.from.unit} per dose (${src}: "${literal(da.phrase)}").${rounded ?? (update ? '' : md` Round to an available strength.`)}`
      : md`${src}: "${literal(da.phrase)}". The draft order has no dose in mg, so no adjusted dose is suggested.`
    : undefined;
  const vars: TemplateVars = {
    drug: r.drug.name,
    Drug: capitalise(r.drug.name),
    finding: cell(finding, 90),
    strength: g?.classification,
    doseChange: da ? (da.factor < 1 ? `reduce the dose by ${Math.round((1 - da.factor) * 100)}%` : `increase the dose by ${Math.round((da.factor - 1) * 100)}%`) : 'adjust the dose',
    recommendation: p.recommendationText ? (src === 'DPWG' ? dpwgMarkdown(p.recommendationText) : recommendationMarkdown(p.recommendationText)) : undefined,
    sourceLabel: src,
    sourceStrength: src === 'CPIC' ? `CPIC ${g?.classification ?? ''}`.trim() : src,
    strengthLabel: src === 'CPIC' ? 'classification' : 'strength',
    strengthNote: src === 'CPIC' ? undefined : ' — DPWG does not grade its recommendations',
    sourcesTable: p.sources && p.sources.length > 1 ? sourcesTable(p.sources) : undefined,
    phenoconversionLine: p.phenoconversion?.length ? md`**Interacting drug (phenoconversion).** ${mdJoin(p.phenoconversion.map((x) => literal(x.text, 500)), ' ')}` : undefined,
    sourceDisagreementLine: p.sourceDisagreement ? md`**Guideline sources disagree.** ${literal(p.sourceDisagreement, 400)}` : undefined,
    cpicRecommendationId: rowOf('CPIC'),
    dpwgRecommendationId: rowOf('DPWG'),
    doseLine,
    alternativesLine: r.alternatives?.length ? md`Alternatives named by CPIC: ${mdJoin(r.alternatives.map((a) => md`${a.display}${a.note ? md` (${literal(a.note, 160)})` : ''}`), '; ')}.` : undefined,
    genesTable: mdJoin(genes.map((x) => md`| ${literal(x.gene)} | ${literal(x.result, 80)} | ${literal(x.phenotype ?? '—', 80)} | ${literal(x.implication ?? '—')} |`), '\n'),
    disagreementLine: p.disagreements?.length ? md`**Results disagree.** ${mdJoin(p.disagreements.map((d) => literal(d.text, 600)), ' ')}` : undefined,
    unreadableList: p.action === 'unreadable' ? mdJoin((p.unreadable ?? []).map((u) => md`- ${unreadableLine(u, r.drug.name)}`), '\n') : undefined,
    unreadableLine:
      p.action !== 'unreadable' && p.unreadable?.length ? md`**Also on file:** ${mdJoin(p.unreadable.map((u) => unreadableLine(u, r.drug.name)), ' ')} See the separate card.` : undefined,
    unreadableGenes: p.unreadable?.length ? [...new Set(p.unreadable.map((u) => u.gene))].join('/') : undefined,
    testGenes: p.testGenes?.join(', '),
    populationLine: g?.populationReason ? md`Guideline population: **${populationLabel(g.population)}** — ${literal(g.populationReason, 400)}` : undefined,
    notesList: r.notes.length ? mdJoin(r.notes.map((n) => md`- ${literal(n, 400)}`), '\n') : undefined,
    guidelineName: g?.name,
    guidelineUrl: mdUrl(g?.url),
    guidelineVersion: g?.version,
    recommendationId: g && g.recommendationId !== 'none' ? g.recommendationId : undefined,
  };
  const card = cardShell(r, kindName, vars, ctx, g?.url);

  const suggestions: Suggestion[] = [];
  const del: Action | undefined = order?.ref ? { type: 'delete', description: `Remove the draft ${r.drug.name} order (${order.ref})`, resourceId: order.ref } : undefined;
  if (p.action === 'test') {
    const actions: Action[] = (p.testGenes ?? []).map((gene) => {
      const text = fillTemplate(k.suggestionLabel ?? '{{gene}} genotyping', { gene });
      return { type: 'create', description: `Order ${text}`, resource: testRequest(order, ctx.patientId, gene, text, r.drug.name) };
    });
    if (actions.length) suggestions.push({ label: `Order ${(p.testGenes ?? []).join(' and ')} genotyping`, uuid: ctx.newId(), isRecommended: true, actions });
  } else if (p.action === 'avoid' || p.action === 'alternative' || p.action === 'dose') {
    for (const alt of r.alternatives ?? []) {
      suggestions.push({
        label: `Replace ${r.drug.name} with ${alt.display}`.slice(0, 120),
        uuid: ctx.newId(),
        isRecommended: p.action !== 'dose',
        actions: [...(del ? [del] : []), { type: 'create', description: `Draft a new order for ${alt.display} (no dose set)`, resource: alternativeOrder(order, ctx.patientId, alt) }],
      });
    }
    if (da?.to && order?.ref && order.resource.id) {
      const verb = da.factor < 1 ? 'Reduce' : 'Increase';
      if (update) {
        suggestions.push({ label: `${verb} ${r.drug.name} to ${fmt(update.dispensing.perDoseMg)} mg per dose${update.labelSuffix}`.slice(0, 160), uuid: ctx.newId(), isRecommended: p.action === 'dose', actions: [{ type: 'update', description: update.description, resource: update.resource }] });
      } else {
        // several doses or ranges on the draft: each scaled, each text rewritten from its scaled dose
        suggestions.push({
          label: `${verb} ${r.drug.name} to ${fmt(da.to.value)} ${da.to.unit} per dose`,
          uuid: ctx.newId(),
          isRecommended: p.action === 'dose',
          actions: [{ type: 'update', description: `Set the dose of ${order.ref} to ${fmt(da.to.value)} ${da.to.unit} (${cell(da.phrase, 80)})`, resource: withScaledDoses(order.resource, da.factor, `${src}: ${cell(da.phrase, 80)}`) }],
        });
      }
    }
    if (p.action === 'avoid' && (r.alternatives ?? []).length === 0 && del) {
      suggestions.push({ label: `Remove the draft ${r.drug.name} order`, uuid: ctx.newId(), isRecommended: true, actions: [del] });
    }
  }
  // at most one suggestion is recommended: the first one flagged
  let recommended = false;
  for (const s of suggestions) {
    if (s.isRecommended && !recommended) recommended = true;
    else s.isRecommended = false;
  }
  if (suggestions.length) {
    card.suggestions = suggestions;
    card.selectionBehavior = 'at-most-one';
  }
  return { card, recommendationId: r.id };
}
