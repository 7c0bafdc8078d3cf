/**
 * A horizontal bar chart: one bar per labelled value, the value and an optional note (a speed-up,
 * say) printed at the bar's end. `sluice lab` draws one per workload.
 */
import { el, escapeXml, formatNumber, niceTicks, svgDocument, text, textWidth } from './svg.js';

export interface Bar {
  label: string;
  value: number;
  /** Printed after the value, e.g. `12.4x`. */
  note?: string;
  /** Fill colour; the chart's default otherwise. */
  color?: string;
}

export interface BarChartSpec {
  title: string;
  /** A second line under the title: what was run, on what. */
  subtitle?: string;
  /** Unit of the values, shown after each value and under the axis (`s`, `req/s`). */
  unit: string;
  bars: readonly Bar[];
  /** @default 720 */
  width?: number;
}

const barHeight = 26;
const gap = 10;
const top = 64;
const palette = ['#0969da', '#1a7f37', '#9a6700', '#8250df', '#cf222e', '#1b7c83'];

/** The chart as a standalone SVG document. Bars with NaN or negative values are drawn empty. */
export function barChart(spec: BarChartSpec): string {
  // Wide enough for the title, whatever was asked.
  const width = Math.max(spec.width ?? 720, textWidth(spec.title, 16.5) + 32);
  const labelWidth = Math.max(80, ...spec.bars.map((b) => textWidth(b.label, 12))) + 16;
  const valueText = (b: Bar): string =>
    `${formatNumber(b.value)} ${spec.unit}${b.note === undefined ? '' : `  ${b.note}`}`;
  const valueWidth = Math.max(60, ...spec.bars.map((b) => textWidth(valueText(b), 12))) + 12;
  const plotLeft = labelWidth;
  const plotWidth = Math.max(120, width - plotLeft - valueWidth - 16);
  const plotHeight = spec.bars.length * (barHeight + gap);
  const height = top + plotHeight + 44;
  const values = spec.bars.map((b) => (Number.isFinite(b.value) && b.value > 0 ? b.value : 0));
  const ticks = niceTicks(Math.max(0, ...values));
  const scale = plotWidth / (ticks.at(-1) as number);

  let body = text(spec.title, { x: 16, y: 26, class: 'title' });
  if (spec.subtitle !== undefined) body += text(spec.subtitle, { x: 16, y: 46, class: 'subtitle' });
  for (const tick of ticks) {
    const x = plotLeft + tick * scale;
    body += el('line', { x1: x, y1: top - 4, x2: x, y2: top + plotHeight, class: 'grid' });
    body += text(formatNumber(tick), { x, y: top + plotHeight + 16, class: 'tick', 'text-anchor': 'middle' });
  }
  body += text(spec.unit, {
    x: plotLeft + plotWidth / 2,
    y: top + plotHeight + 34,
    class: 'tick',
    'text-anchor': 'middle',
  });
  spec.bars.forEach((bar, i) => {
    const y = top + i * (barHeight + gap);
    const w = (values[i] as number) * scale;
    body += text(bar.label, {
      x: plotLeft - 8,
      y: y + barHeight / 2 + 4,
      class: 'label',
      'text-anchor': 'end',
    });
    body += el(
      'rect',
      {
        class: 'bar',
        x: plotLeft,
        y,
        width: w,
        height: barHeight,
        rx: 3,
        fill: bar.color ?? palette[i % palette.length],
        'data-label': bar.label,
        'data-value': bar.value,
      },
      // A tooltip in browsers.
      el('title', {}, escapeXml(`${bar.label}: ${valueText(bar)}`)),
    );
    body += text(valueText(bar), { x: plotLeft + w + 6, y: y + barHeight / 2 + 4, class: 'label' });
  });
  body += el('line', { x1: plotLeft, y1: top - 4, x2: plotLeft, y2: top + plotHeight, class: 'axis' });
  return svgDocument(width, height, spec.title, body);
}
