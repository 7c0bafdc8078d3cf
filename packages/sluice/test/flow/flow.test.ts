import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import fc from 'fast-check';
import { sleep } from '../../src/core/clock.js';
import { FakeClock } from '../../src/core/fake-clock.js';
import { joined } from '../../src/flow/flow.js';
import { flow, type RunReport, type StageReport } from '../../src/index.js';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const settledCount = (s: StageReport): number =>
  s.emitted + s.filtered + s.skipped + s.deadLettered + s.failed + s.cancelled;

test('.map() - transforms every item and keeps input order by default', async () => {
  const out = await flow(range(100))
    .map(
      async (x) => {
        await new Promise((resolve) => setTimeout(resolve, (x * 7) % 5));
        return x * 2;
      },
      { concurrency: 8 },
    )
    .collect();
  assert.deepEqual(
    out,
    range(100).map((x) => x * 2),
  );
});

test('.map() - never runs more than `concurrency` calls at once', async () => {
  let inFlight = 0;
  let peak = 0;
  await flow(range(200))
    .map(
      async (x) => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await tick();
        inFlight--;
        return x;
      },
      { concurrency: 7 },
    )
    .run();
  assert.equal(peak, 7);
});

test('.map() - unordered emits as items finish', async () => {
  const release = new Map<number, () => void>();
  const out: number[] = [];
  const done = flow([0, 1, 2])
    .map((x) => new Promise<number>((resolve) => release.set(x, () => resolve(x))), {
      concurrency: 3,
      ordered: false,
    })
    .forEach((x) => {
      out.push(x);
    });
  while (release.size < 3) await tick();
  release.get(2)?.();
  await tick();
  release.get(0)?.();
  await tick();
  release.get(1)?.();
  await done;
  assert.deepEqual(out, [2, 0, 1]);
});

test('.map() - the function receives the index and a signal', async () => {
  const seen: [string, number, boolean][] = [];
  await flow(['a', 'b', 'c'])
    .map((x, ctx) => {
      seen.push([x, ctx.index, ctx.signal instanceof AbortSignal]);
      return x;
    })
    .run();
  assert.deepEqual(seen, [
    ['a', 0, true],
    ['b', 1, true],
    ['c', 2, true],
  ]);
});

test('.filter() - drops items and counts them as filtered', async () => {
  const f = flow(range(10)).filter((x) => x % 2 === 0, { name: 'evens' });
  assert.deepEqual(await f.collect(), [0, 2, 4, 6, 8]);
  const report = await f.run();
  assert.equal(report.stages[0]?.filtered, 5);
  assert.equal(report.stages[0]?.emitted, 5);
  assert.equal(report.stages[0]?.name, 'evens');
});

test('.flatMap() - ordered output keeps each item’s values together, in input order', async () => {
  const out = await flow([3, 1, 2])
    .flatMap(
      async function* (n) {
        for (let i = 0; i < n; i++) {
          await new Promise((resolve) => setTimeout(resolve, n === 3 ? 3 : 0));
          yield `${n}.${i}`;
        }
      },
      { concurrency: 3 },
    )
    .collect();
  assert.deepEqual(out, ['3.0', '3.1', '3.2', '1.0', '2.0', '2.1']);
});

test('.flatMap() - arrays work, and the report counts inputs and outputs apart', async () => {
  const report = await flow([1, 2, 3])
    .flatMap((n) => range(n))
    .run();
  assert.equal(report.stages[0]?.entered, 3);
  assert.equal(report.stages[0]?.emitted, 3);
  assert.equal(report.stages[0]?.outputs, 6);
});

test('.tap() - sees every item and passes it on unchanged', async () => {
  const seen: number[] = [];
  const out = await flow([1, 2, 3])
    .tap((x) => {
      seen.push(x);
    })
    .collect();
  assert.deepEqual(out, [1, 2, 3]);
  assert.deepEqual(seen, [1, 2, 3]);
});

test('.batch() - groups items by size with a partial last batch', async () => {
  const out = await flow(range(7)).batch({ size: 3 }).collect();
  assert.deepEqual(out, [[0, 1, 2], [3, 4, 5], [6]]);
});

