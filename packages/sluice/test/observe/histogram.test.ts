import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { Histogram } from '../../src/observe/histogram.js';

function exactPercentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

test('percentiles are within 2% of the exact ones over five decades of durations', () => {
  const histogram = new Histogram();
  const values: number[] = [];
  let seed = 7;
  for (let i = 0; i < 20_000; i++) {
    seed = (seed * 48_271) % 2_147_483_647;
    // Log-uniform from 1 us to 100 ms: latencies of cheap calls and slow requests in one stage.
    const value = 0.001 * 10 ** ((seed / 2_147_483_647) * 5);
    values.push(value);
    histogram.record(value);
  }
  values.sort((a, b) => a - b);
  for (const p of [1, 50, 90, 99, 99.9]) {
    const exact = exactPercentile(values, p);
    const got = histogram.percentile(p);
    assert.ok(Math.abs(got - exact) / exact < 0.02, `p${p}: ${got} against ${exact}`);
  }
  assert.equal(histogram.percentile(100), values.at(-1));
  assert.equal(histogram.max, values.at(-1));
  assert.equal(histogram.count, 20_000);
});

test('a short run, up to 128 values, gets exact percentiles', () => {
  const histogram = new Histogram();
  const values = Array.from({ length: 100 }, (_, i) => (i * 37) % 100);
  for (const value of values) histogram.record(value + 0.5);
  assert.equal(histogram.percentile(50), 49.5);
  assert.equal(histogram.percentile(90), 89.5);
  assert.equal(histogram.percentile(99), 98.5);
  assert.equal(histogram.max, 99.5);
});

test('one value is reported exactly, and an empty histogram reports 0', () => {
  const histogram = new Histogram();
  assert.equal(histogram.percentile(50), 0);
  histogram.record(12.345);
  assert.equal(histogram.percentile(50), 12.345);
  assert.equal(histogram.percentile(99), 12.345);
});

test('zero, negative and huge durations land in the end buckets without throwing', () => {
  const histogram = new Histogram();
  histogram.record(0);
  histogram.record(-3);
  histogram.record(1e12);
  assert.equal(histogram.percentile(50), 0);
  assert.equal(histogram.percentile(100), 1e12);
});

test('a value recorded with a weight counts as that many values recorded one by one: exactly up to 128 records, within 2% past them', () => {
  // Seeded: a failure prints the seed and the shrunk case, and reruns as it was.
  const SEED = 20261201;
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.double({ min: 0.001, max: 1e5, noNaN: true }), fc.integer({ min: 1, max: 300 })), {
        minLength: 1,
        maxLength: 200,
      }),
      fc.constantFrom(1, 10, 50, 90, 99, 100),
      (records, p) => {
        const weighted = new Histogram();
        const expanded: number[] = [];
        for (const [value, weight] of records) {
          weighted.record(value, weight);
          for (let i = 0; i < weight; i++) expanded.push(value);
        }
        expanded.sort((a, b) => a - b);
        assert.equal(weighted.count, expanded.length);
        const exact = exactPercentile(expanded, p);
        const got = weighted.percentile(p);
        if (records.length <= 128) assert.equal(got, exact, `p${p} of ${records.length} records`);
        else assert.ok(Math.abs(got - exact) / exact < 0.02, `p${p}: ${got} against ${exact}`);
      },
    ),
    { seed: SEED, numRuns: 500 },
  );
});
