/**
 * A line chart of one or more series against a shared x axis, each series on the left or the
 * right y axis: throughput (left) and latency (right) against concurrency, say. `sluice tune`
 * draws its measurements with it.
 */
import { el, escapeXml, formatNumber, niceTicks, svgDocument, text, textWidth } from './svg.js';

export interface LineSeries {
  name: string;
  /** One value per x value; undefined or NaN leaves a gap (the point was not measured). */
  values: readonly (number | undefined)[];
  /** Which y axis the series is read against. @default 'left' */
  axis?: 'left' | 'right';
  color?: string;
}

export interface LineAxis {
  /** Axis title, with its unit: `throughput (items/s)`. */
  label: string;
}

export interface LineChartSpec {
  title: string;
  subtitle?: string;
  x: {
    label: string;
    /** Increasing x values, shared by every series. */
    values: readonly number[];
    /** `'log'` spreads doubling steps (1, 2, 4 ... 256) evenly. @default 'linear' */
    scale?: 'linear' | 'log';
  };
  left: LineAxis;
  /** Needed when any series uses `axis: 'right'`. */
  right?: LineAxis;
  series: readonly LineSeries[];
  /** @default 720 */
  width?: number;
  /** @default 400 */
  height?: number;
}

const palette = ['#0969da', '#cf222e', '#1a7f37', '#9a6700', '#8250df'];
const margin = { top: 78, right: 72, bottom: 56, left: 72 };

/** The chart as a standalone SVG document. */
export function lineChart(spec: LineChartSpec): string {
  // Wide enough for the title, whatever was asked.
  const width = Math.max(spec.width ?? 720, textWidth(spec.title, 16.5) + 32);
  const height = spec.height ?? 400;
  const plotWidth = width - margin.left - margin.right;
  const plotHeight = height - margin.top - margin.bottom;
  const xs = spec.x.values;
  const log = spec.x.scale === 'log' && xs.every((x) => x > 0);
  const xOf = xScale(xs, plotWidth, log);
  const axisMax = (axis: 'left' | 'right'): number =>
    Math.max(
      0,
      ...spec.series
        .filter((s) => (s.axis ?? 'left') === axis)
        .flatMap((s) => s.values.filter((v): v is number => v !== undefined && Number.isFinite(v))),
    );
  const leftTicks = niceTicks(axisMax('left'));
  const rightTicks = niceTicks(axisMax('right'), leftTicks.length - 1);
  const yOf = (value: number, ticks: number[]): number =>
    margin.top + plotHeight - (value / (ticks.at(-1) as number)) * plotHeight;

  let body = text(spec.title, { x: 16, y: 26, class: 'title' });
  if (spec.subtitle !== undefined) body += text(spec.subtitle, { x: 16, y: 46, class: 'subtitle' });
  const bottom = margin.top + plotHeight;
  for (const tick of leftTicks) {
    const y = yOf(tick, leftTicks);
    body += el('line', { x1: margin.left, y1: y, x2: margin.left + plotWidth, y2: y, class: 'grid' });
    body += text(formatNumber(tick), { x: margin.left - 6, y: y + 4, class: 'tick', 'text-anchor': 'end' });
  }
  if (spec.right !== undefined) {
    for (const tick of rightTicks) {
      const y = yOf(tick, rightTicks);
      body += text(formatNumber(tick), { x: margin.left + plotWidth + 6, y: y + 4, class: 'tick' });
    }
  }
  for (const x of xs) {
    const px = margin.left + xOf(x);
    body += el('line', { x1: px, y1: bottom, x2: px, y2: bottom + 4, class: 'axis' });
    body += text(formatNumber(x), { x: px, y: bottom + 17, class: 'tick', 'text-anchor': 'middle' });
  }
  body += el('line', { x1: margin.left, y1: bottom, x2: margin.left + plotWidth, y2: bottom, class: 'axis' });
  body += text(spec.x.label, {
    x: margin.left + plotWidth / 2,
    y: bottom + 38,
    class: 'label',
    'text-anchor': 'middle',
  });
  body += axisTitle(spec.left.label, 18, margin.top + plotHeight / 2);
  if (spec.right !== undefined) body += axisTitle(spec.right.label, width - 14, margin.top + plotHeight / 2);

  let legendX = 16;
  spec.series.forEach((series, i) => {
    const color = series.color ?? (palette[i % palette.length] as string);
    const ticks = (series.axis ?? 'left') === 'right' ? rightTicks : leftTicks;
    body += el(
      'g',
      { class: 'series', 'data-name': series.name, 'data-axis': series.axis ?? 'left' },
      seriesMarkup(
        series,
        xs,
        (x) => margin.left + xOf(x),
        (v) => yOf(v, ticks),
        color,
      ),
    );
    body += el('line', { x1: legendX, y1: 62, x2: legendX + 22, y2: 62, stroke: color, 'stroke-width': 2.5 });
    body += text(series.name, { x: legendX + 28, y: 66, class: 'label' });
    legendX += 28 + textWidth(series.name, 12) + 24;
  });
  return svgDocument(width, height, spec.title, body);
}

/** Pixel offset of each x value inside the plot, linear or logarithmic, with half a step of air at each end. */
function xScale(xs: readonly number[], plotWidth: number, log: boolean): (x: number) => number {
  const f = log ? Math.log : (x: number) => x;
  const lo = f(xs[0] ?? 0);
  const hi = f(xs.at(-1) ?? 1);
  if (xs.length < 2 || hi === lo) return () => plotWidth / 2;
  const pad = (hi - lo) / (2 * (xs.length - 1)) / 2;
  return (x) => ((f(x) - lo + pad) / (hi - lo + 2 * pad)) * plotWidth;
}

/** Polylines through the measured points (split at gaps), and a dot on each. */
function seriesMarkup(
  series: LineSeries,
  xs: readonly number[],
  px: (x: number) => number,
  py: (v: number) => number,
  color: string,
): string {
  let markup = '';
  let run: string[] = [];
  const flush = (): void => {
    if (run.length > 1)
      markup += el('polyline', { points: run.join(' '), fill: 'none', stroke: color, 'stroke-width': 2.5 });
    run = [];
  };
  xs.forEach((x, i) => {
    const value = series.values[i];
    if (value === undefined || !Number.isFinite(value)) return flush();
    const point = `${Math.round(px(x) * 100) / 100},${Math.round(py(value) * 100) / 100}`;
    run.push(point);
    markup += el(
      'circle',
      { cx: px(x), cy: py(value), r: 3.5, fill: color },
      el('title', {}, escapeXml(`${series.name} at ${formatNumber(x)}: ${formatNumber(value)}`)),
    );
  });
  flush();
  return markup;
}

/** A y-axis title, turned to run along the axis. */
function axisTitle(label: string, x: number, y: number): string {
  return text(label, { x, y, class: 'label', 'text-anchor': 'middle', transform: `rotate(-90 ${x} ${y})` });
}
