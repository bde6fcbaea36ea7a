// Basal insulin titration (src/dosing/insulin): the readings that decided the step. A small plot — fasting glucose per
// day (points), the target band, the 70 and 54 mg/dL lines, the lows — the step in words, the time below range against
// its consensus targets, and the same numbers as a table (a screen reader and a printout get them). A refused
// titration shows its reason instead of an empty plot. See docs/insulin.md ("SMART app").
import type { InsulinDetail, Recommendation } from '../../src/domain/recommendation.js';
import { c1, labelledAs, niceStep, PLOT_FRAME, valueTicks } from './charts.js';
import { fmt, h, s } from './dom.js';

type Section = (title: string, cls: string, ...children: (Node | string | false | undefined)[]) => HTMLElement;

/** the method id of knowledge/insulin.json: a refusal of it carries no detail, only its reason */
const METHOD_ID = 'ada-basal-titration';
const LEVEL1 = 70;
const LEVEL2 = 54;

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * An instant as local date and time: in the zone the service used for readings sent in UTC; else in the UTC offset the
 * source wrote (`sourceDate`, e.g. the lowest reading of a low: "2026-12-06 02:00 (UTC−05:00)"); else marked UTC.
 */
function localText(iso: string, zone: string | undefined, sourceDate?: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const utc = `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`;
  if (zone) {
    try {
      const p = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).formatToParts(d).map((x) => [x.type, x.value]));
      return `${p['year']}-${p['month']}-${p['day']} ${pad(Number(p['hour']))}:${p['minute']}`;
    } catch {
      return utc;
    }
  }
  const m = /([+-])(\d\d):(\d\d)$/.exec(sourceDate ?? '');
  if (!m || (m[2] === '00' && m[3] === '00')) return utc;
  const off = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  const local = new Date(d.getTime() + off * 60_000).toISOString();
  return `${local.slice(0, 10)} ${local.slice(11, 16)} (UTC${m[1] === '-' ? '−' : '+'}${m[2]}:${m[3]})`;
}

/** The step in words: "raise 20 → 22 units: mean fasting 165 mg/dL above 80–130 mg/dL with no low". */
export function stepWords(d: InsulinDetail): string {
  const range = `${d.target.low}–${d.target.high} mg/dL`;
  const mean = `mean fasting ${fmt(d.meanFastingMgDl, 0)} mg/dL`;
  const lowest = d.lows.reduce<number | undefined>((m, l) => (m === undefined || l.lowestMgDl < m ? l.lowestMgDl : m), undefined);
  switch (d.step) {
    case 'raise':
      return `Raise ${fmt(d.currentUnits, 2)} → ${fmt(d.proposedUnits ?? NaN, 2)} units: ${mean} above ${range} with no low.`;
    case 'lower': {
      // a level 2 episode is also a level 1 episode (below 70 includes below 54): counted per level
      const n1 = d.lows.filter((l) => l.level === 1).length;
      const n2 = d.lows.filter((l) => l.level === 2).length;
      const episodes = (n: number) => `${n} episode${n === 1 ? '' : 's'}`;
      return `Lower ${fmt(d.currentUnits, 2)} → ${fmt(d.proposedUnits ?? NaN, 2)} units: hypoglycaemia in the last 3 days — ${episodes(n1)} below ${LEVEL1} mg/dL, ${n2} below ${LEVEL2} mg/dL; lowest ${fmt(lowest ?? NaN, 0)} mg/dL.`;
    }
    case 'hold':
      return `Do not increase ${fmt(d.currentUnits, 2)} units: ${d.because}.`;
    case 'wait':
      return `Keep ${fmt(d.currentUnits, 2)} units for now: ${d.because}.`;
    default:
      return `Keep ${fmt(d.currentUnits, 2)} units: ${mean} within ${range} with no low.`;
  }
}

