import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import fc from 'fast-check';
import { flow, type RunReport, type StageReport } from '../../src/index.js';
import { FakeClock } from '../../src/testing.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('.flatMap() - ordered: a later item’s values wait, bounded by the buffer, until it is the head', async () => {
  let releaseFirst: () => void = () => undefined;
  let yieldedBySecond = 0;
  const running = flow([0, 1])
    .flatMap(
      async function* (n) {
        if (n === 0) {
          await new Promise<void>((resolve) => (releaseFirst = resolve));
          yield 'first';
          return;
        }
        for (let i = 0; i < 100; i++) {
          yieldedBySecond++;
          yield `second.${i}`;
        }
      },
      { concurrency: 2, buffer: 4 },
    )
    .collect();
  for (let i = 0; i < 20; i++) await tick();
  assert.ok(yieldedBySecond <= 5, `the second item ran ${yieldedBySecond} values ahead of the head`);
  releaseFirst();
  const out = await running;
  assert.deepEqual(out, ['first', ...range(100).map((i) => `second.${i}`)]);
});

test('.flatMap() - unordered: values of concurrent items interleave as they come', async () => {
  const out = await flow([0, 1])
    .flatMap(
      async function* (n) {
        for (let i = 0; i < 3; i++) {
          await tick();
          yield `${n}.${i}`;
        }
      },
      { concurrency: 2, ordered: false },
    )
    .collect();
  assert.deepEqual([...out].sort(), ['0.0', '0.1', '0.2', '1.0', '1.1', '1.2']);
  assert.notDeepEqual(out, ['0.0', '0.1', '0.2', '1.0', '1.1', '1.2']);
});

test('.batch() - maxWaitMs sends a partial batch once its first item waited that long (fake clock)', async () => {
  const clock = new FakeClock();
  let finish: () => void = () => undefined;
  async function* trickle(): AsyncGenerator<number> {
    yield 1;
    yield 2;
    await new Promise<void>((resolve) => (finish = resolve));
    yield 3;
  }
  const batches: number[][] = [];
  const running = flow(trickle())
    .batch({ size: 10, maxWaitMs: 200 })
    .forEach((batch) => {
      batches.push(batch);
    })
    .run({ clock });
  await clock.advance(199);
  assert.deepEqual(batches, []);
  await clock.advance(1);
  assert.deepEqual(batches, [[1, 2]]);
  finish();
  const report = await running;
  assert.deepEqual(batches, [[1, 2], [3]]);
  assert.equal(report.stages[0]?.outputs, 2);
  assert.equal(clock.pending, 0);
});

test('rateLimit with a key: each key gets its own bucket', async () => {
  const clock = new FakeClock();
  const startedAt: string[] = [];
  const running = flow(['a1', 'a2', 'b1', 'b2'])
    .map(
      (item) => {
        startedAt.push(`${item}@${clock.now()}`);
        return item;
      },
      { concurrency: 4, rateLimit: { perSecond: 1, burst: 1, key: (item) => item[0] } },
    )
    .run({ clock });
  await clock.advance(1_000);
  await running;
  assert.deepEqual(startedAt.sort(), ['a1@0', 'a2@1000', 'b1@0', 'b2@1000']);
});

test('a Node Readable source is destroyed when the run fails', async () => {
  const source = Readable.from(range(1_000));
  await assert.rejects(
    flow(source)
      .map((x) => {
        if (x === 3) throw new Error('stop');
        return x;
      })
      .run(),
    { code: 'SLUICE_ERR_STAGE' },
  );
  await tick();
  assert.equal(source.destroyed, true);
});

test('a web ReadableStream source is cancelled when the run fails', async () => {
  let cancelled = false;
  let next = 0;
  const source = new ReadableStream<number>({
    pull(controller) {
      controller.enqueue(next++);
    },
    cancel() {
      cancelled = true;
    },
  });
  await assert.rejects(
    flow(source)
      .map((x) => {
        if (x === 3) throw new Error('stop');
        return x;
      })
      .run(),
    { code: 'SLUICE_ERR_STAGE' },
  );
  for (let i = 0; i < 5 && !cancelled; i++) await tick();
  assert.equal(cancelled, true);
});

test('async iteration rethrows the run’s coded error, with its report', async () => {
  const seen: number[] = [];
  const error = await (async () => {
    for await (const x of flow(range(10)).map((x) => {
      if (x === 5) throw new Error('five');
      return x;
    })) {
      seen.push(x);
    }
  })().catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_STAGE');
  const report = (error as { report: RunReport }).report;
  assert.equal(report.status, 'failed');
  assert.equal(report.stages[0]?.failed, 1);
  assert.equal(report.stages[0]?.emitted, 5);
  // What the loop did not get before the failure was buffered for it, and is counted as such.
  assert.deepEqual(seen, range(seen.length));
  assert.equal(seen.length + report.undelivered, 5);
});

