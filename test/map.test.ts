import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pMap, { pMapSkip } from 'p-map';
import { map, mapSkip } from '../src/index.js';

const sharedInput: [number | Promise<number>, number][] = [
  [Promise.resolve(10), 30],
  [20, 10],
  [30, 20],
];
const mapper = async ([value, ms]: [number | Promise<number>, number]): Promise<number> => {
  await delay(ms);
  return value;
};

test('map() - results come back in input order whatever the finishing order', async () => {
  assert.deepEqual(await map(sharedInput, mapper), [10, 20, 30]);
});

test('map() - the same results as p-map on the same input', async () => {
  const input = Array.from({ length: 50 }, (_, i) => i);
  const fn = async (x: number, i: number): Promise<number | typeof mapSkip> => {
    await delay((x * 7) % 4);
    return x % 5 === 0 ? mapSkip : x * i;
  };
  const theirs = await pMap(
    input,
    async (x, i) => {
      const r = await fn(x, i);
      return r === mapSkip ? pMapSkip : r;
    },
    { concurrency: 4 },
  );
  assert.deepEqual(await map(input, fn, { concurrency: 4 }), theirs);
});

test('map() - never runs more than `concurrency` mappers at once', async () => {
  let running = 0;
  let peak = 0;
  await map(
    Array.from({ length: 100 }, (_, i) => i),
    async () => {
      running++;
      peak = Math.max(peak, running);
      await delay(1);
      running--;
    },
    { concurrency: 5 },
  );
  assert.equal(peak, 5);
});

test('map() - the mapper receives (element, index), with promised elements awaited', async () => {
  const seen: [number, number][] = [];
  await map(
    [Promise.resolve(5), 6, 7],
    (element, index) => {
      seen.push([element, index]);
    },
    { concurrency: 1 },
  );
  assert.deepEqual(seen, [
    [5, 0],
    [6, 1],
    [7, 2],
  ]);
});

test('map() - mapSkip leaves elements out', async () => {
  assert.deepEqual(await map([1, 2, 3, 4], (x) => (x % 2 ? x : mapSkip)), [1, 3]);
});

test('map() - stopOnError rejects with the first error and starts nothing after it', async () => {
  const started: number[] = [];
  await assert.rejects(
    map(
      [1, 2, 3, 4, 5],
      async (x) => {
        started.push(x);
        await delay(1);
        if (x === 2) throw new Error('two');
        return x;
      },
      { concurrency: 1 },
    ),
    /two/,
  );
  assert.deepEqual(started, [1, 2]);
});

test('map() - stopOnError: false tries everything and rejects with an AggregateError', async () => {
  let calls = 0;
  const error = await map(
    [1, 2, 3, 4],
    async (x) => {
      calls++;
      if (x % 2 === 0) throw new Error(`even ${x}`);
      return x;
    },
    { concurrency: 2, stopOnError: false },
  ).catch((e: unknown) => e);
  assert.ok(error instanceof AggregateError);
  assert.deepEqual(
    error.errors.map((e: Error) => e.message),
    ['even 2', 'even 4'],
  );
  assert.equal(calls, 4);
});

test('map() - a mapper that throws synchronously rejects', async () => {
  await assert.rejects(
    map([1], () => {
      throw new TypeError('sync');
    }),
    /sync/,
  );
});

test('map() - an abort rejects with the signal’s reason, before or during', async () => {
  const reason = new Error('enough');
  await assert.rejects(
    map([1], (x) => x, { signal: AbortSignal.abort(reason) }),
    reason,
  );
  const controller = new AbortController();
  let calls = 0;
  const running = map(
    Array.from({ length: 100 }, (_, i) => i),
    async () => {
      calls++;
      await delay(5);
    },
    { concurrency: 2, signal: controller.signal },
  );
  await delay(1);
  controller.abort(reason);
  await assert.rejects(running, reason);
  const after = calls;
  await delay(20);
  assert.equal(calls, after, 'no new calls after the abort');
  assert.ok(calls < 100);
});

test('map() - async iterables are read only as concurrency allows', async () => {
  let read = 0;
  let done = 0;
  let maxAhead = 0;
  async function* source(): AsyncGenerator<number> {
    for (let i = 0; i < 30; i++) {
      read++;
      maxAhead = Math.max(maxAhead, read - done);
      yield i;
    }
  }
  const out = await map(
    source(),
    async (x) => {
      await delay(1);
      done++;
      return x * 2;
    },
    { concurrency: 3 },
  );
  assert.deepEqual(
    out,
    Array.from({ length: 30 }, (_, i) => i * 2),
  );
  assert.ok(maxAhead <= 3, `read ${maxAhead} ahead`);
});

test('map() - an iterator that throws rejects', async () => {
  function* broken(): Generator<number> {
    yield 1;
    throw new Error('iterator broke');
  }
  await assert.rejects(
    map(broken(), (x) => x, { concurrency: 2 }),
    /iterator broke/,
  );
});

test('map() - bad options reject with coded errors', async () => {
  for (const concurrency of [0, -1, 1.5, Number.NaN]) {
    await assert.rejects(
      map([1], (x) => x, { concurrency }),
      { code: 'SLUICE_ERR_INVALID_ARG_VALUE' },
    );
  }
  await assert.rejects(
    map([1], (x) => x, { concurrency: '2' as never }),
    { code: 'SLUICE_ERR_INVALID_ARG_TYPE' },
  );
  await assert.rejects(
    map([1], (x) => x, { stopOnError: 1 as never }),
    { code: 'SLUICE_ERR_INVALID_ARG_TYPE' },
  );
  await assert.rejects(
    map([1], (x) => x, { concurency: 2 } as never),
    { code: 'SLUICE_ERR_UNKNOWN_OPTION' },
  );
  await assert.rejects(map([1], 'x' as never), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  await assert.rejects(
    map(42 as never, (x) => x),
    { code: 'SLUICE_ERR_INVALID_SOURCE' },
  );
});