test('.forEach() - awaitable, and its report counts consumed items as emitted', async () => {
  const seen: number[] = [];
  const report = await flow(range(5)).forEach(
    async (x) => {
      seen.push(x);
    },
    { concurrency: 2 },
  );
  assert.deepEqual(seen.sort(), range(5));
  assert.equal(report.status, 'completed');
  assert.equal(report.stages[0]?.emitted, 5);
  assert.equal(report.stages[0]?.outputs, 0);
});

test('.collect() - every output once, in order, whatever it is, past the size it gathers outputs in', async () => {
  // Outputs of every kind, arrays among them (kept whole, never spread into the result), over
  // several of collect()'s chunks (64, 128, ... 65,536 outputs: the first five end at 64, 192,
  // 448, 960 and 1,984 outputs), none of their unfilled places left in the result.
  const values = (i: number): unknown =>
    [i, -0, Number.NaN, undefined, null, `s${i}`, [i, [i]], { i }, 2 ** 40 + i][i % 9];
  for (const count of [0, 1, 63, 64, 65, 191, 192, 1_985, 65_471, 65_472, 65_473, 131_009]) {
    // From an iterator, the run's outputs are not known ahead; from an array through a map, they
    // are, and the first chunk is made at that size.
    for (const source of [range(count).values(), range(count)]) {
      const out = await flow(source)
        .map(async (i) => values(i), { concurrency: 8 })
        .collect();
      const what = `${count} outputs from ${Array.isArray(source) ? 'an array' : 'an iterator'}`;
      assert.equal(out.length, count, what);
      assert.equal(Object.keys(out).length, count, `${what}: no holes`);
      assert.deepEqual(out, range(count).map(values), what);
    }
  }
});

test('.collect() from an array: items skipped leave no holes, and items added during the run are kept', async () => {
  // Fewer outputs than the array's items: the result is as long as what came out.
  const skipped = await flow(range(1_000))
    .map(
      async (i) => {
        if (i % 3 === 0) throw new Error(`item ${i}`);
        return i;
      },
      { concurrency: 8, onError: 'skip' },
    )
    .collect();
  const kept = range(1_000).filter((i) => i % 3 !== 0);
  assert.equal(Object.keys(skipped).length, kept.length);
  assert.deepEqual(skipped, kept);

  // More: the array grew while the run read it (an array source is read as it stands).
  const growing = range(100);
  const grown = await flow(growing)
    .tap((i) => {
      if (i < 100) growing.push(i + 100);
    })
    .map((i) => i * 2)
    .collect();
  assert.deepEqual(
    grown,
    range(200).map((i) => i * 2),
  );
});

test("collect()'s join: the chunks' elements once each, in order, however many concat() takes at once", () => {
  // A million outputs from an iterator make 25 chunks, far under the 4,096 one concat() joins:
  // the rounds of joins above that are run here with a handful at once.
  fc.assert(
    fc.property(
      fc.array(
        fc.array(fc.oneof(fc.integer(), fc.string(), fc.array(fc.integer(), { maxLength: 2 })), {
          maxLength: 6,
        }),
        {
          maxLength: 40,
        },
      ),
      fc.integer({ min: 2, max: 5 }),
      (chunks, atOnce) => {
        const expected = chunks.flatMap((chunk) => chunk.map((value) => value));
        assert.deepEqual(joined(chunks, atOnce), expected);
      },
    ),
    { seed: 20_261_130, numRuns: 300 },
  );
});

test('.reduce() - folds the outputs', async () => {
  assert.equal(await flow(range(101)).reduce((sum, x) => sum + x, 0), 5050);
});

test('a Flow is an AsyncIterable, and leaving the loop early stops the source', async () => {
  let produced = 0;
  function* endless(): Generator<number> {
    for (;;) yield produced++;
  }
  const seen: number[] = [];
  for await (const x of flow(endless()).map(async (x) => x * 10, { concurrency: 4 })) {
    seen.push(x);
    if (seen.length === 5) break;
  }
  assert.deepEqual(seen, [0, 10, 20, 30, 40]);
  const before = produced;
  await tick();
  assert.equal(produced, before, 'nothing is read once the consumer left');
});

