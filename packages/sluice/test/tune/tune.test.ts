import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sleep } from '../../src/core/clock.js';
import { flow, tunableStage, tune } from '../../src/index.js';
import { FakeClock } from '../../src/testing.js';
import { kneeOf, percentile } from '../../src/tune/knee.js';

/** Runs `work` while moving the fake clock on, 1 ms at a time, until it settles. */
async function onFakeTime<R>(clock: FakeClock, work: Promise<R>): Promise<R> {
  let settled = false;
  work.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  while (!settled) await clock.advance(1);
  return work;
}

/** A service that works on 8 calls at once, 10 ms each; past 8, calls queue. */
function service(clock: FakeClock): (item: number) => Promise<number> {
  let inflight = 0;
  return async (item) => {
    inflight++;
    await sleep(clock, 10 * Math.max(1, inflight / 8));
    inflight--;
    return item;
  };
}

test('tune() - measures each level and finds the knee where throughput stops growing', async () => {
  const clock = new FakeClock();
  const result = await onFakeTime(
    clock,
    tune(service(clock), { items: (i) => i, levels: [1, 2, 4, 8, 16, 32], itemsPerLevel: 320, clock }),
  );
  assert.equal(result.knee, 8);
  assert.deepEqual(
    result.levels.map((l) => l.concurrency),
    [1, 2, 4, 8, 16, 32],
  );
  const at = (c: number) => result.levels.find((l) => l.concurrency === c);
  assert.ok(Math.abs((at(1)?.throughput ?? 0) - 100) < 5, `level 1: ${at(1)?.throughput}/s`);
  assert.ok(Math.abs((at(8)?.throughput ?? 0) - 800) < 50, `level 8: ${at(8)?.throughput}/s`);
  // Past the knee, the same throughput costs latency.
  assert.equal(at(8)?.p50Ms, 10);
  assert.ok((at(32)?.p50Ms ?? 0) >= 35, `p50 at 32: ${at(32)?.p50Ms}`);
  assert.equal(at(8)?.items, 320);
  assert.doesNotThrow(() => JSON.stringify(result));
});

test("tune() - counts errors, and runs an 'adaptive' level with its limit", async () => {
  const clock = new FakeClock();
  const fn = async (i: number): Promise<number> => {
    await sleep(clock, 5);
    if (i % 10 === 0) throw new Error('bad item');
    return i;
  };
  const result = await onFakeTime(
    clock,
    tune(
      { fn, options: { timeout: 1_000 } },
      { items: (i) => i, levels: [4, 'adaptive'], itemsPerLevel: 100, clock },
    ),
  );
  assert.equal(result.levels[0]?.errors, 10);
  assert.equal(result.levels[1]?.adaptive, true);
  assert.equal(result.levels[1]?.limit?.adaptive, true);
  assert.equal(result.knee, 4);
});

test('tune() - durationMs ends a level in time, not items', async () => {
  const clock = new FakeClock();
  const fn = (): Promise<void> => sleep(clock, 10);
  const result = await onFakeTime(
    clock,
    tune(fn, { items: [1, 2, 3], levels: [2], durationMs: 100, warmup: false, clock }),
  );
  assert.equal(result.levels[0]?.items, 20);
});

test('tune() - rejects bad options with coded errors', async () => {
  const fn = (): void => undefined;
  await assert.rejects(tune(fn, { items: [1], levels: [0] }), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  await assert.rejects(tune(fn, { items: [1], kneeRatio: 1.5 }), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  await assert.rejects(tune(fn, { items: 5 as never }), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  await assert.rejects(tune('fn' as never, { items: [1] }), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  await assert.rejects(tune(fn, { items: [1], level: [1] } as never), { code: 'SLUICE_ERR_UNKNOWN_OPTION' });
});

test('percentile() and kneeOf() - nearest rank, and the smallest level within the ratio of the best', () => {
  assert.equal(percentile([1, 2, 3, 4], 0.5), 2);
  assert.equal(percentile([1, 2, 3, 4], 0.99), 4);
  assert.equal(percentile([], 0.5), 0);
  const levels = [
    { concurrency: 64, throughput: 1_000 },
    { concurrency: 16, throughput: 900 },
    { concurrency: 32, throughput: 960 },
  ];
  assert.equal(kneeOf(levels, 0.95), 32);
  assert.equal(kneeOf(levels, 0.9), 16);
  assert.equal(kneeOf([{ concurrency: 1, throughput: 0 }], 0.95), undefined);
});

test('tunableStage() - the named lane stage, its policies and the flow that feeds it', async () => {
  const double = (n: number) => n * 2;
  const made = flow([1, 2, 3])
    .map((n: number) => n + 1, { name: 'inc' })
    .map(double, { name: 'double', retry: { attempts: 3 }, timeout: 500 });
  const stage = tunableStage(made, 'double');
  assert.equal(stage?.name, 'double');
  assert.equal(stage?.fn, double);
  assert.equal(stage?.options.timeout, 500);
  assert.deepEqual(await stage?.upstream.collect(), [2, 3, 4]);
  assert.equal(tunableStage(made, 'nowhere'), undefined);
  // The Sink forEach() returns is claimed: it does not start itself.
  let consumed = 0;
  const sink = flow([1, 2]).forEach(() => {
    consumed++;
  });
  assert.match(tunableStage(sink)?.name ?? '', /^forEach/);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(consumed, 0);
});

test('tunableStage() - rejects what is not a flow with a coded error', () => {
  assert.throws(() => tunableStage({} as never), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  assert.throws(() => tunableStage(flow([1]), 7 as unknown as string), {
    code: 'SLUICE_ERR_INVALID_ARG_TYPE',
  });
});