test('destroying the Readable from .toReadable() stops the run and closes the source', async () => {
  let closed = false;
  function* endless(): Generator<number> {
    try {
      for (let i = 0; ; i++) yield i;
    } finally {
      closed = true;
    }
  }
  const readable = flow(endless())
    .map(async (x) => x)
    .toReadable();
  const first = await new Promise((resolve) => readable.once('data', resolve));
  assert.equal(first, 0);
  readable.destroy();
  for (let i = 0; i < 5 && !closed; i++) await tick();
  assert.equal(closed, true);
});

test('a stage of slow synchronous calls gives the event loop a turn every 10 ms of work', async () => {
  // A clock on which every call takes 4 ms: what the stage sees of its own work, without spinning.
  let now = 0;
  const clock = {
    now: () => now,
    setTimeout: (callback: () => void, ms: number) => setTimeout(callback, ms),
    clearTimeout: (handle: unknown) => clearTimeout(handle as NodeJS.Timeout),
  };
  let done = 0;
  const turns: number[] = [];
  let watching = true;
  const watch = (): void => {
    if (!watching) return;
    turns.push(done);
    setImmediate(watch);
  };
  setImmediate(watch);
  try {
    await flow(Array.from({ length: 40 }, (_, i) => i))
      .map((x) => {
        now += 4;
        done++;
        return x;
      })
      .run({ clock });
  } finally {
    watching = false;
  }
  // 40 calls of 4 ms are 160 ms of work: the loop got a turn at least every 3 calls, not once at the end.
  assert.ok(turns.length >= 10, `the event loop had ${turns.length} turns: ${turns}`);
  assert.ok(turns[0] !== undefined && turns[0] <= 4, `first turn after ${turns[0]} calls`);
});

test('a reduce function that throws fails the run; what it never saw is counted undelivered', async () => {
  let folded = 0;
  const error = await flow(range(100))
    .map((x) => x, { buffer: 64 })
    .reduce((sum, x) => {
      if (x === 10) throw new Error('ten');
      folded++;
      return sum + x;
    }, 0)
    .catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_TERMINAL');
  const report = (error as { report: RunReport }).report;
  const stage = report.stages[0];
  assert.ok(stage);
  assert.equal(folded, 10);
  // Every item the map emitted was folded, was the one that threw, or is undelivered (which may
  // also count an item the map was still handing over when the run stopped).
  assert.ok(
    report.undelivered >= stage.emitted - folded - 1,
    `emitted ${stage.emitted}, folded ${folded}, undelivered ${report.undelivered}`,
  );
});

test('.flatMap() - an array of promises gives their values, as for await over it would', async () => {
  const out = await flow([1, 2])
    .flatMap((x) => [
      Promise.resolve(x * 10),
      x * 10 + 1,
      new Promise((resolve) => setImmediate(resolve, x * 10 + 2)),
    ])
    .collect();
  assert.deepEqual(out, [10, 11, 12, 20, 21, 22]);
});

test('property: flatMap over arrays and async generators emits every value once, in order when ordered', async () => {
  const seed = 20261129;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        pages: fc.array(fc.nat({ max: 12 }), { maxLength: 40 }),
        concurrency: fc.integer({ min: 1, max: 8 }),
        buffer: fc.integer({ min: 1, max: 16 }),
        ordered: fc.boolean(),
        asyncPages: fc.boolean(),
        slowConsumer: fc.boolean(),
      }),
      async ({ pages, concurrency, buffer, ordered, asyncPages, slowConsumer }) => {
        // Page p holds the values p*100 .. p*100 + size - 1.
        const rows = (p: number, size: number): number[] =>
          Array.from({ length: size }, (_, i) => p * 100 + i);
        async function* slowly(values: number[]): AsyncGenerator<number> {
          for (const value of values) {
            await Promise.resolve();
            yield value;
          }
        }
        const seen: number[] = [];
        const report = await flow(pages.map((size, p) => ({ p, size })))
          .flatMap(
            async ({ p, size }) => {
              if (p % 3 === 0) await tick();
              return asyncPages ? slowly(rows(p, size)) : rows(p, size);
            },
            { concurrency, buffer, ordered },
          )
          .forEach(async (value) => {
            seen.push(value);
            if (slowConsumer) await tick();
          });
        const expected = pages.flatMap((size, p) => rows(p, size));
        if (ordered) assert.deepEqual(seen, expected);
        else
          assert.deepEqual(
            [...seen].sort((a, b) => a - b),
            expected,
          );
        const stage = report.stages[0] as StageReport;
        assert.equal(stage.emitted, pages.length);
        assert.equal(stage.outputs, expected.length);
      },
    ),
    { seed, numRuns: 120, verbose: true },
  );
});

