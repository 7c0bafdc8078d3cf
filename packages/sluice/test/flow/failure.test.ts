import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { sleep } from '../../src/core/clock.js';
import { flow, type RunReport, type StageReport, withDeadline } from '../../src/index.js';
import { FakeClock } from '../../src/testing.js';
import { countAbortControllers } from '../helpers/abort-controllers.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const addsUp = (s: StageReport): boolean =>
  s.emitted + s.filtered + s.skipped + s.deadLettered + s.failed + s.cancelled === s.entered;
const reportOf = (error: unknown): RunReport => (error as { report: RunReport }).report;

test('a function that rejects fails the run with SLUICE_ERR_STAGE naming the stage and the item', async () => {
  const cause = new Error('boom');
  const error = await flow(range(10))
    .map(
      async function parse(x) {
        if (x === 4) throw cause;
        return x;
      },
      { concurrency: 2 },
    )
    .run()
    .catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_STAGE');
  assert.equal((error as Error).cause, cause);
  assert.equal((error as { stage: string }).stage, 'parse');
  assert.equal((error as { index: number }).index, 4);
  assert.equal((error as { item: number }).item, 4);
  const report = reportOf(error);
  assert.equal(report.status, 'failed');
  assert.equal(report.error?.code, 'SLUICE_ERR_STAGE');
  assert.equal(report.stages[0]?.failed, 1);
  assert.ok(report.stages.every(addsUp));
});

test('a function that throws synchronously is handled like a rejection', async () => {
  await assert.rejects(
    flow([1, 2, 3])
      .map((x) => {
        if (x === 2) throw new TypeError('sync');
        return x;
      })
      .collect(),
    { code: 'SLUICE_ERR_STAGE', message: /item 1: sync/ },
  );
});

test("onError: 'skip' drops failed items, counts them and keeps going", async () => {
  const f = flow(range(10)).map(
    (x) => {
      if (x % 3 === 0) throw new Error('bad');
      return x;
    },
    { onError: 'skip', concurrency: 3 },
  );
  assert.deepEqual(await f.collect(), [1, 2, 4, 5, 7, 8]);
  const report = await f.run();
  assert.equal(report.stages[0]?.skipped, 4);
  assert.ok(addsUp(report.stages[0] as StageReport));
});

test('a dead-letter handler receives each failed item with its error', async () => {
  const dead: [number, string, string, number][] = [];
  const report = await flow(range(6))
    .map(
      (x) => {
        if (x % 2) throw new Error(`odd ${x}`);
        return x;
      },
      {
        name: 'evens-only',
        onError: (item, error, info) => {
          dead.push([item, (error as Error).message, info.stage, info.index]);
        },
      },
    )
    .run();
  assert.deepEqual(dead, [
    [1, 'odd 1', 'evens-only', 1],
    [3, 'odd 3', 'evens-only', 3],
    [5, 'odd 5', 'evens-only', 5],
  ]);
  assert.equal(report.stages[0]?.deadLettered, 3);
  assert.equal(report.stages[0]?.emitted, 3);
});

test('a dead-letter handler that throws fails the run with SLUICE_ERR_DEAD_LETTER', async () => {
  await assert.rejects(
    flow([1])
      .map(
        () => {
          throw new Error('first');
        },
        {
          onError: () => {
            throw new Error('handler broke');
          },
        },
      )
      .run(),
    { code: 'SLUICE_ERR_DEAD_LETTER', message: /handler broke/ },
  );
});

test('a source that throws midway fails the run with SLUICE_ERR_SOURCE', async () => {
  function* broken(): Generator<number> {
    yield 1;
    yield 2;
    throw new Error('disk gone');
  }
  const error = await flow(broken())
    .map((x) => x)
    .run()
    .catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_SOURCE');
  assert.match((error as Error).message, /disk gone/);
  assert.equal(reportOf(error).source.items, 2);

  async function* brokenAsync(): AsyncGenerator<number> {
    yield 1;
    throw new Error('socket reset');
  }
  await assert.rejects(flow(brokenAsync()).collect(), { code: 'SLUICE_ERR_SOURCE', message: /socket reset/ });
});

test('a flatMap function that returns no iterable fails the item with a coded cause', async () => {
  const error = await flow([1])
    .flatMap(() => 42 as never)
    .run()
    .catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_STAGE');
  assert.equal(((error as Error).cause as { code: string }).code, 'SLUICE_ERR_INVALID_ARG_TYPE');
});

test('a terminal whose function throws fails the run with SLUICE_ERR_TERMINAL', async () => {
  await assert.rejects(
    flow([1, 2, 3]).reduce((_acc, x) => {
      if (x === 2) throw new Error('reducer broke');
      return x;
    }, 0),
    { code: 'SLUICE_ERR_TERMINAL', message: /reducer broke/ },
  );
});

