import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { systemClock } from '../../src/core/clock.js';
import { OrderedEmitter } from '../../src/flow/ordered-emitter.js';
import type { RunControl } from '../../src/flow/run-control.js';

const SEED = 20261128;

function runControl(): RunControl & { failures: unknown[] } {
  const failures: unknown[] = [];
  const control = {
    stopped: false,
    signal: new AbortController().signal,
    clock: systemClock,
    failures,
    fail(error: unknown) {
      failures.push(error);
      control.stopped = true;
    },
    invoker: () => {
      throw new Error('not used');
    },
  };
  return control;
}

test('OrderedEmitter - every result goes out once, in number order, whatever order they finish in and however long releases wait', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 60 }).chain((n) =>
        fc.tuple(
          fc.shuffledSubarray(
            Array.from({ length: n }, (_, i) => i),
            { minLength: n, maxLength: n },
          ),
          // For each result: released at once, or after that many microtask turns.
          fc.array(fc.integer({ min: 0, max: 3 }), { minLength: n, maxLength: n }),
        ),
      ),
      async ([finishOrder, waits]) => {
        const run = runControl();
        const out: number[] = [];
        let releasing = 0;
        const emitter = new OrderedEmitter<number>(
          (value) => {
            releasing++;
            assert.equal(releasing, 1, 'one release at a time');
            const turns = waits[value] ?? 0;
            if (turns === 0) {
              out.push(value);
              releasing--;
              return undefined;
            }
            return (async () => {
              for (let i = 0; i < turns; i++) await Promise.resolve();
              out.push(value);
              releasing--;
            })();
          },
          finishOrder.length,
          run,
        );
        for (const seq of finishOrder) {
          emitter.put(seq, seq);
          // The head never passes a result that is not out yet.
          assert.ok(emitter.head <= out.length);
        }
        await emitter.drained();
        assert.deepEqual(
          out,
          finishOrder.map((_, i) => i),
        );
        assert.equal(emitter.head, finishOrder.length);
        assert.deepEqual(run.failures, []);
      },
    ),
    { seed: SEED, numRuns: 300, verbose: 1 },
  );
});

test('OrderedEmitter - hasRoom bounds how far past the head a taker goes; advanced() wakes it when the head moves', async () => {
  const emitter = new OrderedEmitter<number>(() => undefined, 4, runControl());
  assert.equal(emitter.hasRoom(3), true);
  assert.equal(emitter.hasRoom(4), false);
  let woke = false;
  void emitter.advanced().then(() => {
    woke = true;
  });
  emitter.put(1, 1);
  await Promise.resolve();
  assert.equal(woke, false, 'a parked result does not move the head');
  emitter.put(0, 0);
  await Promise.resolve();
  assert.equal(woke, true);
  assert.equal(emitter.head, 2);
  assert.equal(emitter.hasRoom(5), true);
});

test('OrderedEmitter - widen doubles the window up to its most while the head is a result still to come, never while the output holds it', async () => {
  let room = true;
  let freeOutput: () => void = () => undefined;
  const emitter = new OrderedEmitter<number>(
    () => (room ? undefined : new Promise<void>((resolve) => (freeOutput = resolve))),
    4,
    runControl(),
    10,
  );
  assert.equal(emitter.hasRoom(4), false);
  assert.equal(emitter.widen(), true, 'the head is still out: the window widens');
  assert.equal(emitter.hasRoom(7), true);
  assert.equal(emitter.hasRoom(8), false);
  assert.equal(emitter.widen(), true);
  assert.equal(emitter.hasRoom(9), true);
  assert.equal(emitter.hasRoom(10), false);
  assert.equal(emitter.widen(), false, 'at its most');
  const narrow = new OrderedEmitter<number>(
    () => (room ? undefined : new Promise<void>((resolve) => (freeOutput = resolve))),
    4,
    runControl(),
    64,
  );
  room = false;
  narrow.put(0, 0);
  assert.equal(narrow.widen(), false, 'a full output holds the head: widening would only park more');
  room = true;
  freeOutput();
  await Promise.resolve();
  await Promise.resolve();
  assert.equal(narrow.head, 1);
  assert.equal(narrow.widen(), true);
});

test('OrderedEmitter - a release that rejects fails the run, and drained() still settles', async () => {
  const run = runControl();
  const broken = new Error('output failed');
  const emitter = new OrderedEmitter<number>(
    (value) => (value === 0 ? Promise.reject(broken) : undefined),
    8,
    run,
  );
  emitter.put(1, 1);
  emitter.put(0, 0);
  await emitter.drained();
  assert.deepEqual(run.failures, [broken]);
  assert.equal(emitter.head, 0, 'nothing moves past a result that never went out');
});