test('.toReadable() - converts to a Node object-mode Readable', async () => {
  const readable = flow([1, 2, 3])
    .map((x) => x + 1)
    .toReadable();
  const out: number[] = [];
  for await (const x of readable) out.push(x as number);
  assert.deepEqual(out, [2, 3, 4]);
});

test('sources: async iterables, Node Readables and web ReadableStreams', async () => {
  async function* gen(): AsyncGenerator<number> {
    yield 1;
    yield 2;
  }
  assert.deepEqual(await flow(gen()).collect(), [1, 2]);
  assert.deepEqual(await flow(Readable.from([3, 4])).collect(), [3, 4]);
  const web = new ReadableStream<number>({
    start(controller) {
      controller.enqueue(5);
      controller.enqueue(6);
      controller.close();
    },
  });
  assert.deepEqual(await flow(web).collect(), [5, 6]);
});

test('a flow over an array can run twice; one over a generator cannot', async () => {
  const overArray = flow([1, 2]).map((x) => x);
  assert.deepEqual(await overArray.collect(), [1, 2]);
  assert.deepEqual(await overArray.collect(), [1, 2]);
  const overGenerator = flow(
    (function* () {
      yield 1;
    })(),
  );
  await overGenerator.collect();
  await assert.rejects(overGenerator.collect(), { code: 'SLUICE_ERR_SOURCE_CONSUMED' });
});

test('the report adds up for every stage of a multi-stage flow', async () => {
  const report = await flow(range(1000))
    .map(async (x) => x + 1, { concurrency: 16 })
    .filter((x) => x % 3 !== 0)
    .flatMap((x) => [x, x])
    .batch({ size: 64 })
    .forEach(() => undefined)
    .run();
  assert.equal(report.status, 'completed');
  assert.equal(report.source.items, 1000);
  for (const stage of report.stages) {
    assert.equal(settledCount(stage), stage.entered, `${stage.name} adds up`);
    assert.equal(stage.cancelled, 0);
  }
  const [map, filter, flat, batch] = report.stages;
  assert.equal(map?.entered, 1000);
  assert.equal(filter?.entered, 1000);
  assert.equal(flat?.entered, filter?.emitted);
  assert.equal(batch?.entered, flat?.outputs);
  assert.equal(batch?.outputs, Math.ceil((flat?.outputs ?? 0) / 64));
  assert.doesNotThrow(() => JSON.parse(JSON.stringify(report)));
});

test('a run over a large in-memory source with synchronous functions does not starve the event loop', async () => {
  // A clock on which every reading is a millisecond later: the stage sees it has kept the loop
  // to itself for long, without the test depending on how fast this machine is.
  let now = 0;
  const clock = {
    now: () => now++,
    setTimeout,
    clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
  };
  let processed = 0;
  let processedWhenImmediateRan = -1;
  setImmediate(() => {
    processedWhenImmediateRan = processed;
  });
  await flow(range(100_000))
    .map((x) => {
      processed++;
      return x;
    })
    .run({ clock });
  assert.ok(
    processedWhenImmediateRan >= 0 && processedWhenImmediateRan < 100_000,
    `the macrotask ran after ${processedWhenImmediateRan} of 100000 items`,
  );
});

