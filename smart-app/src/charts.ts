// Plain SVG charts. Every mark carries its value as text (never colour alone) and each chart has a title and a
// description for screen readers. Widths are in viewBox units: the SVG scales to the panel.
import { fmt, h, s, signed } from './dom.js';

let seq = 0;
function labelled(title: string, desc: string, width: number, height: number, ...children: SVGElement[]): SVGElement {
  const id = `chart-${++seq}`;
  return s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, width: '100%', role: 'img', 'aria-labelledby': `${id}-t ${id}-d`, class: 'chart', preserveAspectRatio: 'xMinYMin meet' },
    s('title', { id: `${id}-t` }, title),
    s('desc', { id: `${id}-d` }, desc),
    ...children,
  );
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
  const H = top + bars.length * rowH + 18;
  const maxAbs = Math.max(...bars.map((b) => Math.abs(b.value)), 1e-9);
  const mid = W / 2;
  const half = W / 2 - 2;
  const marks: SVGElement[] = [s('line', { x1: mid, x2: mid, y1: top + 14, y2: H - 16, class: 'axis' })];
  bars.forEach((b, i) => {
    const y = top + i * rowH;
    const w = Math.max((Math.abs(b.value) / maxAbs) * half, 1.5);
    const up = b.value >= 0;
    // label and value on one line (text never overlaps a bar), the bar below: right = raises, left = lowers
    marks.push(
      s('text', { x: 0, y: y + 12, class: 'bar-label' }, b.label),
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
  const H = head + o.marks.length * rowH + 4;
  const marks: SVGElement[] = [];
  if (o.interval) {
    const { low, high, level } = o.interval;
    marks.push(
      s('text', { x: 0, y: 12, class: 'bar-label' }, `${Math.round(level * 100)}% prediction interval`),
      s('text', { x: W, y: 12, class: 'bar-value', 'text-anchor': 'end' }, `${fmt(low)}–${fmt(high)} ${o.unit}`),
      s('rect', { x: x(low), y: 17, width: Math.max(x(high) - x(low), 1), height: 11, class: 'band' }),
      // the interval continues as a shaded column behind every row
      s('rect', { x: x(low), y: head, width: Math.max(x(high) - x(low), 1), height: H - head - 4, class: 'band faint' }),
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
      s('text', { x: 0, y: y + 13, class: 'bar-label' }, m.label),
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

/**
 * Concentration–time plot, ready for drug levels (TDM): a predicted curve with an optional band, measured levels as
 * points, and a target range. Axes are labelled with units; each measured level is also listed as text.
 */
export function timePlot(o: {
  title: string;
  unit: string;
  timeUnit?: string;
  predicted?: TimePoint[];
  band?: { t: number; low: number; high: number }[];
  measured?: (TimePoint & { label?: string })[];
  target?: { low: number; high: number };
}): HTMLElement {
  const W = 360;
  const H = 200;
  const L = 40;
  const B = H - 28;
  const T = 8;
  const R = W - 8;
  const pts = [...(o.predicted ?? []), ...(o.measured ?? [])];
  const ts = [...pts.map((p) => p.t), ...(o.band ?? []).map((b) => b.t)];
  const vs = [...pts.map((p) => p.value), ...(o.band ?? []).flatMap((b) => [b.low, b.high]), ...(o.target ? [o.target.low, o.target.high] : [])];
  const t0 = Math.min(0, ...ts);
  const t1 = Math.max(...ts, 1);
  const v1 = Math.max(...vs, 1) * 1.1;
  const x = (t: number) => L + ((t - t0) / (t1 - t0)) * (R - L);
  const y = (v: number) => B - (v / v1) * (B - T);
  const marks: SVGElement[] = [s('line', { x1: L, x2: R, y1: B, y2: B, class: 'axis' }), s('line', { x1: L, x2: L, y1: T, y2: B, class: 'axis' })];
  for (const v of [0, v1 / 2, v1 / 1.1]) marks.push(s('text', { x: L - 4, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, fmt(v)));
  for (const t of [t0, (t0 + t1) / 2, t1]) marks.push(s('text', { x: x(t), y: B + 14, class: 'tick', 'text-anchor': 'middle' }, fmt(t, 0)));
  marks.push(s('text', { x: (L + R) / 2, y: H - 2, class: 'axis-label', 'text-anchor': 'middle' }, `time (${o.timeUnit ?? 'h'})`));
  marks.push(s('text', { x: 2, y: T + 8, class: 'axis-label' }, o.unit));
  if (o.target) marks.push(s('rect', { x: L, y: y(o.target.high), width: R - L, height: Math.max(y(o.target.low) - y(o.target.high), 1), class: 'target' }));
  if (o.band?.length) {
    const up = o.band.map((b) => `${x(b.t)},${y(b.high)}`);
    const down = [...o.band].reverse().map((b) => `${x(b.t)},${y(b.low)}`);
    marks.push(s('polygon', { points: [...up, ...down].join(' '), class: 'band' }));
  }
  if (o.predicted?.length) marks.push(s('polyline', { points: o.predicted.map((p) => `${x(p.t)},${y(p.value)}`).join(' '), class: 'curve' }));
  for (const m of o.measured ?? []) marks.push(s('circle', { cx: x(m.t), cy: y(m.value), r: 4, class: 'mark measured' }));
  const desc = [o.target ? `target ${fmt(o.target.low)}–${fmt(o.target.high)} ${o.unit}` : '', ...(o.measured ?? []).map((m) => `${m.label ?? 'level'} at ${fmt(m.t)} ${o.timeUnit ?? 'h'}: ${fmt(m.value)} ${o.unit}`)].filter(Boolean).join('; ');
  const list = (o.measured ?? []).length ? h('ul', { class: 'levels' }, ...(o.measured ?? []).map((m) => h('li', {}, `${m.label ?? 'Level'} at ${fmt(m.t)} ${o.timeUnit ?? 'h'}: ${fmt(m.value)} ${o.unit}`))) : undefined;
  return h('figure', { class: 'time-plot' }, labelled(o.title, desc || o.title, W, H, ...marks), list);
}
