// Plain SVG charts. Every mark carries its value as text (never colour alone) and each chart has a title and a
// description for screen readers. Widths are in viewBox units: the SVG scales to the panel.
import { fmt, h, s, signed } from './dom.js';

/** The frame every plot of the app draws in (SVG units): width, height and the left, top and bottom margins' edges. */
export const PLOT_FRAME = { W: 400, H: 250, L: 44, T: 24, B: 250 - 44 } as const;

let seq = 0;
/** An SVG with role="img", a title and a description; `ariaLabel` (a one-sentence summary) replaces the title as name. */
function labelled(title: string, desc: string, width: number, height: number, ...children: SVGElement[]): SVGElement {
  return labelledAs(title, desc, width, height, undefined, ...children);
}
export function labelledAs(title: string, desc: string, width: number, height: number, ariaLabel: string | undefined, ...children: SVGElement[]): SVGElement {
  const id = `chart-${++seq}`;
  const naming = ariaLabel ? { 'aria-label': ariaLabel, 'aria-describedby': `${id}-d` } : { 'aria-labelledby': `${id}-t ${id}-d` };
  return s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', ...naming, class: 'chart', preserveAspectRatio: 'xMinYMin meet' },
    s('title', { id: `${id}-t` }, title),
    s('desc', { id: `${id}-d` }, desc),
    ...children,
  );
}

/**
 * A row label that fits beside its right-aligned value in the 400-unit-wide charts (about 6.5 units a character at
 * the chart's font size): a trailing parenthetical goes first, then the end of the text (…). The full label stays in
 * the chart's description (and, for doses, in the text beside the chart).
 */
export function fitLabel(label: string, valueText: string, width = 400): string {
  const max = Math.max(12, Math.floor((width - 16) / 6.5) - valueText.length - 2);
  if (label.length <= max) return label;
  const short = label.replace(/\s*\([^()]*\)\s*$/, '');
  if (short.length <= max && short.length > 0) return short;
  return `${short.slice(0, max - 1).trimEnd()}…`;
}

/** A row's label text, shortened to fit beside its value. */
function rowLabel(label: string, valueText: string, y: number): SVGElement {
  return s('text', { x: 0, y, class: 'bar-label' }, fitLabel(label, valueText));
}

export interface FactorBar {
  label: string;
  value: number;
  unit: string;
}

/** Signed horizontal bars around a zero line: what pushes the dose up (right) or down (left). */
export function factorChart(factors: FactorBar[], opts: { title: string; max?: number } = { title: 'Factors' }): HTMLElement {
  const shown = factors.filter((f) => Math.abs(f.value) >= 0.05).sort((a, b) => Math.abs(b.value) - Math.abs(a.value)).slice(0, opts.max ?? 10);
  const rest = factors.filter((f) => !shown.includes(f));
  const bars = rest.length ? [...shown, { label: `${rest.length} other factors together`, value: rest.reduce((a, f) => a + f.value, 0), unit: shown[0]?.unit ?? '' }] : shown;
  const W = 400;
  const rowH = 36;
  const top = 4;
  const axisY = top + bars.length * rowH + 2;
  const H = axisY + 36;
  const step = niceStep(Math.max(...bars.map((b) => Math.abs(b.value)), 1e-9), 2);
  // the scale ends on a round value: the outermost ticks are at its ends
  const maxAbs = Math.ceil(Math.max(...bars.map((b) => Math.abs(b.value)), 1e-9) / step - 1e-9) * step;
  const mid = W / 2;
  const half = W / 2 - 2;
  const unit = bars[0]?.unit ?? '';
  const marks: SVGElement[] = [s('line', { x1: mid, x2: mid, y1: top + 14, y2: axisY, class: 'axis' }), s('line', { x1: mid - half, x2: mid + half, y1: axisY, y2: axisY, class: 'axis' })];
  // the change in dose: round values either side of zero, with their unit
  for (let k = -Math.floor(maxAbs / step + 1e-9); k * step <= maxAbs + 1e-9; k++) {
    const v = k * step;
    const tx = mid + (v / maxAbs) * half;
    const anchor = tx < 30 ? 'start' : tx > W - 30 ? 'end' : 'middle';
    marks.push(
      s('line', { x1: c1(tx), x2: c1(tx), y1: axisY, y2: axisY + 4, class: 'axis' }),
      // the unit on the outermost ticks (inner ones would crowd a 400 px panel)
      s('text', { x: c1(tx), y: axisY + 15, class: 'tick', 'text-anchor': anchor, 'data-value': fmt(v, 2) }, v === 0 ? '0' : Math.abs(v) >= maxAbs - 1e-9 ? `${signed(v, 2)} ${unit}` : signed(v, 2)),
    );
  }
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const w = Math.max((Math.abs(b.value) / maxAbs) * half, 1.5);
    const up = b.value >= 0;
    // label and value on one line (text never overlaps a bar), the bar below: right = raises, left = lowers
    marks.push(
      rowLabel(b.label, `${signed(b.value)} ${b.unit}`, y + 12),
      s('text', { x: W, y: y + 12, class: 'bar-value', 'text-anchor': 'end' }, `${signed(b.value)} ${b.unit}`),
      s('rect', { x: up ? mid : mid - w, y: y + 17, width: w, height: 11, class: up ? 'bar up' : 'bar down' }),
    );
  });
  marks.push(s('text', { x: mid - 4, y: H - 3, class: 'axis-label', 'text-anchor': 'end' }, '← lowers the dose'), s('text', { x: mid + 4, y: H - 3, class: 'axis-label' }, 'raises the dose →'));
  const desc = bars.map((b) => `${b.label}: ${signed(b.value)} ${b.unit}`).join('; ');
  return h('figure', { class: 'factors' }, labelled(opts.title, desc, W, H, ...marks));
}