test('timeout: a call that never settles times out, its signal aborts, and the run fails', async () => {
  const clock = new FakeClock();
  let signal: AbortSignal | undefined;
  const running = flow([1])
    .map(
      (_x, ctx) => {
        signal = ctx.signal;
        return new Promise<never>(() => undefined);
      },
      { timeout: 1_000 },
    )
    .run({ clock });
  running.catch(() => undefined);
  await clock.advance(999);
  assert.equal(signal?.aborted, false);
  await clock.advance(1);
  const error = await running.catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_STAGE');
  assert.equal(((error as Error).cause as { code: string }).code, 'SLUICE_ERR_TIMEOUT');
  assert.equal(signal?.aborted, true);
  assert.equal(reportOf(error).stages[0]?.timeouts, 1);
  assert.equal(clock.pending, 0, 'no timer left behind');
});

test('timeout: calls that never read their signal make none, and a failure elsewhere still ends them and their timer at once', async () => {
  const controllers = countAbortControllers();
  try {
    const clock = new FakeClock();
    let pending = 0;
    const running = flow(range(10))
      .map(
        (x) => {
          if (x === 9) throw new Error('item 9 is bad');
          pending++;
          return new Promise<never>(() => undefined);
        },
        { timeout: 60_000, concurrency: 10 },
      )
      .run({ clock });
    const error = await running.catch((e: unknown) => e);
    assert.equal((error as { code: string }).code, 'SLUICE_ERR_STAGE');
    assert.equal(pending, 9);
    assert.equal(clock.pending, 0, 'the deadline timer went with the run');
    assert.equal(reportOf(error).stages[0]?.cancelled, 9);
    assert.equal(controllers.made, 0, 'no AbortController was made');
  } finally {
    controllers.restore();
  }
});

test("timeout: the report counts the calls the stage's deadline ended, not a call's own timeout error", async () => {
  const clock = new FakeClock();
  const running = flow([0, 1, 2])
    .map(
      (x) =>
        x === 0
          ? new Promise<never>(() => undefined) // the stage's deadline ends it
          : withDeadline(() => new Promise<never>(() => undefined), 100, clock), // its own ends it
      { timeout: 1_000, onError: 'skip', concurrency: 3 },
    )
    .run({ clock });
  await clock.advance(1_000);
  const report = await running;
  assert.equal(report.stages[0]?.skipped, 3);
  assert.equal(report.stages[0]?.timeouts, 1);
});

test('timeout: a call that reads its signal only after the deadline finds it aborted, with the timeout as reason', async () => {
  const clock = new FakeClock();
  let late: AbortSignal | undefined;
  const running = flow([1])
    .map(
      async (_x, ctx) => {
        await sleep(clock, 2_000);
        late = ctx.signal;
        assert.equal(ctx.signal, late, 'the same signal on every read');
      },
      { timeout: 1_000, onError: 'skip' },
    )
    .run({ clock });
  await clock.advance(2_000);
  const report = await running;
  assert.equal(report.stages[0]?.timeouts, 1);
  assert.equal(late?.aborted, true);
  assert.equal((late?.reason as { code?: string } | undefined)?.code, 'SLUICE_ERR_TIMEOUT');
});

test("timeout: a stage's context carries index, attempt and signal, and hands the signal to what it is passed to", async () => {
  const clock = new FakeClock();
  const seen: { index: number; attempt: number; aborted: boolean }[] = [];
  await flow(['a', 'b'])
    .map(
      (_x, ctx) => {
        const { index, attempt, signal } = ctx;
        seen.push({ index, attempt, aborted: signal.aborted });
      },
      { timeout: 1_000 },
    )
    .run({ clock });
  assert.deepEqual(seen, [
    { index: 0, attempt: 1, aborted: false },
    { index: 1, attempt: 1, aborted: false },
  ]);
});

test('retry: transient failures are retried with backoff on the run clock', async () => {
  const clock = new FakeClock();
  const attempts = new Map<number, number>();
  const running = flow([1, 2, 3])
    .map(
      (x, ctx) => {
        attempts.set(x, ctx.attempt);
        if (ctx.attempt < 3) throw new Error('flaky');
        return x * 10;
      },
      { retry: { attempts: 3, baseDelayMs: 100, jitter: false }, concurrency: 3 },
    )
    .collect({ clock });
  await clock.advance(100);
  await clock.advance(200);
  assert.deepEqual(await running, [10, 20, 30]);
  assert.deepEqual([...attempts.values()], [3, 3, 3]);
});