/** The time below range against the consensus targets (Battelino 2019), one line each. */
function tbrLines(d: InsulinDetail): string[] {
  const t = d.tbr;
  if (!t) return ['No CGM time below range: no CGM readings (meter readings only).'];
  const met = (v: number, target: number) => (v < target ? 'target met' : 'target not met');
  return [
    `Time below range (CGM, ${fmt(t.days)} days, ${t.readings} readings):`,
    `${fmt(t.below70)}% below ${LEVEL1} mg/dL — consensus target < ${t.target70}% (${met(t.below70, t.target70)})`,
    `${fmt(t.below54)}% below ${LEVEL2} mg/dL — consensus target < ${t.target54}% (${met(t.below54, t.target54)})`,
  ];
}

function zoneLine(d: InsulinDetail): string {
  const z = d.timeZone;
  const ignored = z?.invalid !== undefined ? ` The patient's time zone "${z.invalid}" is not an IANA name and was ignored.` : '';
  if (z?.zone) return `Local times: ${z.zone} (${z.from === 'patient' ? "the patient's time zone" : 'the configured default: the record names none'}) for readings sent in UTC; a reading with its own UTC offset keeps it.${ignored}`;
  if (z && z.utcReadings > 0) return `Readings sent in UTC are shown and used at their UTC clock time: no patient time zone is known, so the 04:00–08:00 window may not be the patient's morning.${ignored}`;
  return `Local times as each reading's device recorded them (its own UTC offset).${ignored}`;
}