export interface DoseMark {
  label: string;
  value: number;
  kind: 'proposed' | 'estimate' | 'draft' | 'comparator';
}

/**
 * A dose scale, one row per dose (recommended, estimate, draft order, comparators): the name and value as text on one
 * line, below it the dose's position on a common scale with the prediction interval shaded.
 */
export function doseIntervalChart(o: { unit: string; interval?: { low: number; high: number; level: number }; marks: DoseMark[] }): HTMLElement {
  const values = [...o.marks.map((m) => m.value), ...(o.interval ? [o.interval.low, o.interval.high] : [])];
  const lo = Math.max(0, Math.min(...values) * 0.8);
  const hi = Math.max(...values) * 1.08 || 1;
  const W = 400;
  const L = 6;
  const R = W - 6;
  const x = (v: number) => L + ((v - lo) / (hi - lo)) * (R - L);
  const rowH = 36;
  const head = o.interval ? 34 : 4;
  const axisY = head + o.marks.length * rowH + 6;
  const H = axisY + 22;
  const marks: SVGElement[] = [];
  // the scale's axis: round values with their unit, a faint line through the rows at each
  const step = niceStep(hi - lo, 4);
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + 1e-9; v += step) {
    const tx = x(v);
    const anchor = tx < L + 24 ? 'start' : tx > R - 24 ? 'end' : 'middle';
    marks.push(
      s('line', { x1: c1(tx), x2: c1(tx), y1: head, y2: axisY, class: 'grid' }),
      s('line', { x1: c1(tx), x2: c1(tx), y1: axisY, y2: axisY + 4, class: 'axis' }),
      s('text', { x: c1(tx), y: axisY + 16, class: 'tick', 'text-anchor': anchor, 'data-value': fmt(v, 2) }, `${fmt(v, 2)} ${o.unit}`),
    );
  }
  marks.push(s('line', { x1: L, x2: R, y1: axisY, y2: axisY, class: 'axis' }));
  if (o.interval) {
    const { low, high, level } = o.interval;
    marks.push(
      s('text', { x: 0, y: 12, class: 'bar-label' }, `${Math.round(level * 100)}% prediction interval`),
      s('text', { x: W, y: 12, class: 'bar-value', 'text-anchor': 'end' }, `${fmt(low)}–${fmt(high)} ${o.unit}`),
      s('rect', { x: x(low), y: 17, width: Math.max(x(high) - x(low), 1), height: 11, class: 'band' }),
      // the interval continues as a shaded column behind every row
      s('rect', { x: x(low), y: head, width: Math.max(x(high) - x(low), 1), height: axisY - head, class: 'band faint' }),
    );
  }
  o.marks.forEach((m, i) => {
    const y = head + i * rowH;
    const cx = x(m.value);
    const cy = y + 24;
    const shape =
      m.kind === 'draft'
        ? s('rect', { x: cx - 5, y: cy - 5, width: 10, height: 10, class: `mark ${m.kind}` })
        : m.kind === 'comparator'
          ? s('path', { d: `M${cx} ${cy - 6} L${cx + 6} ${cy} L${cx} ${cy + 6} L${cx - 6} ${cy} Z`, class: `mark ${m.kind}` })
          : s('circle', { cx, cy, r: 5.5, class: `mark ${m.kind}` });
    marks.push(
      rowLabel(m.label, `${fmt(m.value)} ${o.unit}`, y + 13),
      s('text', { x: W, y: y + 13, class: 'bar-value', 'text-anchor': 'end' }, `${fmt(m.value)} ${o.unit}`),
      s('line', { x1: L, x2: R, y1: cy, y2: cy, class: 'track' }),
      shape,
    );
  });
  const desc = [o.interval ? `${Math.round(o.interval.level * 100)}% prediction interval ${fmt(o.interval.low)}–${fmt(o.interval.high)} ${o.unit}` : 'no interval', ...o.marks.map((m) => `${m.label} ${fmt(m.value)} ${o.unit}`)].join('; ');
  return h('figure', { class: 'dose-scale' }, labelled(`Dose in ${o.unit}`, desc, W, H, ...marks));
}