test('retry: exhausted attempts fail the item with the attempts in the error', async () => {
  const clock = new FakeClock();
  const running = flow([1])
    .map(
      () => {
        throw new Error('always');
      },
      { retry: { attempts: 2, baseDelayMs: 10 } },
    )
    .run({ clock });
  running.catch(() => undefined);
  await clock.runAll();
  const error = await running.catch((e: unknown) => e);
  assert.equal((error as { attempts: number }).attempts, 2);
  assert.match((error as Error).message, /after 2 attempts: always/);
  assert.equal(reportOf(error).stages[0]?.retries, 1);
});

test('rateLimit: calls start no faster than the bucket allows, measured on the fake clock', async () => {
  const clock = new FakeClock();
  const startedAt: number[] = [];
  const running = flow(range(6))
    .map(
      (x) => {
        startedAt.push(clock.now());
        return x;
      },
      { rateLimit: { perSecond: 2, burst: 2 }, concurrency: 6 },
    )
    .run({ clock });
  await clock.advance(2_000);
  await running;
  assert.deepEqual(startedAt, [0, 0, 500, 1000, 1500, 2000]);
});

test('an AbortSignal stops the run promptly with SLUICE_ERR_ABORTED, even if a call ignores it', async () => {
  const controller = new AbortController();
  let started = 0;
  const running = flow(range(100))
    .map(
      () => {
        started++;
        return new Promise<never>(() => undefined);
      },
      { concurrency: 4 },
    )
    .run({ signal: controller.signal });
  while (started < 4) await tick();
  controller.abort(new Error('user pressed ctrl-c'));
  const error = await running.catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_ABORTED');
  assert.match(String(((error as Error).cause as Error).message), /ctrl-c/);
  const report = reportOf(error);
  assert.equal(report.status, 'aborted');
  assert.equal(report.stages[0]?.cancelled, 4);
  assert.ok(addsUp(report.stages[0] as StageReport));
});

test('an already-aborted signal rejects without calling the function', async () => {
  let calls = 0;
  await assert.rejects(
    flow([1])
      .map(() => calls++)
      .run({ signal: AbortSignal.abort() }),
    { code: 'SLUICE_ERR_ABORTED' },
  );
  assert.equal(calls, 0);
});

test('a failure in a later stage stops the earlier ones and closes the source', async () => {
  let read = 0;
  let closed = false;
  function* source(): Generator<number> {
    try {
      for (;;) yield read++;
    } finally {
      closed = true;
    }
  }
  await assert.rejects(
    flow(source())
      .map(async (x) => x, { concurrency: 4 })
      .map((x) => {
        if (x === 50) throw new Error('late failure');
        return x;
      })
      .run(),
    { code: 'SLUICE_ERR_STAGE' },
  );
  assert.equal(closed, true);
  const after = read;
  await tick();
  assert.equal(read, after);
});

test('backpressure: a fast source never runs ahead of a slow stage by more than the buffers', async () => {
  let read = 0;
  function* source(): Generator<number> {
    for (let i = 0; i < 10_000; i++) {
      read++;
      yield i;
    }
  }
  let consumed = 0;
  let maxAhead = 0;
  await flow(source())
    .map((x) => x, { buffer: 16 })
    .forEach(async () => {
      consumed++;
      maxAhead = Math.max(maxAhead, read - consumed);
      await tick();
    });
  assert.equal(consumed, 10_000);
  // map's one lane + its 16-slot output buffer + forEach's one lane, and nothing more.
  assert.ok(maxAhead <= 18, `read ran ${maxAhead} items ahead`);
});

test('an ordered stage holds back no more than its widest window (16,384) behind a slow item', async () => {
  let read = 0;
  function* source(): Generator<number> {
    for (let i = 0; i < 40_000; i++) {
      read++;
      yield i;
    }
  }
  let releaseFirst: () => void = () => undefined;
  const running = flow(source())
    .map((x) => (x === 0 ? new Promise<number>((resolve) => (releaseFirst = () => resolve(0))) : x), {
      concurrency: 4,
    })
    .collect();
  // The window widens while the head is out (the output is free), and stops at its most.
  let before = -1;
  for (let i = 0; i < 1_000 && read !== before; i++) {
    before = read;
    for (let j = 0; j < 10; j++) await tick();
  }
  assert.ok(read > 16 + 1, `read ${read}: the window widened behind the stuck head`);
  assert.ok(read <= 16_384 + 1, `read ${read} items while the head was stuck`);
  releaseFirst();
  assert.deepEqual(await running, range(40_000));
});

/** Throwables a hostile or buggy function can produce, which break the moment anything reads them. */
function contrivedThrowables(): [string, () => unknown][] {
  return [
    [
      'a revoked Proxy',
      () => {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        return proxy;
      },
    ],
    [
      'an object whose every read throws',
      () =>
        new Proxy(
          {},
          {
            get: () => {
              throw new Error('no');
            },
          },
        ),
    ],
    [
      'an object whose toString throws',
      () => ({
        toString: () => {
          throw new Error('no');
        },
      }),
    ],
  ];
}