/** The plot: x = the instant of each reading (ticks at the fasting readings, labelled with their local date), y = mg/dL. */
function glucosePlot(d: InsulinDetail): SVGElement {
  const zone = d.timeZone?.zone;
  const pts = d.fasting.map((f) => ({ f, t: Date.parse(f.source.date ?? ''), v: f.mgDl })).filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
  const lows = d.lows.map((l) => ({ l, t: Date.parse(l.start), v: l.lowestMgDl })).filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
  const { W, H, L, T, B } = PLOT_FRAME;
  const R = W - 14;
  const ts = [...pts.map((p) => p.t), ...lows.map((p) => p.t)];
  const t0 = Math.min(...ts) - 12 * 3600_000;
  const t1 = Math.max(...ts) + 12 * 3600_000;
  const vMax = Math.max(d.target.high + 20, ...pts.map((p) => p.v), ...lows.map((p) => p.v));
  const step = niceStep(vMax, 4);
  const v1 = Math.ceil(vMax / step - 1e-9) * step;
  const x = (t: number) => L + ((t - t0) / Math.max(t1 - t0, 1)) * (R - L);
  const y = (v: number) => B - (Math.max(0, v) / v1) * (B - T);
  const marks: SVGElement[] = [];
  // the target band under everything, then the value axis, the hypoglycaemia lines
  marks.push(s('rect', { x: L, y: c1(y(d.target.high)), width: R - L, height: c1(y(d.target.low) - y(d.target.high)), class: 'target', 'data-low': d.target.low, 'data-high': d.target.high }));
  marks.push(...valueTicks({ L, R, y, v1, step, unit: 'mg/dL' }));
  for (const [v, cls, label] of [[LEVEL1, 'threshold level1', `${LEVEL1} (level 1)`], [LEVEL2, 'threshold level2', `${LEVEL2} (level 2)`]] as const) {
    marks.push(s('line', { x1: L, x2: R, y1: c1(y(v)), y2: c1(y(v)), class: cls, 'data-value': v }));
    marks.push(s('text', { x: R, y: c1(y(v) - 3), class: 'band-label', 'text-anchor': 'end' }, `< ${label}`));
  }
  // the date axis: one tick per fasting value, its local date
  pts.forEach((p, i) => {
    const last = i === pts.length - 1 && pts.length > 1;
    marks.push(
      s('line', { x1: c1(x(p.t)), x2: c1(x(p.t)), y1: B, y2: B + 4, class: 'axis' }),
      s('text', { x: c1(x(p.t)), y: B + 15, class: 'tick date-tick', 'text-anchor': last && x(p.t) > R - 20 ? 'end' : 'middle', 'data-value': p.f.localDate }, p.f.localDate.slice(5)),
    );
  });
  marks.push(s('line', { x1: L, x2: R, y1: B, y2: B, class: 'axis' }), s('line', { x1: L, x2: L, y1: T, y2: B, class: 'axis' }));
  marks.push(s('text', { x: (L + R) / 2, y: H - 6, class: 'axis-label', 'text-anchor': 'middle' }, `date of the fasting reading (MM-DD, ${zone ?? 'local time as recorded'})`));
  marks.push(s('text', { x: 2, y: T - 10, class: 'axis-label' }, 'fasting glucose (mg/dL)'));
  for (const p of pts) {
    const sent = p.f.sent.unit === 'mmol/L' ? ` (sent as ${fmt(p.f.sent.value, 2)} mmol/L)` : '';
    marks.push(s('circle', { cx: c1(x(p.t)), cy: c1(y(p.v)), r: 5, class: 'mark fasting', 'data-mgdl': fmt(p.v, 0), 'data-date': p.f.localDate }, s('title', {}, `Fasting ${p.f.localDate} ${p.f.localTime}: ${fmt(p.v, 0)} mg/dL${sent}`)));
  }
  for (const p of lows) {
    const cx = x(p.t);
    const cy = y(p.v);
    marks.push(
      s('path', { d: `M${c1(cx)} ${c1(cy + 6)} L${c1(cx + 6)} ${c1(cy - 5)} L${c1(cx - 6)} ${c1(cy - 5)} Z`, class: `mark low level${p.l.level}`, 'data-mgdl': fmt(p.v, 0) }, s('title', {}, `Low, level ${p.l.level}: ${fmt(p.v, 0)} mg/dL at ${localText(p.l.start, zone, p.l.source.date)}${p.l.minutes ? `, ${p.l.minutes} min` : ''}`)),
    );
  }
  const title = `Fasting glucose per day (mg/dL), target ${d.target.low}–${d.target.high} mg/dL`;
  const desc = [
    `${pts.length} fasting value${pts.length === 1 ? '' : 's'}: ${pts.map((p) => `${p.f.localDate} ${fmt(p.v, 0)} mg/dL`).join(', ')}`,
    `mean ${fmt(d.meanFastingMgDl, 0)} mg/dL`,
    `target band ${d.target.low}–${d.target.high} mg/dL; lines at ${LEVEL1} and ${LEVEL2} mg/dL`,
    lows.length ? `${lows.length} low${lows.length === 1 ? '' : 's'}: ${lows.map((p) => `level ${p.l.level} ${fmt(p.v, 0)} mg/dL at ${localText(p.l.start, zone, p.l.source.date)}`).join(', ')}` : 'no lows',
  ].join('; ');
  return labelledAs(title, desc, W, H, undefined, ...marks);
}

function legend(d: InsulinDetail): HTMLElement {
  const swatch = (...children: SVGElement[]) => s('svg', { viewBox: '0 0 24 12', width: 24, height: 12, 'aria-hidden': 'true', class: 'swatch' }, ...children);
  return h(
    'ul',
    { class: 'legend' },
    h('li', {}, swatch(s('circle', { cx: 12, cy: 6, r: 4.5, class: 'mark fasting' })), 'fasting value (lowest 04:00–08:00)'),
    d.lows.length ? h('li', {}, swatch(s('path', { d: 'M12 11 L18 1 L6 1 Z', class: 'mark low level1' })), 'low (lowest reading of the episode)') : undefined,
    h('li', {}, swatch(s('rect', { x: 1, y: 1, width: 22, height: 10, class: 'target' })), `goal ${d.target.low}–${d.target.high} mg/dL`),
    h('li', {}, swatch(s('line', { x1: 0, x2: 24, y1: 6, y2: 6, class: 'threshold level1' })), `${LEVEL1} and ${LEVEL2} mg/dL (hypoglycaemia levels 1 and 2)`),
  );
}

