// Renders one Recommendation (the same object the card and the audit record come from) as the "Dosing details" page.
// The banner is patient.ts, the genes genes.ts, the inputs inputs.ts, the list list.ts, the charts charts.ts, the
// insulin titration's glucose readings glucose.ts.
import type { Recommendation } from '../../src/domain/recommendation.js';
import { doseIntervalChart, factorChart, timePlot, type DoseEvent, type DoseMark } from './charts.js';
import { fmt, h } from './dom.js';
import { genesSection } from './genes.js';
import { glucoseSection } from './glucose.js';
import { gradeText } from './sources.js';
import { inputsSection } from './inputs.js';
import { SEVERITY_TEXT } from './list.js';
import { renderBanner, type PatientBanner } from './patient.js';
import { capital } from './text.js';
import { whenText } from './time.js';

function section(title: string, cls: string, ...children: (Node | string | false | undefined)[]): HTMLElement {
  return h('section', { class: cls, 'aria-label': title }, h('h2', {}, title), ...children);
}

/** A refinement of a dose already started (e.g. Lenzini 2010 from the INR response), named so by its method. */
function isRefinement(r: Recommendation): boolean {
  return /\brefine/i.test(r.method.name);
}

/** Weekly regimens (warfarin) compare in the interval's unit; others per dose. */
function doseSection(r: Recommendation): HTMLElement | undefined {
  const d = r.proposedDose;
  const draft = r.draftDose;
  if (!d && !r.doseAdjustment) return undefined;
  const rows: HTMLElement[] = [];
  if (d) {
    rows.push(
      h(
        'p',
        { class: 'dose', 'data-testid': 'dose' },
        h('span', { class: 'dose-value' }, `${fmt(d.perDose.value, 2)} ${d.perDose.unit}`),
        ` ${d.frequencyText}`,
        d.perWeek ? h('span', { class: 'dose-week' }, ` (${fmt(d.perWeek.value)} ${d.perWeek.unit === 'mg/wk' ? 'mg/week' : d.perWeek.unit})`) : undefined,
      ),
    );
    if (d.scheduleText) rows.push(h('p', { class: 'schedule' }, `With one tablet strength: ${d.scheduleText}.`));
    if (d.estimate) rows.push(h('p', { class: 'muted' }, `Unrounded estimate ${fmt(d.estimate.value)} ${d.estimate.unit}${d.roundingNote ? `; ${d.roundingNote}` : ''}.`));
  }
  const compare = draftComparison(r, isRefinement(r) ? 'the refined dose' : 'the recommendation');
  rows.push(h('p', { class: 'draft', 'data-testid': 'draft' }, compare));
  if (r.doseAdjustment) {
    const a = r.doseAdjustment;
    rows.push(
      h('p', { class: 'dose', 'data-testid': 'dose-adjustment' }, a.to && a.from ? `${fmt(a.to.value, 2)} ${a.to.unit} instead of ${fmt(a.from.value, 2)} ${a.from.unit} per dose` : `Multiply the dose by ${fmt(a.factor, 2)}`),
      h('p', { class: 'muted' }, `Guideline: “${a.phrase}”`),
    );
  }
  // the scale: interval, estimate, proposal, draft and comparators in one unit
  const unit = r.interval?.low.unit ?? d?.perWeek?.unit ?? d?.perDose.unit;
  if (d && unit) {
    const marks: DoseMark[] = [];
    const proposed = d.perWeek?.unit === unit ? d.perWeek.value : d.perDose.unit === unit ? d.perDose.value : undefined;
    if (proposed !== undefined) marks.push({ label: isRefinement(r) ? 'Refined dose (rounded)' : 'Recommended (rounded)', value: proposed, kind: 'proposed' });
    if (d.estimate?.unit === unit && Math.abs(d.estimate.value - (proposed ?? NaN)) > 1e-9) marks.push({ label: 'Unrounded estimate', value: d.estimate.value, kind: 'estimate' });
    if (draft?.frequencyPerDay !== undefined) {
      const perDay = draft.value * draft.frequencyPerDay;
      const v = unit === 'mg/wk' ? perDay * 7 : unit === 'mg/d' ? perDay : unit === draft.unit ? draft.value : undefined;
      if (v !== undefined) marks.push({ label: 'Draft order', value: v, kind: 'draft' });
    }
    for (const c of r.comparators ?? []) if (c.dose.unit === unit) marks.push({ label: c.method, value: c.dose.value, kind: 'comparator' });
    if (marks.length > 0) rows.push(doseIntervalChart({ unit, ...(r.interval ? { interval: { low: r.interval.low.value, high: r.interval.high.value, level: r.interval.level } } : {}), marks }));
  }
  if (r.interval) {
    rows.push(h('p', { 'data-testid': 'interval' }, `${Math.round(r.interval.level * 100)}% prediction interval for the stable dose: ${fmt(r.interval.low.value)}–${fmt(r.interval.high.value)} ${r.interval.low.unit}.`));
  } else if (d?.estimate && !r.tdm) {
    // a computed estimate without an interval: say so (a missing interval is not a narrow one)
    rows.push(h('p', { class: 'muted', 'data-testid': 'interval' }, `No prediction interval: ${r.method.name} gives a point estimate only.`));
  }
  for (const c of r.comparators ?? []) rows.push(h('p', { class: 'muted' }, `For comparison — ${c.method}: ${fmt(c.dose.value)} ${c.dose.unit}.`));
  return section(isRefinement(r) ? 'Refined dose' : 'Recommended dose', 'dose-section', ...rows);
}

