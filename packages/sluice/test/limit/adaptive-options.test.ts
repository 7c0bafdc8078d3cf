import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adaptive, flow } from '../../src/index.js';

const identity = (x: number): number => x;

test("concurrency: 'adaptive' and adaptive() are accepted, and reported with their limit", async () => {
  const report = await flow([1, 2, 3]).map(identity, { concurrency: 'adaptive' }).run();
  const stage = report.stages[0];
  assert.equal(stage?.emitted, 3);
  assert.deepEqual(
    { ...stage?.limit, final: undefined },
    {
      adaptive: true,
      min: 1,
      max: 1000,
      initial: 16,
      final: undefined,
      peak: 16,
      lowest: 16,
      peakInFlight: 3,
      drops: 0,
    },
  );
  assert.equal(stage?.concurrency, stage?.limit?.final);
  assert.doesNotThrow(() =>
    flow([1]).map(identity, { concurrency: adaptive({ min: 2, max: 8, key: String }) }),
  );
  assert.doesNotThrow(() => JSON.stringify(report));
});

test('adaptive options are checked at the door, with coded errors', () => {
  const bad: [unknown, string, RegExp][] = [
    [
      'fast',
      'SLUICE_ERR_INVALID_ARG_TYPE',
      /"identity\.concurrency" option must be a number \(an integer >= 1\), 'adaptive'/,
    ],
    [
      { adaptive: false },
      'SLUICE_ERR_INVALID_ARG_TYPE',
      /"identity\.concurrency\.adaptive" option must be true/,
    ],
    [{ adaptive: true, min: 0 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /"identity\.concurrency\.min"/],
    [
      { adaptive: true, min: 10, max: 5 },
      'SLUICE_ERR_INVALID_ARG_VALUE',
      /"identity\.concurrency\.max" option must be an integer >= 10/,
    ],
    [{ adaptive: true, max: 1e6 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /<= 100000/],
    [
      { adaptive: true, max: 8, initial: 9 },
      'SLUICE_ERR_INVALID_ARG_VALUE',
      /between min \(1\) and max \(8\)/,
    ],
    [{ adaptive: true, tolerance: 1 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /tolerance/],
    [{ adaptive: true, backoff: 1 }, 'SLUICE_ERR_INVALID_ARG_VALUE', /backoff/],
    [
      { adaptive: true, key: 'host' },
      'SLUICE_ERR_INVALID_ARG_TYPE',
      /"identity\.concurrency\.key" option must be a function/,
    ],
    [{ adaptive: true, isOverload: true }, 'SLUICE_ERR_INVALID_ARG_TYPE', /isOverload/],
    [
      { adaptive: true, maximum: 5 },
      'SLUICE_ERR_UNKNOWN_OPTION',
      /Unknown option "identity\.concurrency\.maximum"/,
    ],
  ];
  for (const [concurrency, code, message] of bad) {
    assert.throws(
      () => flow([1]).map(identity, { concurrency } as never),
      { code, message },
      JSON.stringify(concurrency),
    );
  }
});