/** The plotted numbers as a table: each fasting value (with the value as sent when it was mmol/L), each low, the mean. */
function readingsTable(d: InsulinDetail): HTMLElement {
  const zone = d.timeZone?.zone;
  const th = (t: string) => h('th', { scope: 'col' }, t);
  const rows = [
    ...d.fasting.map((f) =>
      h(
        'tr',
        { 'data-testid': 'fasting-row', 'data-date': f.localDate },
        h('th', { scope: 'row' }, `Fasting ${f.localDate}`),
        h('td', { class: 'time' }, f.localTime),
        h('td', { class: 'value', 'data-mgdl': fmt(f.mgDl, 0) }, `${fmt(f.mgDl, 0)} mg/dL`),
        f.sent.unit === 'mmol/L' ? h('td', { class: 'sent' }, `sent as ${fmt(f.sent.value, 2)} mmol/L`) : h('td', { class: 'sent none' }, '—'),
        h('td', { class: 'source' }, h('code', {}, f.source.reference), f.source.device?.label ? ` (${f.source.device.label})` : ''),
      ),
    ),
    ...d.lows.map((l) =>
      h(
        'tr',
        { 'data-testid': 'low-row', class: `low level${l.level}` },
        h('th', { scope: 'row' }, `Low, level ${l.level}${l.minutes ? ` (${l.minutes} min)` : ''}`),
        h('td', { class: 'time' }, localText(l.start, zone, l.source.date)),
        h('td', { class: 'value', 'data-mgdl': fmt(l.lowestMgDl, 0) }, `${fmt(l.lowestMgDl, 0)} mg/dL`),
        h('td', { class: 'sent none' }, '—'),
        h('td', { class: 'source' }, h('code', {}, l.source.reference)),
      ),
    ),
  ];
  return h(
    'table',
    { class: 'glucose', 'data-testid': 'glucose-table' },
    h('caption', {}, `The plotted readings: fasting value per day and lows (times: ${zone ?? 'as recorded'})`),
    h('thead', {}, h('tr', {}, th('Reading'), th('Time'), th('Glucose'), th('As sent'), th('Source'))),
    h('tbody', {}, ...rows),
    h('tfoot', {}, h('tr', {}, h('th', { scope: 'row' }, `Mean fasting (${d.fasting.length} days)`), h('td', {}, ''), h('td', { class: 'value', 'data-testid': 'mean-fasting' }, `${fmt(d.meanFastingMgDl, 0)} mg/dL`), h('td', {}, ''), h('td', {}, `goal ${d.target.low}–${d.target.high} mg/dL`))),
  );
}

/** The glucose section of an insulin titration, or of its refusal; undefined for any other recommendation. */
export function glucoseSection(r: Recommendation, section: Section): HTMLElement | undefined {
  const d = r.insulin;
  if (!d) {
    if (r.method.id !== METHOD_ID) return undefined;
    // refused (too sparse, unknown unit, pump…): the reason, never an empty plot
    return section(
      'Glucose readings',
      'glucose-section',
      h('p', { class: 'refused', 'data-testid': 'glucose-refused' }, `No titration step proposed: ${r.missing[0] ?? 'the data do not allow one'}.`),
      h('p', { class: 'muted' }, 'No plot is shown: the readings on file do not give the fasting values the algorithm needs. The inputs below say what was read.'),
    );
  }
  if (d.fasting.length === 0) return section('Glucose readings', 'glucose-section', h('p', { 'data-testid': 'glucose-step' }, stepWords(d)), h('p', { class: 'muted' }, 'No fasting values to plot.'));
  return section(
    'Glucose readings',
    'glucose-section',
    h('p', { class: 'dose', 'data-testid': 'glucose-step' }, stepWords(d)),
    h('figure', { class: 'glucose-plot', 'data-testid': 'glucose-plot' }, glucosePlot(d), legend(d)),
    h('ul', { class: 'tbr', 'data-testid': 'tbr' }, ...tbrLines(d).map((l) => h('li', {}, l))),
    h('p', { class: 'muted', 'data-testid': 'glucose-zone' }, zoneLine(d)),
    readingsTable(d),
  );
}
