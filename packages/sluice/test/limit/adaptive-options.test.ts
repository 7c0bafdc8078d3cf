import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adaptive, flow } from '../../src/index.js';

const identity = (x: number): number => x;

test("concurrency: 'adaptive' and adaptive() are accepted, and reported with their limit", async () => {
  const report = await flow([1, 2, 3]).map(identity, { concurrency: 'adaptive' }).run();
  const stage = report.stages[0];
  assert.equal(stage?.emitted, 3);
  const limit = stage?.limit;
  assert.deepEqual(
    { ...limit, total: { ...limit?.total, final: undefined } },
    {
      adaptive: true,
      objective: 'latency',
      keyCount: 1,
      perKey: { min: 1, max: 10_000, initial: 16, peak: 16, lowest: 16 },
      total: { final: undefined, peakInFlight: 3, drops: 0 },
    },
  );
  assert.equal(stage?.concurrency, stage?.limit?.total.final);
  assert.doesNotThrow(() =>
    flow([1]).map(identity, { concurrency: adaptive({ min: 2, max: 8, key: String }) }),
  );
  assert.doesNotThrow(() => JSON.stringify(report));
});

test("objective 'throughput' starts at 100 calls at once, 'latency' at 16, neither above max nor below min", async () => {
  const initialOf = async (concurrency: Parameters<typeof adaptive>[0]): Promise<number | undefined> => {
    const report = await flow([1, 2, 3])
      .map(identity, { concurrency: adaptive(concurrency) })
      .run();
    return report.stages[0]?.limit?.perKey.initial;
  };
  assert.equal(await initialOf({ objective: 'throughput' }), 100);
  assert.equal(await initialOf({ objective: 'latency' }), 16);
  assert.equal(await initialOf({ objective: 'throughput', max: 40 }), 40);
  assert.equal(await initialOf({ objective: 'throughput', min: 150 }), 150);
  assert.equal(await initialOf({ objective: 'latency', min: 20 }), 20);
  assert.equal(await initialOf({ objective: 'throughput', initial: 8 }), 8);
});

test('with a key, the report keeps what each key was set to apart from what the keys add up to', async () => {
  // Three keys, each held to at most 4: their limits sum past any one key's max.
  const report = await flow(Array.from({ length: 30 }, (_, i) => i))
    .map(identity, { concurrency: adaptive<number>({ key: (i) => i % 3, initial: 4, max: 4 }) })
    .run();
  const limit = report.stages[0]?.limit;
  assert.equal(limit?.keyCount, 3);
  assert.equal(limit?.perKey.max, 4);
  assert.equal(limit?.perKey.peak, 4);
  assert.equal(limit?.total.final, 12);
  assert.deepEqual(limit?.keys, { '0': 4, '1': 4, '2': 4 });
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
      { adaptive: true, objective: 'speed' },
      'SLUICE_ERR_INVALID_ARG_VALUE',
      /"identity\.concurrency\.objective" option must be 'throughput' or 'latency'\. Received speed/,
    ],
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