test('a clock that moves at every reading still lets every terminal call its function between turns', {
  timeout: 60_000,
}, async () => {
  // A fake clock that advances as it is read, or a coarse one that steps by more than the 10 ms a
  // stage may keep the loop: each reading finds a turn due. The stage must still call its function
  // between turns, or it hands the loop turn after turn and the run never ends.
  const seed = 20261130;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        step: fc.integer({ min: 0, max: 50 }),
        items: fc.integer({ min: 0, max: 300 }),
        concurrency: fc.integer({ min: 1, max: 64 }),
        terminal: fc.constantFrom('run', 'reduce', 'collect', 'forEach', 'readable'),
        sync: fc.boolean(),
      }),
      async ({ step, items, concurrency, terminal, sync }) => {
        let now = 0;
        const clock = {
          now: () => (now += step),
          setTimeout,
          clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
        };
        const mapped = flow(range(items)).map(sync ? (x: number) => x : async (x: number) => x, {
          concurrency,
        });
        const expected = range(items).reduce((a, x) => a + x, 0);
        let sum = 0;
        if (terminal === 'run') {
          const report = await mapped.run({ clock });
          assert.equal(report.stages[0]?.emitted, items);
          return;
        }
        if (terminal === 'reduce') sum = await mapped.reduce((a, x) => a + x, 0, { clock });
        else if (terminal === 'collect') for (const x of await mapped.collect({ clock })) sum += x;
        else if (terminal === 'forEach') {
          await mapped
            .forEach(
              (x) => {
                sum += x;
              },
              { concurrency },
            )
            .run({ clock });
        } else for await (const x of mapped.toReadable({ clock })) sum += x as number;
        assert.equal(sum, expected);
      },
    ),
    { seed, numRuns: 60, verbose: true },
  );
});

test('lanes cost nothing until there is work: concurrency 1e9 over three items, every terminal', async () => {
  const double = async (x: number): Promise<number> => x * 2;
  const huge = () => flow([1, 2, 3]).map(double, { concurrency: 1e9 });
  const started = performance.now();
  const report = await huge().run();
  assert.equal(report.status, 'completed');
  assert.equal(report.stages[0]?.concurrency, 1e9);
  assert.equal(report.stages[0]?.entered, 3);
  assert.equal(report.stages[0]?.emitted, 3);
  assert.equal(report.undelivered, 0);
  assert.deepEqual(await huge().collect(), [2, 4, 6]);
  assert.equal(await huge().reduce((sum, x) => sum + x, 0), 12);
  const seen: number[] = [];
  await huge().forEach((x) => {
    seen.push(x);
  });
  assert.deepEqual(seen, [2, 4, 6]);
  seen.length = 0;
  for await (const x of huge()) seen.push(x);
  assert.deepEqual(seen, [2, 4, 6]);
  const fromStream = await flow(Readable.from([1, 2, 3]))
    .map(double, { concurrency: 1e9 })
    .collect();
  assert.deepEqual(fromStream, [2, 4, 6]);
  const failing = flow([1, 2, 3]).map(
    async (x: number) => {
      if (x === 2) throw new Error('boom');
      return x;
    },
    { concurrency: 1e9 },
  );
  const error = await failing.collect().then(
    () => assert.fail('the run should fail'),
    (e: unknown) => e as { code: string; report: { stages: StageReport[] } },
  );
  assert.equal(error.code, 'SLUICE_ERR_STAGE');
  assert.equal(settledCount(error.report.stages[0] as StageReport), 3);
  // Before lanes started lazily this ran out of heap; a second is a generous bound for five runs.
  assert.ok(performance.now() - started < 1_000, `took ${performance.now() - started} ms`);
});

test('lanes start as items keep the others busy: as many in flight as items, up to concurrency', async () => {
  const peakInFlight = async (items: number, concurrency: number, source: 'array' | 'async') => {
    let inFlight = 0;
    let peak = 0;
    let started = 0;
    const input = source === 'array' ? range(items) : Readable.from(range(items));
    const report = await flow(input)
      .map(
        async (x: number) => {
          started++;
          peak = Math.max(peak, ++inFlight);
          await tick();
          inFlight--;
          return x;
        },
        { concurrency },
      )
      .run();
    assert.equal(started, items);
    assert.equal(settledCount(report.stages[0] as StageReport), items);
    return peak;
  };
  assert.equal(await peakInFlight(3, 100_000, 'array'), 3);
  assert.equal(await peakInFlight(200, 8, 'array'), 8);
  assert.equal(await peakInFlight(200, 8, 'async'), 8);
  assert.equal((await peakInFlight(50, 1_000_000, 'async')) <= 50, true);
});

