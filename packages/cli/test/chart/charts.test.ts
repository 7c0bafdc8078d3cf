import assert from 'node:assert/strict';
import { test } from 'node:test';
import { XMLValidator } from 'fast-xml-parser';
import { barChart } from '../../src/chart/bar-chart.js';
import { lineChart } from '../../src/chart/line-chart.js';
import { formatNumber, niceTicks } from '../../src/chart/svg.js';

test('barChart() - one bar per value, widths proportional to the values', () => {
  const svg = barChart({
    title: 'IO: 100 requests',
    unit: 's',
    bars: [
      { label: 'serial', value: 2, note: '1.0x' },
      { label: 'async', value: 0.5, note: '4.0x' },
    ],
  });
  assert.equal(XMLValidator.validate(svg), true);
  const widths = [...svg.matchAll(/<rect class="bar"[^>]*? width="([\d.]+)"/g)].map((m) => Number(m[1]));
  assert.equal(widths.length, 2);
  assert.ok(Math.abs((widths[0] as number) / (widths[1] as number) - 4) < 0.01, String(widths));
  assert.match(svg, /2 s {2}1\.0x/);
});

test('barChart() - labels and titles are escaped', () => {
  const svg = barChart({ title: 'a < b & "c"', unit: 'ms', bars: [{ label: '<script>', value: 1 }] });
  assert.equal(XMLValidator.validate(svg), true);
  assert.ok(!svg.includes('<script>'));
  assert.match(svg, /&lt;script&gt;/);
});

test('barChart() - zero, negative and NaN values draw empty bars', () => {
  const svg = barChart({
    title: 't',
    unit: 's',
    bars: [
      { label: 'a', value: 0 },
      { label: 'b', value: Number.NaN },
      { label: 'c', value: -1 },
    ],
  });
  assert.equal(XMLValidator.validate(svg), true);
  assert.deepEqual(
    [...svg.matchAll(/<rect class="bar"[^>]*? width="([\d.]+)"/g)].map((m) => m[1]),
    ['0', '0', '0'],
  );
});

test('lineChart() - two series on two axes, each point drawn, gaps left open', () => {
  const svg = lineChart({
    title: 'concurrency',
    x: { label: 'concurrency', values: [1, 2, 4, 8], scale: 'log' },
    left: { label: 'throughput (items/s)' },
    right: { label: 'p99 latency (ms)' },
    series: [
      { name: 'throughput', values: [100, 190, 350, 400] },
      { name: 'p99', values: [10, undefined, 12, 40], axis: 'right' },
    ],
  });
  assert.equal(XMLValidator.validate(svg), true);
  assert.match(svg, /<g class="series" data-name="throughput" data-axis="left">/);
  assert.match(svg, /<g class="series" data-name="p99" data-axis="right">/);
  assert.equal([...svg.matchAll(/<circle /g)].length, 7);
  // The gap splits p99 into a lone point and a line of two: one polyline for it, one for throughput.
  assert.equal([...svg.matchAll(/<polyline /g)].length, 2);
  assert.match(svg, />p99 latency \(ms\)</);
});

test('lineChart() - log scale spaces doubling x values evenly', () => {
  const svg = lineChart({
    title: 't',
    x: { label: 'x', values: [1, 2, 4, 8], scale: 'log' },
    left: { label: 'y' },
    series: [{ name: 's', values: [1, 1, 1, 1] }],
  });
  const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
  const steps = xs.slice(1).map((x, i) => x - (xs[i] as number));
  for (const step of steps) assert.ok(Math.abs(step - (steps[0] as number)) < 0.05, String(steps));
});

test('niceTicks() - round steps from 0 past the maximum', () => {
  assert.deepEqual(niceTicks(2.71), [0, 1, 2, 3]);
  assert.deepEqual(niceTicks(0.9), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(830), [0, 200, 400, 600, 800, 1000]);
  assert.deepEqual(niceTicks(0), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});

test('formatNumber() - short labels', () => {
  assert.deepEqual([0, 0.0412, 2.71, 12, 854, 12_345, 3_400_000].map(formatNumber), [
    '0',
    '0.0412',
    '2.71',
    '12',
    '854',
    '12.3k',
    '3.4M',
  ]);
});