export interface TimePoint {
  /** hours after the reference time (e.g. the first dose) */
  t: number;
  value: number;
}

/** A dose on the time axis: start, infusion duration, amount. */
export interface DoseEvent {
  t: number;
  durationH: number;
  mg: number;
  /** e.g. "Dose 2" or "Loading dose (planned)" */
  label: string;
  planned?: boolean;
}

/** Round tick step: 1, 2, 2.5 or 5 × 10^k, about `n` steps over `span`. */
export function niceStep(span: number, n: number): number {
  const raw = span / Math.max(n, 1);
  const p = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 2.5, 5, 10].map((m) => m * p).find((m) => m >= raw) ?? 10 * p);
}
/** Time steps a clinician reads: 1, 2, 3, 4, 6, 8, 12, 24 h, then whole days. */
function timeStep(span: number, n: number): number {
  const raw = span / Math.max(n, 1);
  return [0.5, 1, 2, 3, 4, 6, 8, 12, 24, 48, 72, 96, 168].find((m) => m >= raw) ?? Math.ceil(raw / 24) * 24;
}
/**
 * The value axis of a plot from 0 to `v1` in `step`s: a grid line at each tick above 0 and the tick's value, the top
 * one with its unit (left-aligned at the chart's edge: "30 mg/L" is wider than the margin). `data-value` = the value.
 */
export function valueTicks(o: { L: number; R: number; y: (v: number) => number; v1: number; step: number; unit: string }): SVGElement[] {
  const out: SVGElement[] = [];
  for (let v = 0; v <= o.v1 + 1e-9; v += o.step) {
    if (v > 0) out.push(s('line', { x1: o.L, x2: o.R, y1: c1(o.y(v)), y2: c1(o.y(v)), class: 'grid' }));
    const top = v + o.step > o.v1 + 1e-9;
    out.push(s('text', { x: top ? 0 : o.L - 5, y: c1(o.y(v) + 4), class: 'tick', 'text-anchor': top ? 'start' : 'end', 'data-value': fmt(v, 2) }, top ? `${fmt(v, 2)} ${o.unit}` : fmt(v, 2)));
  }
  return out;
}

/** SVG coordinate to 0.1 unit. */
export const c1 = (v: number) => String(Math.round(v * 10) / 10);
const pathOf = (pts: [number, number][]) => pts.map(([px, py], i) => `${i ? 'L' : 'M'}${c1(px)} ${c1(py)}`).join(' ');
const finite = (v: number) => Number.isFinite(v);

/**
 * Concentration–time plot (TDM): the model curve, its uncertainty band, measured levels (one marker each), doses
 * (a dashed line at each start, the infusion as a bar on the time axis), optional target range, axes with units and a
 * legend. Everything plotted is also listed as text below, in time order; the SVG has role="img" and an aria-label
 * that summarises the curve.
 */
