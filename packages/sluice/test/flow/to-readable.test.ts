import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { type Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import fc from 'fast-check';
import { flow, type RunReport, type StageReport } from '../../src/index.js';

/** An object-mode Writable that keeps what it is given, a chunk at a time when it can. */
function keeping<T>(): Writable & { values: T[] } {
  const sink = new Writable({
    objectMode: true,
    write(value: T, _encoding, done) {
      sink.values.push(value);
      done();
    },
    writev(chunks, done) {
      for (const { chunk } of chunks) sink.values.push(chunk as T);
      done();
    },
  }) as Writable & { values: T[] };
  sink.values = [];
  return sink;
}

/** Runs `body` and returns the reports of the runs that ended meanwhile (`sluice:run:end`). */
async function reportsOf(body: () => Promise<void>): Promise<RunReport[]> {
  const reports: RunReport[] = [];
  const onEnd = (message: unknown): void => void reports.push((message as { report: RunReport }).report);
  diagnosticsChannel.subscribe('sluice:run:end', onEnd);
  try {
    await body();
    // A cancelled run publishes its end as it stops; give a stream's teardown its turns.
    for (let i = 0; i < 5; i++) await tick();
  } finally {
    diagnosticsChannel.unsubscribe('sluice:run:end', onEnd);
  }
  return reports;
}

/** Items that ended one way or another: every one that entered, unless it was cancelled. */
const settledCount = (stage: StageReport): number =>
  stage.emitted + stage.filtered + stage.skipped + stage.deadLettered + stage.failed;

type Failure = { code: string; message: string; report: RunReport };

/** Reads `readable` until it errors, handing `each` every value; fails the test if it ends instead. */
async function errorOf(readable: Readable, each: (value: unknown) => void): Promise<Failure> {
  try {
    for await (const value of readable) each(value);
  } catch (error) {
    return error as Failure;
  }
  return assert.fail('the stream should error');
}

/** An endless source that counts what was read from it. */
function counting(): { items: Generator<number>; produced: number } {
  const counter = { produced: 0 };
  function* endless(): Generator<number> {
    for (let i = 0; ; i++) {
      counter.produced++;
      yield i;
    }
  }
  return Object.assign(counter, { items: endless() });
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('toReadable() piped into a Writable delivers every output in order, and ends', async () => {
  const sink = keeping<number>();
  await pipeline(
    flow(range(5_000))
      .map(async (x) => x * 2, { concurrency: 16 })
      .toReadable(),
    sink,
  );
  assert.deepEqual(
    sink.values,
    range(5_000).map((x) => x * 2),
  );
});

test('toReadable() runs no further ahead of a reader that stopped reading than its buffers', async () => {
  const source = counting();
  const readable = flow(source.items)
    .map(async (x) => x, { concurrency: 4, buffer: 8 })
    .toReadable({ highWaterMark: 4 });
  const first = await new Promise((resolve) => readable.once('data', resolve));
  readable.pause();
  assert.equal(first, 0);
  for (let i = 0; i < 20; i++) await tick();
  const paused = source.produced;
  for (let i = 0; i < 20; i++) await tick();
  assert.equal(source.produced, paused, 'nothing more is read from the source while the stream is paused');
  // The stream's 4, the stage's channel of 8, its 16-place reorder window, 4 lanes, the source's buffer.
  assert.ok(paused < 100, `the source was read ${paused} times ahead of a reader that took 1`);
  readable.destroy();
});

test('destroying the stream cancels the run: what it was handed is delivered, what it was not is counted', async () => {
  const highWaterMark = 32;
  let consumed = 0;
  const [report] = await reportsOf(async () => {
    const readable = flow(range(10_000))
      .map(async (x) => x, { concurrency: 8 })
      .toReadable({ highWaterMark });
    await new Promise<void>((resolve) => {
      readable.on('data', () => {
        if (++consumed === 100) {
          readable.pause();
          resolve();
        }
      });
    });
    readable.destroy();
  });
  assert.ok(report !== undefined, 'the run ended');
  assert.equal(report.status, 'cancelled');
  const stage = report.stages[0] as StageReport;
  assert.equal(settledCount(stage), stage.entered - stage.cancelled);
  // Handed to the stream: read, or held in its buffer of 32 when it was destroyed.
  const handedOver = stage.emitted - report.undelivered;
  assert.ok(
    handedOver >= consumed && handedOver <= consumed + highWaterMark,
    `${handedOver} handed to the stream, ${consumed} read`,
  );
  assert.ok(stage.entered < 10_000, 'the run stopped early');
});

test('a failing run errors the stream with its coded error and report; every output is accounted for', async () => {
  const readable = flow(range(2_000))
    .map(
      async (x) => {
        await tick();
        if (x === 1_500) throw new Error('boom');
        return x;
      },
      { concurrency: 16 },
    )
    .toReadable();
  const seen: number[] = [];
  const error = await errorOf(readable, (x) => seen.push(x as number));
  assert.equal(error.code, 'SLUICE_ERR_STAGE');
  assert.equal(error.report.status, 'failed');
  assert.deepEqual(seen, range(seen.length));
  assert.equal(error.report.stages[0]?.emitted, seen.length + error.report.undelivered);
});

test('a null output fails the run with a coded error instead of ending the stream early', async () => {
  const seen: unknown[] = [];
  const error = await errorOf(flow([1, 2, null, 3]).toReadable(), (x) => seen.push(x));
  assert.equal(error.code, 'SLUICE_ERR_TERMINAL');
  assert.match(error.message, /null/);
  assert.equal(error.report.status, 'failed');
  // An error destroys a Node stream with what it buffered: 1 and 2 were handed to it.
  assert.deepEqual(seen, [1, 2].slice(0, seen.length));
  // 3 was taken from the source with the others, and never handed on.
  assert.equal(error.report.undelivered, 1);
});

test('property: a stream read for a while, then destroyed or ended, accounts for every output', async () => {
  const seed = 20261129;
  await fc.assert(
    fc.asyncProperty(
      fc.record({
        items: fc.integer({ min: 0, max: 400 }),
        highWaterMark: fc.integer({ min: 1, max: 40 }),
        concurrency: fc.integer({ min: 1, max: 12 }),
        buffer: fc.integer({ min: 1, max: 64 }),
        asynchronous: fc.boolean(),
        /** How many outputs the reader takes before it destroys the stream; past `items`, it reads to the end. */
        readFor: fc.integer({ min: 0, max: 500 }),
      }),
      async ({ items, highWaterMark, concurrency, buffer, asynchronous, readFor }) => {
        const seen: number[] = [];
        const [report] = await reportsOf(async () => {
          const readable = flow(range(items))
            .map(asynchronous ? async (x: number) => x : (x: number) => x, { concurrency, buffer })
            .toReadable({ highWaterMark });
          await new Promise<void>((resolve, reject) => {
            readable.on('error', reject);
            readable.on('end', resolve);
            readable.on('close', resolve);
            readable.on('data', (x: number) => {
              seen.push(x);
              if (seen.length === readFor) {
                readable.pause();
                readable.destroy();
              }
            });
          });
        });
        assert.ok(report !== undefined, 'the run ended');
        assert.deepEqual(seen, range(seen.length), 'outputs arrive in order, none twice');
        const stage = report.stages[0] as StageReport;
        if (report.status === 'completed') {
          assert.equal(seen.length, items);
          assert.equal(report.undelivered, 0);
        } else {
          assert.equal(report.status, 'cancelled');
          assert.ok(
            readFor <= items,
            'only a reader that destroyed the stream before its end cancels the run',
          );
        }
        const handedOver = stage.emitted - report.undelivered;
        assert.ok(
          handedOver >= seen.length && handedOver <= seen.length + highWaterMark,
          `${handedOver} handed to the stream, ${seen.length} read`,
        );
        assert.equal(settledCount(stage), stage.entered - stage.cancelled);
      },
    ),
    { seed, numRuns: 150, verbose: true },
  );
});

test('toReadable() takes the run options: aborting its signal errors the stream, coded, and stops the source', async () => {
  const controller = new AbortController();
  const source = counting();
  const readable = flow(source.items)
    .map(async (x) => x, { concurrency: 4 })
    .toReadable({ signal: controller.signal, highWaterMark: 4 });
  const seen: number[] = [];
  const error = await errorOf(readable, (x) => {
    if (seen.push(x as number) === 50) controller.abort(new Error('enough'));
  });
  assert.equal(error.code, 'SLUICE_ERR_ABORTED');
  assert.equal(error.report.status, 'aborted');
  assert.deepEqual(seen, range(seen.length));
  const stopped = source.produced;
  for (let i = 0; i < 10; i++) await tick();
  assert.equal(source.produced, stopped, 'the source is not read after the abort');
  assert.throws(() => flow([1]).toReadable({ signal: 'no' as never }), {
    code: 'SLUICE_ERR_INVALID_ARG_TYPE',
  });
});

test('a flow whose run cannot start errors its stream with the coded error', async () => {
  const source = counting();
  for await (const _ of flow(source.items)) break;
  const error = await errorOf(flow(source.items).toReadable(), () => assert.fail('nothing to read'));
  assert.equal(error.code, 'SLUICE_ERR_SOURCE_CONSUMED');
});