test('an ordered stage is not held to the pace of its slowest calls: a slow call at the head widens the window', async () => {
  // Calls of 2 to 5 ms, one in fifty of 100 ms, at concurrency 16, results consumed in order. A
  // window of twice the lanes stopped every lane once 32 results were done behind a slow head.
  const latency = (i: number): number => (i % 50 === 7 ? 100 : 2 + (i % 4));
  const items = Array.from({ length: 2_000 }, (_, i) => i);
  const timed = async (ordered: boolean): Promise<{ ms: number; out: number[] }> => {
    const clock = new FakeClock();
    const out: number[] = [];
    let done = false;
    const running = flow(items)
      .map(
        async (i: number) => {
          await new Promise<void>((resolve) => clock.setTimeout(resolve, latency(i)));
          return i;
        },
        { concurrency: 16, ordered },
      )
      .forEach((i) => {
        out.push(i);
      })
      .run({ clock })
      .then(() => {
        done = true;
      });
    while (!done) await clock.advance(1);
    await running;
    return { ms: clock.now(), out };
  };
  const ordered = await timed(true);
  const unordered = await timed(false);
  assert.deepEqual(ordered.out, items, 'every result, in order');
  assert.equal(unordered.out.length, items.length);
  assert.ok(
    ordered.ms <= 1.2 * unordered.ms,
    `ordered took ${ordered.ms} ms of fake time against ${unordered.ms} unordered`,
  );
});

for (const terminal of ['lane stage', 'last forEach'] as const) {
  test(`retries: items waiting out a backoff do not hold back the items behind them, and calls stay within the concurrency (${terminal})`, async () => {
    const clock = new FakeClock();
    let inFlight = 0;
    let peak = 0;
    let succeeded = 0;
    const failedOnce = new Set<number>();
    const call = async (i: number): Promise<number> => {
      peak = Math.max(peak, ++inFlight);
      await new Promise<void>((resolve) => clock.setTimeout(resolve, 10));
      inFlight--;
      // The first 8 items fail once, then wait a second before their retry.
      if (i < 8 && !failedOnce.has(i)) {
        failedOnce.add(i);
        throw new Error(`flaky ${i}`);
      }
      succeeded++;
      return i;
    };
    const options = {
      concurrency: 8,
      retry: { attempts: 2, baseDelayMs: 1_000, maxDelayMs: 1_000, jitter: false },
    };
    const items = Array.from({ length: 200 }, (_, i) => i);
    const out: number[] = [];
    const stage =
      terminal === 'lane stage'
        ? flow(items)
            .map(call, options)
            .forEach((i) => {
              out.push(i);
            })
        : flow(items)
            .map((i) => i)
            .forEach(async (i) => {
              out.push(await call(i));
            }, options);
    const running = stage.run({ clock });
    await clock.advance(500);
    // All 8 first calls failed at 10 ms and wait until 1,010 ms; without lanes in their place no
    // other item would have run for a second.
    assert.ok(succeeded >= 150, `${succeeded} items done in the first 500 ms`);
    assert.ok(peak <= 8, `${peak} calls at once at concurrency 8`);
    await clock.advance(1_000);
    const report = await running;
    assert.equal(
      report.stages.reduce((sum, s) => sum + s.retries, 0),
      8,
    );
    assert.equal(out.length, 200);
    assert.ok(peak <= 8, `${peak} calls at once at concurrency 8`);
  });
}

test('retries: a last forEach whose function throws synchronously takes in each value once, however many wait', async () => {
  const clock = new FakeClock();
  const calls = new Map<number, number>();
  const items = Array.from({ length: 100 }, (_, i) => i);
  const running = flow(items)
    .map((i) => i)
    .forEach(
      (i: number) => {
        const n = (calls.get(i) ?? 0) + 1;
        calls.set(i, n);
        // Every fifth value fails its first attempt, synchronously, while others wait behind it;
        // the rest take a millisecond, so values queue.
        if (i % 5 === 4 && n === 1) throw new Error(`flaky ${i}`);
        return new Promise<void>((resolve) => clock.setTimeout(resolve, 1));
      },
      { concurrency: 1, buffer: 16, retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1, jitter: false } },
    )
    .run({ clock });
  await clock.advance(1_000);
  const report = await running;
  const [map, forEach] = report.stages;
  assert.equal(forEach?.entered, map?.outputs, 'the forEach took in what the map put out');
  assert.equal(forEach?.entered, 100);
  assert.equal(forEach?.emitted, 100);
  assert.equal(forEach?.retries, 20);
  assert.deepEqual(
    items.map((i) => calls.get(i)),
    items.map((i) => (i % 5 === 4 ? 2 : 1)),
  );
});