function draftComparison(r: Recommendation, what: string): string {
  const draft = r.draftDose;
  if (!draft) return 'The draft order had no dose in mg when this was calculated.';
  const freq = draft.frequencyPerDay !== undefined ? ` ${fmt(draft.frequencyPerDay, 2)}× per day` : '';
  const d = r.proposedDose;
  let diff = '';
  if (d && draft.frequencyPerDay !== undefined) {
    const t = d.timing;
    const days = t.period * (t.periodUnit === 'h' ? 1 / 24 : t.periodUnit === 'wk' ? 7 : 1);
    const proposedDaily = (d.perDose.value * t.frequency) / days;
    const draftDaily = draft.value * draft.frequencyPerDay;
    const pct = draftDaily > 0 ? ((proposedDaily - draftDaily) / draftDaily) * 100 : 0;
    diff = Math.abs(pct) < 0.5 ? ' — the same daily amount as recommended.' : ` — ${what} is ${fmt(Math.abs(pct), 0)}% ${pct > 0 ? 'higher' : 'lower'} per day.`;
  }
  return `Draft order: ${fmt(draft.value, 2)} ${draft.unit}${freq}${diff || '.'}`;
}

function factorsSection(r: Recommendation): HTMLElement | undefined {
  const f = r.factors ?? [];
  if (f.length === 0) return undefined;
  const unit = f[0]!.unit;
  return section(
    'What moves the dose',
    'factors-section',
    h('p', { class: 'muted', 'data-testid': 'factor-method' }, `Terms of ${r.method.name}`, r.factorBase ? `, measured from ${fmt(r.factorBase.dose.value)} ${r.factorBase.dose.unit}: ${r.factorBase.description}.` : '.'),
    factorChart(f.map((x) => ({ label: x.label, value: x.contribution, unit: x.unit })), { title: `Contribution of each factor to the ${r.method.name} dose (${unit})` }),
  );
}

function evidenceSection(r: Recommendation): HTMLElement {
  return section(
    'Method and evidence',
    'evidence-section',
    h('p', {}, h('strong', {}, r.method.name), ` — version ${r.method.version}`),
    h(
      'ul',
      { class: 'evidence' },
      ...r.evidence.map((e) => h('li', {}, e.url ? h('a', { href: e.url, target: '_blank', rel: 'noopener noreferrer' }, e.citation) : e.citation, e.strength ? ` (${gradeText(e.strength)})` : '')),
    ),
  );
}

/**
 * The doses on the curve's time axis. Fitted history: the administrations among the inputs ("Dose n given", value
 * "1000 mg 2026-11-24 09:00–10:00 UTC", source date = start), in hours from the curve's origin. Proposed start: the
 * loading dose at 0 and the maintenance doses every interval after it (the regimen the curve was computed for).
 */
