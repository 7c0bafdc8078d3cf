import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { TimeoutError, WorkerCrashedError } from '../../src/core/errors.js';
import { recover } from '../../src/exec/pool/crash-recovery.js';
import { around, cut, type Job, type Piece, pieceOf, singles } from '../../src/exec/pool/pieces.js';

const SEED = 20_261_129;

function jobOf(length: number, first = 0): Job {
  return {
    items: Array.from({ length }, (_, i) => `item-${first + i}`),
    first,
    attempt: 1,
    timeout: undefined,
    signal: undefined,
    values: new Array(length),
    errors: undefined,
    remaining: length,
    settled: false,
    transfer: [],
    resolve: () => undefined,
    reject: () => undefined,
    detach: () => undefined,
  };
}

/** The job offsets a list of pieces covers, in queue order. */
const offsets = (pieces: readonly Piece[]): number[] =>
  pieces.flatMap((piece) => Array.from({ length: piece.count }, (_, i) => piece.offset + i));

const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

/** A worker's pieces: consecutive runs of one job, each given the id a worker message would have. */
const workerPieces = fc
  .array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 4 })
  .map((counts) => {
    const job = jobOf(counts.reduce((a, b) => a + b, 0));
    let offset = 0;
    return counts.map((count, i) => {
      const piece = { ...pieceOf(job, offset, count), id: i + 1 };
      offset += count;
      return piece;
    });
  });

describe('cutting pieces', () => {
  test('cut, singles and around keep every item, in order, and only around drops the one it names', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 30 }), (count, at) => {
        const piece = pieceOf(jobOf(100), 7, count);
        const [head, rest] = cut(piece, at + 1);
        assert.deepEqual(offsets(rest === undefined ? [head] : [head, rest]), range(7, count));
        assert.ok(head.count <= at + 1);
        assert.deepEqual(offsets(singles(piece)), range(7, count));
        assert.ok(singles(piece).every((single) => single.count === 1 && single.strikes === 0));
        const position = at % count;
        const without = range(7, count).filter((offset) => offset !== 7 + position);
        assert.deepEqual(offsets(around(piece, position)), without);
        const retried = around(piece, position, 2);
        assert.deepEqual(offsets(retried), range(7, count));
        assert.deepEqual(
          retried.filter((part) => part.strikes > 0).map((part) => [part.offset, part.count, part.strikes]),
          [[7 + position, 1, 2]],
        );
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('recover: what becomes of a dead worker’s pieces', () => {
  test('every item it held is requeued or failed, exactly once, whatever it was running', () => {
    fc.assert(
      fc.property(
        workerPieces,
        fc.option(fc.integer({ min: -1, max: 19 }), { nil: undefined }),
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.boolean(),
        (inflight, position, strikes, maxCrashRetries, killed) => {
          const head = inflight[0] as Piece;
          const running = position === undefined ? undefined : Math.min(position, head.count - 1);
          const first = head.count === 1 ? { ...head, strikes } : head;
          const pieces = [first, ...inflight.slice(1)];
          const { requeue, failed } = recover(
            {
              inflight: pieces,
              killedFor:
                killed && running !== undefined && running >= 0
                  ? { piece: first, position: running }
                  : undefined,
              runningPosition: running,
            },
            new Error('exit code 1'),
            maxCrashRetries,
            () => new TimeoutError('overran'),
          );
          const held = offsets(pieces);
          const back = offsets(requeue);
          const all = failed === undefined ? back : [...back, failed.index];
          assert.deepEqual(
            [...all].sort((a, b) => a - b),
            held,
            'nothing lost, nothing doubled',
          );
          assert.ok(
            requeue.every((piece) => piece.id === 0),
            'requeued pieces are queued, not in flight',
          );
          // The pieces that never started go back behind what the head becomes, as they were.
          assert.deepEqual(
            back.slice(back.length - offsets(pieces.slice(1)).length),
            offsets(pieces.slice(1)),
          );
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('the item the watchdog killed the worker for fails with the timeout; its neighbours go back without a strike', () => {
    const job = jobOf(5);
    const head = { ...pieceOf(job, 0, 5), id: 3 };
    const { requeue, failed } = recover(
      { inflight: [head], killedFor: { piece: head, position: 2 }, runningPosition: 2 },
      new Error('terminated'),
      2,
      () => new TimeoutError('overran its deadline'),
    );
    assert.equal(failed?.index, 2);
    assert.ok(failed?.error instanceof TimeoutError);
    assert.deepEqual(
      requeue.map((piece) => [piece.offset, piece.count, piece.strikes]),
      [
        [0, 2, 0],
        [3, 2, 0],
      ],
    );
  });

  test('the running item is retried alone with a strike, and fails as crashed once past maxCrashRetries', () => {
    const job = jobOf(4, 100);
    const head = { ...pieceOf(job, 0, 4), id: 1 };
    const first = recover(
      { inflight: [head], killedFor: undefined, runningPosition: 1 },
      new Error('boom'),
      1,
      () => {
        throw new Error('no deadline here');
      },
    );
    assert.equal(first.failed, undefined);
    const alone = first.requeue.find((piece) => piece.strikes > 0) as Piece;
    assert.deepEqual([alone.offset, alone.count, alone.strikes], [1, 1, 1]);

    // It crashes its fresh worker too: two strikes, past one retry.
    const second = recover(
      { inflight: [{ ...alone, id: 9 }], killedFor: undefined, runningPosition: 0 },
      new Error('boom again'),
      1,
      () => new TimeoutError('unused'),
    );
    assert.deepEqual(second.requeue, []);
    assert.ok(second.failed?.error instanceof WorkerCrashedError);
    assert.equal(second.failed?.index, 1);
    assert.match(second.failed?.error.message ?? '', /Item 101 crashed its worker 2 times; last: boom again/);
  });

  test('a worker that cannot say which item it ran has each item retried alone; one that ran none, the piece whole', () => {
    const job = jobOf(3);
    const head = { ...pieceOf(job, 0, 3), id: 1 };
    const unknown = recover(
      { inflight: [head], killedFor: undefined, runningPosition: undefined },
      new Error('x'),
      2,
      () => new TimeoutError('t'),
    );
    assert.deepEqual(
      unknown.requeue.map((piece) => [piece.offset, piece.count, piece.strikes]),
      [
        [0, 1, 0],
        [1, 1, 0],
        [2, 1, 0],
      ],
    );
    const none = recover(
      { inflight: [head], killedFor: undefined, runningPosition: -1 },
      new Error('x'),
      2,
      () => new TimeoutError('t'),
    );
    assert.deepEqual(
      none.requeue.map((piece) => [piece.offset, piece.count, piece.id]),
      [[0, 3, 0]],
    );
  });
});
