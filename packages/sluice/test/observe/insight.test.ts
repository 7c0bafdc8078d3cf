import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sleep as sleepOn } from '../../src/core/clock.js';
import {
  adaptive,
  cpu,
  flow,
  formatReport,
  type Logger,
  type RunReport,
  type StageOptions,
} from '../../src/index.js';
import { classify, findBottleneck, type StageSample } from '../../src/observe/classify.js';
import { FakeClock } from '../../src/testing.js';
import { type FakeMeter, withFakeMeter } from '../helpers/fake-meter.js';

const spinTask = new URL('../fixtures/tasks/spin.task.js', import.meta.url);

/**
 * Keeps the event loop busy for `ms`: synchronous computing, as a parser or a hash would. Only the
 * tests of measuring the real process use it; the others say what a call costs on a FakeMeter,
 * so what they assert does not move with the machine's load.
 */
function spin(ms: number): number {
  const until = performance.now() + ms;
  let n = 0;
  while (performance.now() < until) n++;
  return n;
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

/** A logger that keeps what it is told, for tests that read the warnings. */
function recordingLogger(): Logger & { warnings: { fields: object; message: string }[] } {
  const warnings: { fields: object; message: string }[] = [];
  return {
    warnings,
    warn: (fields, message) => warnings.push({ fields, message }),
    info: () => undefined,
    debug: () => undefined,
  };
}

function stage(report: RunReport, name: string): RunReport['stages'][number] {
  const found = report.stages.find((s) => s.name === name);
  assert.ok(found, `no stage "${name}" in ${JSON.stringify(report.stages.map((s) => s.name))}`);
  return found;
}

describe('classification', () => {
  test('a stage that only waits is io-bound', async () => {
    await withFakeMeter(async (meter) => {
      const report = await meter.settle(
        flow(range(120))
          .map(
            async function wait(x) {
              await sleepOn(meter.clock, 10);
              return x;
            },
            { concurrency: 12 },
          )
          .run({ clock: meter.clock }),
      );
      const c = stage(report, 'wait').classification;
      assert.equal(c?.label, 'io-bound', JSON.stringify(c));
      assert.equal(c?.wallMsPerItem, 10);
      assert.equal(c?.cpuMsPerItem, 0);
      assert.deepEqual(report.warnings, []);
    });
  });

  test('synchronous computing inside a map stage is cpu-bound, and warns once that cpu() would move it (measured on the real process)', async () => {
    const logger = recordingLogger();
    const report = await flow(range(60))
      .map(function parse(x) {
        spin(4);
        return x;
      })
      .run({ logger });
    const c = stage(report, 'parse').classification;
    assert.equal(c?.label, 'cpu-bound', JSON.stringify(c));
    assert.ok((c?.cpuMsPerItem ?? 0) >= 3.5, `4 ms of spinning measured as ${c?.cpuMsPerItem} ms of CPU`);
    assert.equal(logger.warnings.length, 1);
    assert.match(logger.warnings[0]?.message ?? '', /Stage "parse" blocks the event loop .* cpu\(\)/);
    assert.deepEqual(
      report.warnings.map((w) => [w.code, w.stage]),
      [['SLUICE_W_LOOP_BLOCKED', 'parse']],
    );
    assert.equal(report.bottleneck?.stage, 'parse');
    assert.ok(report.eventLoop.utilization > 0.8, `event loop busy ${report.eventLoop.utilization}`);
  });

  test('a stage that waits and then computes is mixed', async () => {
    await withFakeMeter(async (meter) => {
      const report = await meter.settle(
        flow(range(50))
          .map(async function fetchAndParse(x) {
            await sleepOn(meter.clock, 4);
            meter.work(4); // after the await: no timed call holds it, the loop's busy time shows it
            return x;
          })
          .run({ logger: recordingLogger(), clock: meter.clock }),
      );
      const c = stage(report, 'fetchAndParse').classification;
      assert.equal(c?.label, 'mixed', JSON.stringify(c));
      assert.equal(c?.cpuShare, 0.5);
    });
  });

  test('a stage that waits longer than it computes is io-bound, one that computes longer is cpu-bound', async () => {
    await withFakeMeter(async (meter) => {
      const report = await meter.settle(
        flow(range(50))
          .map(async function fetchMostly(x) {
            await sleepOn(meter.clock, 9);
            meter.work(1);
            return x;
          })
          .run({ clock: meter.clock }),
      );
      assert.equal(stage(report, 'fetchMostly').classification?.label, 'io-bound');
    });
    await withFakeMeter(async (meter) => {
      const report = await meter.settle(
        flow(range(50))
          .map(async function parseMostly(x) {
            await sleepOn(meter.clock, 1);
            meter.work(9);
            return x;
          })
          .run({ clock: meter.clock, logger: recordingLogger() }),
      );
      assert.equal(stage(report, 'parseMostly').classification?.label, 'cpu-bound');
    });
  });

  test('a cpu() stage is cpu-bound, with its workers’ time per item', async () => {
    const report = await flow(range(80).map(() => 3))
      .map(cpu<number, number>(spinTask, { workers: 2 }))
      .run();
    const c = stage(report, 'spin').classification;
    assert.equal(c?.label, 'cpu-bound');
    assert.ok(
      (c?.cpuMsPerItem ?? 0) >= 2.5 && (c?.cpuMsPerItem ?? 0) < 30,
      `3 ms tasks measured as ${c?.cpuMsPerItem} ms of worker time`,
    );
    assert.match(c?.evidence ?? '', /on 2 workers/);
    // Only the workers computed: the main thread moved items and waited.
    assert.deepEqual(report.warnings, []);
  });

  test("the loop time a cpu() stage's head start takes is that stage's, not the waiting stages'", () => {
    // A small run: 7 fetches that wait 70 ms each, and a cpu() stage whose items ran on the calling
    // thread for 200 ms while its workers started. The loop was busy 210 ms in all.
    const fetch: StageSample = {
      name: 'fetch',
      where: 'event-loop',
      calls: 7,
      wallMsPerItem: 70,
      cpuMsPerItem: 0.5,
      heldMs: 3.5,
      busy: 0.1,
      concurrency: 16,
    };
    const normalize: StageSample = {
      name: 'normalize',
      where: 'workers',
      calls: 668,
      wallMsPerItem: 7,
      cpuMsPerItem: 0.3,
      heldMs: 200,
      busy: 0.2,
      concurrency: 2,
    };
    const [fetched] = classify([fetch, normalize], {
      durationMs: 600,
      loopBusyMs: 210,
      loopUtilization: 0.35,
    });
    // Only the 6.5 ms no stage accounts for is spread over the fetches: about 1.4 ms each.
    assert.equal(fetched?.label, 'io-bound', JSON.stringify(fetched));
    assert.ok((fetched?.cpuMsPerItem ?? 0) < 2, JSON.stringify(fetched));
  });

  test('a loop kept busy by starting and finishing calls that mostly wait names their stage as the bottleneck, not the source', () => {
    // 100,000 GETs at 5,000 in flight to a local server: the client's loop busy all 10.3 s, its
    // lanes mostly waiting for a turn of it (615 calls in flight on average: busy 12%), not for
    // input (an array). Each call held the loop 0.1 ms, its after-await work included.
    const get: StageSample = {
      name: 'get',
      where: 'event-loop',
      calls: 100_000,
      wallMsPerItem: 77,
      cpuMsPerItem: 0.04,
      heldMs: 4_000,
      busy: 0.12,
      concurrency: 5_000,
    };
    const saturated = { durationMs: 10_300, loopBusyMs: 10_290, loopUtilization: 0.999 };
    const classes = classify([get], saturated);
    assert.equal(classes[0]?.label, 'io-bound', JSON.stringify(classes[0]));
    assert.deepEqual(findBottleneck([get], classes, saturated), {
      stage: 'get',
      busy: 0.999,
      reason: 'starting and finishing its calls kept the event loop busy nearly all the time',
    });
    // The same stage on a loop with time to spare was waiting for input.
    const spare = { durationMs: 10_300, loopBusyMs: 5_000, loopUtilization: 0.49 };
    assert.equal(findBottleneck([get], classify([get], spare), spare)?.stage, 'source');
  });

  test('a stage whose every call fails at once is neither labelled nor told to move to cpu()', async () => {
    const logger = recordingLogger();
    // As a refused connection: the attempt's synchronous start holds the loop a little, then it
    // fails a turn later, and the lane takes the next item at once.
    const report = await flow(range(200))
      .map(
        async function connect(x) {
          spin(1);
          await null;
          throw Object.assign(new Error(`connect ECONNREFUSED 127.0.0.1:9 (${x})`), { code: 'ECONNREFUSED' });
        },
        { onError: 'skip' },
      )
      .run({ logger });
    assert.equal(stage(report, 'connect').skipped, 200);
    assert.equal(stage(report, 'connect').classification, undefined);
    assert.deepEqual(logger.warnings, []);
    assert.deepEqual(report.warnings, []);
  });

  test('a computing stage some of whose calls fail is still cpu-bound, and still warned', async () => {
    await withFakeMeter(async (meter) => {
      const logger = recordingLogger();
      const report = await meter.settle(
        flow(range(60))
          .map(
            function parse(x) {
              meter.work(4);
              if (x % 10 === 0) throw new Error(`record ${x} is malformed`);
              return x;
            },
            { onError: 'skip' },
          )
          .run({ logger, clock: meter.clock }),
      );
      assert.equal(stage(report, 'parse').skipped, 6);
      assert.equal(stage(report, 'parse').classification?.label, 'cpu-bound');
      assert.deepEqual(
        report.warnings.map((w) => [w.code, w.stage]),
        [['SLUICE_W_LOOP_BLOCKED', 'parse']],
      );
    });
  });

  /**
   * As an HTTP client thousands of requests wide: each call holds the loop 0.2 ms to start, then
   * waits 20 ms. The loop starts 5,000 a second at most: 100 in flight fill it.
   */
  function waitingCalls(
    meter: FakeMeter,
    items: number,
    concurrency: StageOptions<number>['concurrency'],
    logger: Logger,
    startMs = 0.2,
  ): Promise<RunReport> {
    return meter.settle(
      flow(range(items))
        .map(
          async function request(x) {
            meter.work(startMs);
            await sleepOn(meter.clock, 20);
            return x;
          },
          { concurrency },
        )
        .run({ logger, clock: meter.clock }),
    );
  }

  test('calls that mostly wait but fill the loop between them are warned, without advice to move them to cpu()', async () => {
    await withFakeMeter(async (meter) => {
      const logger = recordingLogger();
      // 400 at once want 4 s of loop a second.
      const report = await waitingCalls(meter, 4_000, 400, logger);
      assert.equal(stage(report, 'request').classification?.label, 'io-bound');
      assert.deepEqual(
        report.warnings.map((w) => [w.code, w.stage]),
        [['SLUICE_W_LOOP_BLOCKED', 'request']],
      );
      const message = report.warnings[0]?.message ?? '';
      assert.match(message, /mostly wait .* cpu\(\) would not help/);
      assert.match(message, /Lower its concurrency/);
      assert.doesNotMatch(message, /Move it to a task module/);
      assert.equal(logger.warnings[0]?.message, message);
    });
  });

  test('a stage whose first calls were its slowest is reported at what its calls cost over the run, and never busier than the loop', async () => {
    await withFakeMeter(async (meter) => {
      const logger = recordingLogger();
      // Every one of the first 64 calls is timed, then one in 16, then one in 1,024: counted one
      // each, the timed calls averaged 1 ms, ten times what the calls after the first 64 cost.
      const report = await meter.settle(
        flow(range(40_000))
          .map(function parse(x) {
            meter.work(x < 64 ? 5 : 0.1);
            return x;
          })
          .run({ logger, clock: meter.clock }),
      );
      const perItem = report.eventLoop.busyMs / 40_000;
      const measured = stage(report, 'parse').classification?.cpuMsPerItem ?? 0;
      assert.ok(Math.abs(measured - perItem) / perItem < 0.1, `${measured} ms an item, against ${perItem}`);
      const messages = report.warnings.map((w) => w.message);
      assert.equal(messages.length, 1, JSON.stringify(messages));
      const busy = /kept it busy (\d+)% of the last/.exec(messages[0] ?? '');
      assert.ok(busy !== null, messages[0]);
      assert.ok(Number(busy[1]) <= 100, messages[0]);
      assert.equal(logger.warnings[0]?.message, messages[0]);
    });
  });

  test('a timed call that was held up (a collection, the scheduler) never makes a stage look busier than the loop was', async () => {
    await withFakeMeter(async (meter) => {
      // Call 8,191 is timed, and stands for the 1,024 calls since the last one timed.
      const report = await meter.settle(
        flow(range(20_000))
          .map(function parse(x) {
            meter.work(x === 8_191 ? 50 : 0.1);
            return x;
          })
          .run({ logger: recordingLogger(), clock: meter.clock }),
      );
      const loopPerItem = report.eventLoop.busyMs / 20_000;
      const measured = stage(report, 'parse').classification?.cpuMsPerItem ?? 0;
      assert.ok(
        measured <= loopPerItem + 1e-9,
        `${measured} ms an item, the loop busy ${loopPerItem} an item`,
      );
      const busy = /kept it busy (\d+)% of the/.exec(report.warnings[0]?.message ?? '');
      assert.ok(busy !== null, JSON.stringify(report.warnings));
      assert.ok(Number(busy[1]) <= 100, report.warnings[0]?.message);
    });
  });

  test('an adaptive stage whose waiting calls fill the loop is told how to bound its limit, not to lower a concurrency it does not set', async () => {
    for (const objective of ['throughput', 'latency'] as const) {
      await withFakeMeter(async (meter) => {
        const logger = recordingLogger();
        const report = await waitingCalls(meter, 20_000, adaptive({ objective, initial: 400 }), logger);
        assert.deepEqual(
          report.warnings.map((w) => [w.code, w.stage]),
          [['SLUICE_W_LOOP_BLOCKED', 'request']],
          objective,
        );
        const message = report.warnings[0]?.message ?? '';
        assert.match(message, /mostly wait .* cpu\(\) would not help/);
        assert.match(message, new RegExp(`adaptive limit \\('${objective}'\\)`));
        assert.match(message, /adaptive\(\{ max \}\)/);
        assert.doesNotMatch(message, /Lower its concurrency/);
      });
    }
  });

  test('a quick stage is not worth a warning, however many items it sees, synchronous or async', async () => {
    // An async call's latency is mostly its turn among 64 lanes of microtasks: not a wait worth a warning.
    for (const step of [(x: number) => x + 1, async (x: number) => x + 1]) {
      const logger = recordingLogger();
      const report = await flow(range(200_000)).map(step, { concurrency: 64 }).run({ logger });
      assert.deepEqual(logger.warnings, [], step.toString());
      assert.deepEqual(report.warnings, [], step.toString());
    }
  });
});

describe('the run report', () => {
  test('names the slowest stage as the bottleneck, with latency percentiles per stage', async () => {
    await withFakeMeter(async (meter) => {
      const report = await meter.settle(
        flow(range(60))
          .map(
            async function quick(x) {
              await sleepOn(meter.clock, 1);
              return x;
            },
            { concurrency: 8 },
          )
          .map(
            async function slow(x) {
              await sleepOn(meter.clock, 20);
              return x;
            },
            { concurrency: 2 },
          )
          .run({ clock: meter.clock }),
      );
      assert.equal(report.bottleneck?.stage, 'slow', JSON.stringify(report.bottleneck));
      const latency = stage(report, 'slow').latencyMs;
      assert.deepEqual(
        [latency?.p50, latency?.p99, stage(report, 'quick').latencyMs?.p99],
        [20, 20, 1],
        JSON.stringify(latency),
      );
      assert.ok(stage(report, 'slow').busy > 0.9, `slow busy ${stage(report, 'slow').busy}`);
      assert.ok(stage(report, 'quick').busy < 0.2, `quick busy ${stage(report, 'quick').busy}`);
    });
  });

  test('times calls that return a thenable other than a promise, and reads each one once', async () => {
    await withFakeMeter(async (meter) => {
      let queries = 0;
      // As a query builder's: `then` runs the query, so a second `then` would run it again.
      const query = (x: number): PromiseLike<number> =>
        ({
          // biome-ignore lint/suspicious/noThenProperty: a thenable that is not a promise, on purpose
          then(resolve: (value: number) => void, reject: (error: unknown) => void): void {
            queries++;
            sleepOn(meter.clock, 5).then(() => resolve(x), reject);
          },
        }) as unknown as PromiseLike<number>;
      let saved = 0;
      const report = await meter.settle(
        flow(range(100))
          .map(function load(x) {
            return query(x);
          })
          .forEach(function save(x) {
            saved += x;
            return query(x);
          })
          .run({ clock: meter.clock }),
      );
      assert.equal(queries, 200);
      assert.equal(saved, 4950);
      // Timed: the first 64 calls, then calls 79 and 95 (one in 16).
      for (const name of ['load', 'save']) {
        const latency = stage(report, name).latencyMs;
        assert.deepEqual(
          [latency?.samples, latency?.p50, latency?.max],
          [66, 5, 5],
          `${name} ${JSON.stringify(latency)}`,
        );
      }
    });
  });

  test('is plain JSON: it survives a round trip unchanged', async () => {
    const report = await flow(range(100))
      .map(async (x) => x * 2, { concurrency: 4 })
      .filter((x) => x % 3 === 0)
      .batch({ size: 10 })
      .run();
    assert.deepEqual(JSON.parse(JSON.stringify(report)), report);
  });

  test('reports how late the event loop ran while a stage blocked it', async () => {
    // Each item arrives in a macrotask of its own, so the loop turns, and its delay is seen, between them.
    async function* trickle(): AsyncGenerator<number> {
      for (let i = 0; i < 8; i++) {
        await new Promise((resolve) => setImmediate(resolve));
        yield i;
      }
    }
    const report = await flow(trickle())
      .map(function block(x) {
        spin(40);
        return x;
      })
      .run({ logger: recordingLogger() });
    assert.ok(report.eventLoop.delayMs.max >= 20, JSON.stringify(report.eventLoop));
    assert.ok((stage(report, 'block').latencyMs?.max ?? 0) >= 39);
  });
});

describe('diagnostics channels', () => {
  test('sluice:run:start and sluice:run:end carry the run id, the stages and the final report', async () => {
    const seen: { channel: string; message: unknown }[] = [];
    const onStart = (message: unknown): void => void seen.push({ channel: 'start', message });
    const onEnd = (message: unknown): void => void seen.push({ channel: 'end', message });
    diagnosticsChannel.subscribe('sluice:run:start', onStart);
    diagnosticsChannel.subscribe('sluice:run:end', onEnd);
    try {
      const report = await flow([1, 2, 3])
        .map(async (x) => x, { name: 'double' })
        .run();
      const start = seen.find((s) => s.channel === 'start')?.message as { runId: string; stages: string[] };
      const end = seen.find((s) => s.channel === 'end')?.message as { runId: string; report: RunReport };
      assert.deepEqual(start.stages, ['double']);
      assert.equal(end.runId, start.runId);
      assert.equal(end.report, report);
    } finally {
      diagnosticsChannel.unsubscribe('sluice:run:start', onStart);
      diagnosticsChannel.unsubscribe('sluice:run:end', onEnd);
    }
  });

  test('sluice:run:end gets the report of a collect(), which returns none, timed to the run end', async () => {
    const clock = new FakeClock();
    const reports: RunReport[] = [];
    const onEnd = (message: unknown): void => void reports.push((message as { report: RunReport }).report);
    diagnosticsChannel.subscribe('sluice:run:end', onEnd);
    try {
      const running = flow([1, 2, 3])
        .map((x) => sleepOn(clock, 100).then(() => x * 2), { name: 'double', concurrency: 3 })
        .collect({ clock });
      await clock.advance(100);
      assert.deepEqual(await running, [2, 4, 6]);
      await clock.advance(1_000);
      assert.equal(reports.length, 1);
      const [report] = reports;
      assert.equal(report?.status, 'completed');
      assert.equal(report?.durationMs, 100);
      assert.equal(report?.stages[0]?.emitted, 3);
    } finally {
      diagnosticsChannel.unsubscribe('sluice:run:end', onEnd);
    }
  });

  test('sluice:insight:warning carries the blocking warning', async () => {
    const warnings: unknown[] = [];
    const onWarning = (message: unknown): void => void warnings.push(message);
    diagnosticsChannel.subscribe('sluice:insight:warning', onWarning);
    try {
      await withFakeMeter(async (meter) => {
        await flow(range(30))
          .map(function crunch(x) {
            meter.work(5);
            return x;
          })
          .run({ logger: recordingLogger(), clock: meter.clock });
      });
    } finally {
      diagnosticsChannel.unsubscribe('sluice:insight:warning', onWarning);
    }
    assert.equal(warnings.length, 1);
    assert.equal((warnings[0] as { warning: { stage: string } }).warning.stage, 'crunch');
  });

  test('without a logger, the warning goes to process.emitWarning with its code', async () => {
    const emitted: Error[] = [];
    const onWarning = (warning: Error): void => void emitted.push(warning);
    process.on('warning', onWarning);
    try {
      await withFakeMeter(async (meter) => {
        await flow(range(30))
          .map(function crunch(x) {
            meter.work(5);
            return x;
          })
          .run({ clock: meter.clock });
      });
      await sleep(0); // process warnings are emitted on the next tick
    } finally {
      process.off('warning', onWarning);
    }
    const ours = emitted.filter((w) => (w as Error & { code?: string }).code === 'SLUICE_W_LOOP_BLOCKED');
    assert.equal(ours.length, 1);
    assert.match(ours[0]?.message ?? '', /"crunch"/);
  });
});

describe('formatReport()', () => {
  test('prints a row per stage with its bound, then the bottleneck, the event loop and warnings', async () => {
    const report = await withFakeMeter((meter) =>
      meter.settle(
        flow(range(40))
          .map(
            async function download(x) {
              await sleepOn(meter.clock, 5);
              return x;
            },
            { concurrency: 8 },
          )
          .map(function crunch(x) {
            meter.work(3);
            return x;
          })
          .run({ logger: recordingLogger(), clock: meter.clock }),
      ),
    );
    const text = formatReport(report);
    assert.match(text, /^completed in /);
    assert.match(text, /^download\s+map\s+40\s+.*io-bound$/m);
    assert.match(text, /^crunch\s+map\s+40\s+.*cpu-bound$/m);
    assert.match(text, /^bottleneck: crunch /m);
    assert.match(text, /^event loop: busy \d+%, delay p99 /m);
    assert.match(text, /^warning: Stage "crunch" blocks the event loop/m);
  });
});