export function curveDoses(r: Recommendation): DoseEvent[] {
  const t = r.tdm;
  if (!t) return [];
  const end = Math.max(0, ...t.curve.points.map((p) => p.tH));
  if (t.curve.originIso === null || t.curve.kind === 'proposed-start') {
    const out: DoseEvent[] = [];
    let at = 0;
    if (t.loading) {
      out.push({ t: 0, durationH: t.loading.infusionH, mg: t.loading.doseMg, label: 'Loading dose (planned)', planned: true });
      at = t.proposed.intervalH;
    }
    for (let n = 1; at < end - 1e-9 && t.proposed.intervalH > 0; at += t.proposed.intervalH, n++) out.push({ t: at, durationH: t.proposed.infusionH, mg: t.proposed.doseMg, label: `Maintenance dose ${n} (planned)`, planned: true });
    return out;
  }
  const origin = Date.parse(t.curve.originIso);
  const out: DoseEvent[] = [];
  for (const i of r.inputs) {
    const k = /^dose-(\d+)$/.exec(i.key);
    if (!k || typeof i.value !== 'string') continue;
    const m = /^([\d.]+)\s*mg\s+(\d{4}-\d\d-\d\d)[ T](\d\d:\d\d)[^–]*–(\d\d:\d\d)/.exec(i.value);
    const startMs = i.source?.date && i.source.date.length > 10 ? Date.parse(i.source.date) : m ? Date.parse(`${m[2]}T${m[3]}:00Z`) : NaN;
    if (!m || Number.isNaN(startMs) || Number.isNaN(origin)) continue;
    // the end is written to the minute: measure the infusion from the start's minute
    const startMin = Math.floor(startMs / 60000) * 60000;
    let endMs = Date.parse(`${new Date(startMs).toISOString().slice(0, 10)}T${m[4]}:00Z`);
    if (endMs <= startMin) endMs += 86400000; // the infusion ended after midnight
    out.push({ t: (startMs - origin) / 3600000, durationH: (endMs - startMin) / 3600000, mg: Number(m[1]), label: `Dose ${k[1]}` });
  }
  return out;
}

/** AUC-guided dosing (vancomycin): predicted concentration curve with the measured levels, and the AUC figures. */
function tdmSection(r: Recommendation): HTMLElement | undefined {
  const t = r.tdm;
  if (!t?.curve) return undefined;
  const p = t.proposed;
  const unit = t.target.unit;
  const lines = [
    `Proposed: ${fmt(p.doseMg)} mg every ${fmt(p.intervalH)} h (over ${fmt(p.infusionH, 2)} h) — predicted AUC24 ${fmt(p.auc24)} ${unit} (10th–90th percentile ${fmt(p.band.p10)}–${fmt(p.band.p90)}); trough ${fmt(p.troughMgL)} mg/L, peak ${fmt(p.peakMgL)} mg/L at steady state.`,
    `AUC24 target ${t.target.low}–${t.target.high} ${unit} (aim ${t.target.aim}); the proposal is ${p.withinTarget ? 'within' : 'outside'} the target.`,
    t.current ? `${t.current.from === 'draft-order' ? 'Draft order' : 'Current regimen'}: ${fmt(t.current.doseMg)} mg every ${fmt(t.current.intervalH)} h — AUC24 ${fmt(t.current.auc24)} ${unit} (10th–90th percentile ${fmt(t.current.band.p10)}–${fmt(t.current.band.p90)}), ${t.current.withinTarget ? 'within' : 'outside'} the target.` : undefined,
    t.loading ? `Loading dose: ${fmt(t.loading.doseMg)} mg over ${fmt(t.loading.infusionH, 2)} h.` : undefined,
    `${t.method === 'bayesian' ? `Bayesian estimate from ${t.levelsUsed} level${t.levelsUsed === 1 ? '' : 's'} and ${t.dosesRecorded} recorded dose${t.dosesRecorded === 1 ? '' : 's'}` : 'Population (prior) estimate: no usable levels'}; clearance ${fmt(t.parameters.CL, 2)} L/h. Model: ${t.model.name}.`,
  ].filter((x): x is string => x !== undefined);
  const fitted = t.curve.kind === 'fitted-history' && t.curve.originIso !== null;
  const title = fitted ? `Vancomycin concentrations, ${t.method === 'bayesian' ? 'fitted to the levels' : 'population model'}` : 'Predicted vancomycin concentrations of the proposed start';
  const origin = fitted ? `Time 0 = ${t.curve.originIso!.slice(0, 16).replace('T', ' ')} UTC (first dose or level).` : 'Time 0 = the first proposed dose.';
  // uncertainty in clearance: AUC24 scales with 1/CL, the 10th–90th percentile ratios of AUC24 applied to the curve
  const b = t.current?.band ?? p.band;
  const lo = b.p50 > 0 ? b.p10 / b.p50 : NaN;
  const hi = b.p50 > 0 ? b.p90 / b.p50 : NaN;
  const band = Number.isFinite(lo) && Number.isFinite(hi) ? t.curve.points.map((q) => ({ t: q.tH, low: q.mgL * lo, high: q.mgL * hi })) : undefined;
  return section(
    'Vancomycin AUC',
    'tdm-section',
    h('div', { 'data-testid': 'auc' }, ...lines.map((l) => h('p', {}, l))),
    timePlot({
      title,
      unit: 'mg/L',
      timeLabel: fitted ? 'time from the first dose' : 'time from the first proposed dose',
      curveLabel: t.method === 'bayesian' ? 'model curve (fitted to the levels)' : 'model curve (population prior)',
      predicted: t.curve.points.map((q) => ({ t: q.tH, value: q.mgL })),
      ...(band ? { band, bandLabel: '80% range (10th–90th percentile of clearance)' } : {}),
      measured: t.curve.observed.map((q, i) => ({ t: q.tH, value: q.mgL, label: `Level ${i + 1}` })),
      doses: curveDoses(r),
    }),
    h('p', { class: 'muted' }, `${origin} The band shows the uncertainty of the estimated clearance only (the curve scaled by the AUC24 percentile ratios).`),
  );
}