export function timePlot(o: {
  title: string;
  unit: string;
  timeUnit?: string;
  /** x-axis caption, e.g. "time from the first dose"; the unit is appended */
  timeLabel?: string;
  predicted?: TimePoint[];
  /** what the curve is, for the legend */
  curveLabel?: string;
  band?: { t: number; low: number; high: number }[];
  /** what the band is, for the legend, e.g. "80% range (clearance uncertainty)" */
  bandLabel?: string;
  measured?: (TimePoint & { label?: string })[];
  doses?: DoseEvent[];
  target?: { low: number; high: number };
}): HTMLElement {
  const tu = o.timeUnit ?? 'h';
  const predicted = (o.predicted ?? []).filter((p) => finite(p.t) && finite(p.value));
  const band = (o.band ?? []).filter((b) => finite(b.t) && finite(b.low) && finite(b.high));
  const measured = (o.measured ?? []).filter((p) => finite(p.t) && finite(p.value));
  const doses = (o.doses ?? []).filter((d) => finite(d.t) && finite(d.durationH));
  const { W, H, L, T, B } = PLOT_FRAME;
  const R = W - 12;
  const ts = [...predicted.map((p) => p.t), ...measured.map((p) => p.t), ...band.map((b) => b.t), ...doses.flatMap((d) => [d.t, d.t + d.durationH])];
  const vs = [...predicted.map((p) => p.value), ...measured.map((p) => p.value), ...band.map((b) => b.high), ...(o.target ? [o.target.high] : [])];
  const t0 = Math.min(0, ...ts);
  const tMax = Math.max(t0 + 1, ...ts);
  const xStep = timeStep(tMax - t0, 6);
  const t1 = Math.ceil((tMax - t0) / xStep - 1e-9) * xStep + t0;
  const vMax = Math.max(1, ...vs);
  const yStep = niceStep(vMax, 4);
  const v1 = Math.ceil(vMax / yStep - 1e-9) * yStep;
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (R - L);
  const y = (v: number) => B - (Math.max(0, v) / v1) * (B - T);
  const marks: SVGElement[] = [];
  // grid and ticks
  marks.push(...valueTicks({ L, R, y, v1, step: yStep, unit: o.unit }));
  for (let t = t0; t <= t1 + 1e-9; t += xStep) {
    const last = t + xStep > t1 + 1e-9; // the last tick carries the unit, right-aligned to stay in the panel
    marks.push(s('text', { x: c1(x(t)), y: B + 15, class: 'tick', 'text-anchor': last ? 'end' : 'middle', 'data-value': fmt(t, 1) }, last ? `${fmt(t, 1)} ${tu}` : fmt(t, 1)));
  }
  marks.push(s('line', { x1: L, x2: R, y1: B, y2: B, class: 'axis' }), s('line', { x1: L, x2: L, y1: T, y2: B, class: 'axis' }));
  marks.push(s('text', { x: (L + R) / 2, y: H - 6, class: 'axis-label', 'text-anchor': 'middle' }, `${o.timeLabel ?? 'time'} (${tu})`));
  marks.push(s('text', { x: 2, y: T - 10, class: 'axis-label' }, `concentration (${o.unit})`));
  if (o.target) marks.push(s('rect', { x: L, y: c1(y(o.target.high)), width: R - L, height: c1(Math.max(y(o.target.low) - y(o.target.high), 1)), class: 'target' }));
  if (band.length > 1) {
    const up = band.map((b): [number, number] => [x(b.t), y(b.high)]);
    const down = [...band].reverse().map((b): [number, number] => [x(b.t), y(b.low)]);
    marks.push(s('path', { d: `${pathOf([...up, ...down])} Z`, class: 'band' }));
  }
  // doses: the start as a dashed line, the infusion as a bar on the time axis
  for (const d of doses) {
    marks.push(
      s(
        'g',
        { class: d.planned ? 'dose-mark planned' : 'dose-mark' },
        s('title', {}, `${d.label}: ${fmt(d.mg)} mg at ${fmt(d.t)} ${tu} over ${fmt(d.durationH, 2)} ${tu}`),
        s('line', { x1: c1(x(d.t)), x2: c1(x(d.t)), y1: T, y2: B, class: 'dose-line' }),
        s('rect', { x: c1(x(d.t)), y: B - 7, width: c1(Math.max(x(d.t + d.durationH) - x(d.t), 2)), height: 7, class: 'dose-bar' }),
      ),
    );
  }
  if (predicted.length > 1) marks.push(s('path', { d: pathOf(predicted.map((p) => [x(p.t), y(p.value)])), class: 'curve' }));
  for (const m of measured) marks.push(s('circle', { cx: c1(x(m.t)), cy: c1(y(m.value)), r: 4.5, class: 'mark measured' }, s('title', {}, `${m.label ?? 'Level'}: ${fmt(m.value)} ${o.unit} at ${fmt(m.t)} ${tu}`)));

  const peak = predicted.reduce<TimePoint | undefined>((a, p) => (!a || p.value > a.value ? p : a), undefined);
  const summary = [
    `${o.title}: ${o.unit} against ${tu}`,
    predicted.length > 1 ? `model curve from ${fmt(t0)} to ${fmt(tMax)} ${tu}${peak ? `, highest ${fmt(peak.value)} ${o.unit} at ${fmt(peak.t)} ${tu}` : ''}` : 'no model curve',
    band.length > 1 ? (o.bandLabel ?? 'uncertainty band') : '',
    `${measured.length} measured level${measured.length === 1 ? '' : 's'}${measured.length ? ` (${measured.map((m) => `${fmt(m.value)} ${o.unit} at ${fmt(m.t)} ${tu}`).join(', ')})` : ''}`,
    `${doses.length} dose${doses.length === 1 ? '' : 's'}${doses.length ? ` (${doses.map((d) => `${fmt(d.mg)} mg at ${fmt(d.t)} ${tu}`).join(', ')})` : ''}`,
  ]
    .filter(Boolean)
    .join('; ');
  const events = [
    ...doses.map((d) => ({ t: d.t, text: `${d.label}: ${fmt(d.mg)} mg at ${fmt(d.t)} ${tu} (infusion ${fmt(d.durationH, 2)} ${tu})`, cls: 'event-dose' })),
    ...measured.map((m) => ({ t: m.t, text: `${m.label ?? 'Level'}: ${fmt(m.value)} ${o.unit} at ${fmt(m.t)} ${tu}`, cls: 'event-level' })),
  ].sort((a, b) => a.t - b.t);
  const swatch = (...children: SVGElement[]) => s('svg', { viewBox: '0 0 24 12', width: 24, height: 12, 'aria-hidden': 'true', class: 'swatch' }, ...children);
  const legend = h(
    'ul',
    { class: 'legend' },
    predicted.length > 1 ? h('li', {}, swatch(s('path', { d: 'M1 9 L8 3 L16 6 L23 4', class: 'curve' })), o.curveLabel ?? 'model curve') : undefined,
    band.length > 1 ? h('li', {}, swatch(s('rect', { x: 1, y: 1, width: 22, height: 10, class: 'band' })), o.bandLabel ?? 'uncertainty band') : undefined,
    measured.length ? h('li', {}, swatch(s('circle', { cx: 12, cy: 6, r: 4.5, class: 'mark measured' })), 'measured level') : undefined,
    doses.length ? h('li', {}, swatch(s('line', { x1: 6, x2: 6, y1: 0, y2: 12, class: 'dose-line' }), s('rect', { x: 6, y: 8, width: 12, height: 4, class: 'dose-bar' })), doses.every((d) => d.planned) ? 'planned dose (infusion)' : 'dose given (infusion)') : undefined,
    o.target ? h('li', {}, swatch(s('rect', { x: 1, y: 1, width: 22, height: 10, class: 'target' })), `target ${fmt(o.target.low)}–${fmt(o.target.high)} ${o.unit}`) : undefined,
  );
  const list = events.length ? h('ul', { class: 'levels' }, ...events.map((e) => h('li', { class: e.cls }, e.text))) : undefined;
  return h('figure', { class: 'time-plot', 'data-testid': 'time-plot' }, labelledAs(o.title, events.map((e) => e.text).join('; ') || summary, W, H, summary, ...marks), legend, list);
}
