import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  COLD_ITEM_MS,
  COLD_READ,
  FULL_POOL_MS,
  SOLO_MS,
  UNMEASURED_ITEM_MS,
  WARM_MS,
  workersWanted,
} from '../../src/exec/pool/worker-plan.js';

const SEED = 20_261_129;
/** Past the cold start: the time per item may start every worker. */
const warm = { timedMs: WARM_MS };

describe('workersWanted', () => {
  test('before anything is measured, an item counts as UNMEASURED_ITEM_MS: only a job announced as huge starts workers', () => {
    const unmeasured = { workers: 2, doneMs: 0, perItemMs: undefined, timedMs: 0 };
    assert.equal(workersWanted({ ...unmeasured, waitingItems: 10_000 }), 0);
    assert.equal(workersWanted({ ...unmeasured, waitingItems: 100_000 }), 1);
    assert.equal(workersWanted({ ...unmeasured, waitingItems: 1_000_000 }), 2);
    assert.equal(workersWanted({ ...unmeasured, waitingItems: Math.floor(SOLO_MS / UNMEASURED_ITEM_MS) }), 0);
  });

  test('a job the calling thread finishes in SOLO_MS starts no worker', () => {
    // 10,000 items of 2 us, 5 ms of them done: 25 ms all told.
    assert.equal(
      workersWanted({ ...warm, workers: 2, doneMs: 5, perItemMs: 0.002, waitingItems: 10_000 }),
      0,
    );
  });

  test('a mid-size job starts all workers but one: the calling thread is the last', () => {
    // 100,000 items of 2 us: 200 ms.
    assert.equal(
      workersWanted({ ...warm, workers: 2, doneMs: 0, perItemMs: 0.002, waitingItems: 100_000 }),
      1,
    );
    assert.equal(
      workersWanted({ ...warm, workers: 8, doneMs: 0, perItemMs: 0.002, waitingItems: 100_000 }),
      7,
    );
    // A pool of one worker still gets it.
    assert.equal(
      workersWanted({ ...warm, workers: 1, doneMs: 0, perItemMs: 0.002, waitingItems: 100_000 }),
      1,
    );
  });

  test('a long job starts every worker', () => {
    assert.equal(
      workersWanted({ ...warm, workers: 2, doneMs: 0, perItemMs: 0.002, waitingItems: 1_000_000 }),
      2,
    );
    // 400 items of 4 ms.
    assert.equal(workersWanted({ ...warm, workers: 2, doneMs: 4, perItemMs: 4, waitingItems: 399 }), 2);
  });

  test('time the calling thread has spent counts: a job of unknown size starts workers as it goes on', () => {
    assert.equal(
      workersWanted({ ...warm, workers: 2, doneMs: SOLO_MS + 1, perItemMs: 0, waitingItems: 0 }),
      1,
    );
    assert.equal(
      workersWanted({ ...warm, workers: 2, doneMs: FULL_POOL_MS + 1, perItemMs: 0, waitingItems: 0 }),
      2,
    );
  });

  test('until WARM_MS were timed past the first piece, a measured job never starts the last worker', () => {
    // 100,000 items of 2 us whose first calls, still cold, read 1.4 ms each: minutes, projected.
    const cold = { workers: 2, doneMs: 3, perItemMs: 1.4, waitingItems: 99_997 };
    assert.equal(workersWanted({ ...cold, timedMs: 0 }), 1);
    assert.equal(workersWanted({ ...cold, timedMs: WARM_MS - 0.1 }), 1);
    assert.equal(workersWanted({ ...cold, timedMs: WARM_MS }), 2);
    assert.equal(workersWanted({ ...cold, workers: 8, timedMs: 0 }), 7);
    // Announced as huge before anything was timed, a job still starts every worker at once.
    assert.equal(
      workersWanted({
        workers: 2,
        doneMs: 0,
        perItemMs: undefined,
        timedMs: 0,
        waitingItems: 1_000_000,
      }),
      2,
    );
  });

  test('until WARM_MS were timed, a measured cost under COLD_ITEM_MS counts a tenth of what it read (COLD_READ): a short job read cold starts no worker', () => {
    // 10,000 items of 2 us read at 20 us while cold: 200 ms projected, 20 ms at a tenth.
    const cold = { workers: 2, doneMs: 3, perItemMs: 0.02, waitingItems: 9_850 };
    assert.equal(workersWanted({ ...cold, timedMs: WARM_MS - 0.1 }), 0);
    assert.equal(workersWanted({ ...cold, timedMs: WARM_MS }), 1);
    // Long even at a tenth of its reading: the first worker starts at once, the last waits.
    assert.equal(workersWanted({ ...cold, waitingItems: 1_000_000 / COLD_READ, timedMs: 0 }), 1);
    // A millisecond call reads near its cost while cold: 100 items of 1 ms start a worker at once.
    assert.equal(workersWanted({ ...cold, perItemMs: 1, waitingItems: 95, timedMs: 2 }), 1);
    assert.equal(workersWanted({ ...cold, perItemMs: COLD_ITEM_MS, waitingItems: 600, timedMs: 2 }), 1);
  });

  test('between 0 and workers, and never fewer for a longer job', () => {
    const input = fc.record({
      workers: fc.integer({ min: 1, max: 64 }),
      doneMs: fc.double({ min: 0, max: 10_000, noNaN: true }),
      perItemMs: fc.double({ min: 0, max: 100, noNaN: true }),
      timedMs: fc.double({ min: 0, max: 100, noNaN: true }),
      waitingItems: fc.integer({ min: 0, max: 10_000_000 }),
    });
    fc.assert(
      fc.property(input, fc.integer({ min: 0, max: 1_000_000 }), (plan, more) => {
        const wanted = workersWanted(plan);
        assert.ok(wanted >= 0 && wanted <= plan.workers && Number.isInteger(wanted));
        assert.ok(workersWanted({ ...plan, waitingItems: plan.waitingItems + more }) >= wanted);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