const MEASURE_TEXT: Record<string, string> = { crcl: 'Creatinine clearance', egfr: 'eGFR', criteria: 'Dose-reduction criteria' };

/** Kidney-function dose bands: the measure with its formula and the weight used, the label band and its source. */
function renalSection(r: Recommendation): HTMLElement | undefined {
  const k = r.renal;
  if (!k) return undefined;
  const m = k.measure;
  return section(
    'Kidney function',
    'renal-section',
    h(
      'div',
      { 'data-testid': 'renal' },
      m
        ? h('p', {}, h('strong', {}, `${MEASURE_TEXT[m.kind] ?? m.kind}: ${fmt(m.value)} ${m.unit}`), ` — ${m.formula}${m.weight && !m.formula.includes(m.weight) ? `; weight used: ${m.weight}` : ''}.`)
        : h('p', {}, 'No kidney measure could be computed (see the inputs and what is missing).'),
      k.band ? h('p', {}, `Label band: ${k.band.text}${k.band.dailyMg && !k.band.text.includes(`${fmt(k.band.dailyMg[0])}–${fmt(k.band.dailyMg[1])}`) ? ` (${fmt(k.band.dailyMg[0])}–${fmt(k.band.dailyMg[1])} mg/day)` : ''}.`) : undefined,
      h('p', { class: 'muted' }, 'Source: ', k.label.url ? h('a', { href: k.label.url, target: '_blank', rel: 'noopener noreferrer' }, k.label.title) : k.label.title, `, ${k.label.section}.`),
    ),
  );
}

export function renderRecommendation(r: Recommendation, createdAt: string, patient: PatientBanner, onList?: () => void): HTMLElement[] {
  const sev = SEVERITY_TEXT[r.severity] ?? r.severity;
  return [
    renderBanner(patient, r.drug.name),
    h(
      'section',
      { class: `headline ${r.severity}`, 'aria-label': 'Summary' },
      h('p', { class: 'severity' }, h('span', { class: `badge ${r.severity}` }, sev), ` ${capital(r.drug.name)} · ${whenText(createdAt)}`),
      h('h1', { 'data-testid': 'headline' }, capital(r.headline)),
    ),
    doseSection(r),
    glucoseSection(r, section),
    renalSection(r),
    tdmSection(r),
    factorsSection(r),
    genesSection(r, section),
    inputsSection(r, section),
    r.notes.length ? section('Notes', 'notes-section', h('ul', {}, ...r.notes.map((n) => h('li', {}, n)))) : undefined,
    evidenceSection(r),
    h(
      'footer',
      { class: 'actions' },
      h('button', { type: 'button', id: 'print' }, 'Print'),
      onList ? h('button', { type: 'button', id: 'list' }, 'All recommendations for this patient') : undefined,
      h('p', { class: 'muted' }, `Recommendation ${r.id}. Decision support: the prescriber reviews the basis and decides.`),
    ),
  ].filter((x): x is HTMLElement => x !== undefined);
}
