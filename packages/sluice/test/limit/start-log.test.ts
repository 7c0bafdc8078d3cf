import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StartLog } from '../../src/limit/start-log.js';

test('.at() - the calls in flight just after the last start at or before the time asked', () => {
  const log = new StartLog();
  log.record(10, 1);
  log.record(10.4, 2);
  log.record(12, 3);
  log.record(20, 2);
  // Starts in the same millisecond share the most in flight after any of them.
  assert.equal(log.at(10.9), 2);
  assert.equal(log.at(11), 2);
  assert.equal(log.at(12), 3);
  assert.equal(log.at(19.5), 3);
  assert.equal(log.at(25), 2);
});

test('.at() - before the first start logged, the oldest entry; with nothing logged, undefined', () => {
  const log = new StartLog();
  assert.equal(log.at(5), undefined);
  log.record(100, 7);
  assert.equal(log.at(5), 7);
});

test('a start older than the log remembers is read against the oldest entry kept', () => {
  const log = new StartLog();
  for (let t = 0; t < 20_000; t++) log.record(t, t % 100);
  // About four seconds are kept: a call started at 0 and answering now is judged on the load
  // of the oldest millisecond remembered, not on a forgotten one.
  const oldest = log.at(0);
  assert.equal(oldest, log.at(20_000 - 4_097));
  assert.equal(log.at(19_999), 99);
});