for (const [name, make] of contrivedThrowables()) {
  test(`${name} thrown under onError: 'skip' is skipped and counted`, async () => {
    const report = await flow(range(4))
      .map(
        (x) => {
          if (x === 1) throw make();
          return x;
        },
        { onError: 'skip' },
      )
      .run();
    assert.equal(report.stages[0]?.skipped, 1);
    assert.equal(report.stages[0]?.emitted, 3);
  });

  test(`${name} thrown under retry and onError: 'fail' fails the run with a coded error and its report`, async () => {
    const error = await flow(range(4))
      .map(
        (x) => {
          if (x === 1) throw make();
          return x;
        },
        { retry: { attempts: 2, baseDelayMs: 0 } },
      )
      .run()
      .catch((e: unknown) => e);
    assert.equal((error as { code: string }).code, 'SLUICE_ERR_STAGE');
    const report = reportOf(error);
    assert.equal(report.status, 'failed');
    assert.ok(report.stages.every(addsUp));
  });
}

test("a retryable predicate that throws keeps the item's own error as the cause", async () => {
  const own = new Error('503 from upstream');
  const error = await flow([1])
    .map(
      () => {
        throw own;
      },
      {
        retry: {
          attempts: 3,
          baseDelayMs: 0,
          retryable: () => {
            throw new TypeError('cannot read statusCode');
          },
        },
      },
    )
    .run()
    .catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_STAGE');
  const policy = (error as Error).cause as Error & { code: string; predicateError: Error };
  assert.equal(policy.code, 'SLUICE_ERR_RETRY_POLICY');
  assert.equal(policy.cause, own);
  assert.match(policy.predicateError.message, /cannot read statusCode/);
  assert.match((error as Error).message, /503 from upstream/);
});

test('a value waiting for room downstream when the run stops is counted once: the next stage took in what the last put out', async () => {
  const controller = new AbortController();
  const running = flow(range(4))
    .flatMap((x) => [x, x, x, x], { buffer: 1 })
    .forEach(() => new Promise<never>(() => undefined), { concurrency: 1 })
    .run({ signal: controller.signal })
    .catch((e: unknown) => e);
  // The sink holds one value, the buffer one more, and the flatMap waits to push a third.
  await tick();
  await tick();
  controller.abort();
  const report = reportOf(await running);
  const [split, sink] = report.stages;
  assert.equal(sink?.entered, split?.outputs);
  assert.ok(report.stages.every(addsUp));
});

test('an ordered stage waiting for room when the consumer fails the run leaves no unhandled rejection', async () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    // The map fills its one-slot output and waits for room; the tap takes the first item, which
    // wakes the map, and fails the run on it in the same turn.
    const error = await flow(range(6))
      .map((x) => x, { concurrency: 4, buffer: 1 })
      .tap(
        (x) => {
          if (x === 0) throw new Error('zero');
        },
        { concurrency: 3 },
      )
      .run()
      .catch((e: unknown) => e);
    assert.equal((error as { code: string }).code, 'SLUICE_ERR_STAGE');
    // Unhandled rejections are reported once the microtasks have drained.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(unhandled, []);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
});

test("the run's signal: read only after the run failed it comes aborted with the failure, and every call, a last forEach's too, gets the same one", async () => {
  for (const last of ['map', 'forEach'] as const) {
    const clock = new FakeClock();
    const signals: AbortSignal[] = [];
    const fn = async (x: number, ctx: { signal: AbortSignal }): Promise<number> => {
      if (x === 1) signals.push(ctx.signal);
      if (x === 2) throw new Error('boom');
      if (x === 3) {
        await sleep(clock, 10);
        // Read for the first time after the run failed.
        signals.push(ctx.signal);
      }
      return x;
    };
    const stages = flow([0]).flatMap(() => [1, 2, 3]);
    const running = (
      last === 'map'
        ? stages.map(fn, { concurrency: 3 }).run({ clock })
        : stages.forEach(fn, { concurrency: 3 }).run({ clock })
    ).catch((e: unknown) => e);
    const error = (await running) as Error & { code: string };
    assert.equal(error.code, 'SLUICE_ERR_STAGE', last);
    await clock.advance(10);
    await tick();
    assert.equal(signals.length, 2, last);
    const [early, late] = signals as [AbortSignal, AbortSignal];
    assert.equal(early, late, `${last}: one signal for the run`);
    assert.equal(late.aborted, true, last);
    assert.equal(late.reason, error, `${last}: the reason is the run's failure`);
  }
});