test('every terminal accounts for every item when a stage fails midway: consumed plus undelivered is emitted', async () => {
  const failing = () =>
    flow(range(2_000)).map(
      async (x: number) => {
        await tick();
        if (x === 1_500) throw new Error('boom');
        return x;
      },
      { concurrency: 16 },
    );
  type Failure = { code: string; report: { stages: StageReport[]; undelivered: number } };
  const reportOf = (error: unknown) => {
    const { code, report } = error as Failure;
    assert.equal(code, 'SLUICE_ERR_STAGE');
    for (const stage of report.stages) assert.equal(settledCount(stage), stage.entered);
    assert.equal(report.stages[0]?.failed, 1);
    return report;
  };
  const delivered = (error: unknown, consumed: number) => {
    const report = reportOf(error);
    assert.equal(report.stages[0]?.emitted, consumed + report.undelivered);
  };
  let consumed = 0;
  delivered(
    await failing()
      .reduce((n) => {
        consumed++;
        return n;
      }, 0)
      .catch((e: unknown) => e),
    consumed,
  );
  const readerError = await (async () => {
    consumed = 0;
    for await (const _ of failing()) consumed++;
  })().catch((e: unknown) => e);
  delivered(readerError, consumed);
  consumed = 0;
  const sinkError = await failing()
    .forEach(() => {
      consumed++;
    })
    .then(
      () => assert.fail('the run should fail'),
      (e: unknown) => e,
    );
  const [map, sink] = reportOf(sinkError).stages as [StageReport, StageReport];
  assert.equal(sink.entered, map.emitted);
  assert.equal(sink.emitted, consumed);
  reportOf(
    await failing()
      .run()
      .catch((e: unknown) => e),
  );
});

test('a reader that leaves early: every output the stage emitted was read or is undelivered', async () => {
  // A value a lane handed to a full channel used to be counted when its push resolved, a turn
  // after the reader took it: a reader that broke off in that turn left it counted as never emitted.
  const reports: RunReport[] = [];
  const onEnd = (message: unknown): void => void reports.push((message as { report: RunReport }).report);
  diagnosticsChannel.subscribe('sluice:run:end', onEnd);
  try {
    for (const concurrency of [1, 2, 4])
      for (const buffer of [1, 2])
        for (const ordered of [true, false])
          for (const readFor of [1, 2, 3, 5]) {
            reports.length = 0;
            let seen = 0;
            for await (const _ of flow(range(8)).map((x) => x, { concurrency, buffer, ordered })) {
              if (++seen === readFor) break;
            }
            for (let i = 0; i < 3 && reports.length === 0; i++) await tick();
            const report = reports[0] as RunReport;
            const at = JSON.stringify({ concurrency, buffer, ordered, readFor });
            assert.equal(report.status, 'cancelled', at);
            assert.equal(report.stages[0]?.emitted, seen + report.undelivered, at);
          }
  } finally {
    diagnosticsChannel.unsubscribe('sluice:run:end', onEnd);
  }
});

test('an item an async source gives alone is taken when it comes, not with a later one', async () => {
  const clock = new FakeClock();
  // Three items at once (a page), then one every 100 ms.
  async function* pages(): AsyncGenerator<string> {
    yield 'a';
    yield 'b';
    yield 'c';
    for (const item of ['d', 'e']) {
      await sleep(clock, 100);
      yield item;
    }
  }
  const takenAt: string[] = [];
  const running = flow(pages())
    .map(
      (item) => {
        takenAt.push(`${item}@${clock.now()}`);
        return item;
      },
      { concurrency: 4 },
    )
    .collect({ clock });
  await clock.advance(0);
  assert.deepEqual(takenAt, ['a@0', 'b@0', 'c@0']);
  await clock.advance(100);
  assert.deepEqual(takenAt.slice(3), ['d@100'], 'd is taken when it comes, not with a later item');
  await clock.advance(100);
  assert.deepEqual(await running, ['a', 'b', 'c', 'd', 'e']);
  assert.deepEqual(takenAt.slice(4), ['e@200']);
});
