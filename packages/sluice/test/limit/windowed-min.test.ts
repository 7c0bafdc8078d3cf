import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WindowedMin } from '../../src/limit/windowed-min.js';

test('.min - undefined before the first value, then the lowest of the span', () => {
  const lowest = new WindowedMin(1_000);
  assert.equal(lowest.min, undefined);
  lowest.add(0, 30);
  lowest.add(150, 20);
  lowest.add(700, 25);
  assert.equal(lowest.min, 20);
});

test('.min - a low value is forgotten once the span has passed it', () => {
  const lowest = new WindowedMin(1_000);
  lowest.add(0, 10);
  for (let t = 100; t <= 1_100; t += 100) lowest.add(t, 50);
  assert.equal(lowest.min, 50);
});
