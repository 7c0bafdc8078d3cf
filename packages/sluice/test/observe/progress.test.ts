import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import { flow, isSluiceError, type ProgressSnapshot, sleep } from '../../src/index.js';
import { FakeClock } from '../../src/testing.js';

const ESC = '\x1b';

/** A stream that keeps what is written to it, as a terminal (isTTY) or as a log file. */
function capture(isTTY: boolean): PassThrough & { isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  const stream = Object.assign(new PassThrough(), { isTTY, text: () => chunks.join('') });
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  return stream;
}

/** A flow whose items each wait 100 ms of fake time, two at a time. */
function slowFlow(clock: FakeClock, items: number) {
  return flow(Array.from({ length: items }, (_, i) => i)).map(
    (x, { signal }) => sleep(clock, 100, signal).then(() => x),
    { concurrency: 2, name: 'fetch' },
  );
}

describe('run({ progress })', () => {
  test('elsewhere than a terminal, writes plain lines every intervalMs of the run clock', async () => {
    const clock = new FakeClock();
    const stream = capture(false);
    const done = slowFlow(clock, 40).run({ clock, progress: { stream, intervalMs: 1000 } });
    await clock.advance(1000);
    const first = stream.text();
    assert.match(first, /sluice running 1\.0s/);
    // 2 lanes x 10 items a second each, of 40 known from the array: done/total, rate, in flight,
    // ETA. The tick was due before the two items that finish at 1,000 ms, so 18 are done.
    assert.match(first, /fetch\s+18\/40\s+18\/s\s+in flight 2\s+ETA 1\.2s/);
    await clock.advance(500);
    assert.equal(stream.text(), first, 'no line before the next interval');
    await clock.advance(1000);
    await done;
    assert.match(stream.text(), /sluice running 2\.0s\n\s+fetch\s+38\/40/);
    assert.ok(!stream.text().includes(`${ESC}[`), 'no terminal codes in a log');
  });

  test('on a terminal, redraws its lines in place and wipes them when the run ends', async () => {
    const clock = new FakeClock();
    const stream = capture(true);
    const done = slowFlow(clock, 20).run({ clock, progress: { stream, intervalMs: 250 } });
    await clock.advance(250);
    await clock.advance(250);
    await clock.runAll();
    await done;
    const text = stream.text();
    // Two lines a picture (header, one stage): each redraw moves up over the last one and clears
    // each line it rewrites; at the end the picture is erased, for the report to take its place.
    assert.ok(text.includes(`${ESC}[2A\r${ESC}[2Ksluice running 500ms`), JSON.stringify(text));
    assert.ok(text.endsWith(`${ESC}[2A\r${ESC}[0J`), JSON.stringify(text));
  });

  test('shows a warning under the stages instead of writing it elsewhere', async () => {
    const stream = capture(false);
    const emitted: Error[] = [];
    const onWarning = (warning: Error): void => void emitted.push(warning);
    process.on('warning', onWarning);
    try {
      await flow(Array.from({ length: 60 }, (_, i) => i))
        .map(function crunch(x) {
          const until = performance.now() + 5;
          while (performance.now() < until);
          return x;
        })
        .run({ progress: { stream, intervalMs: 50 } });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.deepEqual(emitted, []);
    assert.match(stream.text(), /^ {2}warning: Stage "crunch" blocks the event loop/m);
  });

  test('is off by default', async () => {
    const clock = new FakeClock();
    const snapshots: ProgressSnapshot[] = [];
    const onProgress = (message: unknown): void =>
      void snapshots.push((message as { snapshot: ProgressSnapshot }).snapshot);
    diagnosticsChannel.subscribe('sluice:run:progress', onProgress);
    try {
      const done = slowFlow(clock, 20).run({ clock });
      await clock.advance(1000);
      await clock.runAll();
      await done;
    } finally {
      diagnosticsChannel.unsubscribe('sluice:run:progress', onProgress);
    }
    // Nothing was written anywhere, but the snapshot still went out on its channel, once a second.
    assert.equal(snapshots.length, 1);
    assert.equal(snapshots[0]?.stages[0]?.done, 18);
    assert.equal(snapshots[0]?.stages[0]?.total, 20);
  });

  test('rejects a bad progress option with a coded error', async () => {
    await assert.rejects(
      flow([1])
        .map((x) => x)
        .run({ progress: { intervalMs: 0 } }),
      (error: unknown) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE'),
    );
    await assert.rejects(
      flow([1])
        .map((x) => x)
        .run({ progress: { stream: 42 as never } }),
      (error: unknown) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_TYPE'),
    );
    await assert.rejects(
      flow([1])
        .map((x) => x)
        .run({ logger: console.log as never }),
      (error: unknown) => isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_TYPE'),
    );
  });
});
