import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  BATCHES_AHEAD,
  BatchSizer,
  GROWN_ITEMS_IN_FLIGHT,
  LONG_JOB_BATCH_MS,
  MAX_BATCH_SIZE,
  TARGET_BATCH_MS,
  WARMUP_BATCHES,
} from '../../src/exec/pool/batch-sizer.js';
import { HELD_ITEMS } from '../../src/flow/pool-stage.js';

const SEED = 20_261_129;

/** A sizer that has measured `perItemMs` an item. */
function measured(perItemMs: number): BatchSizer {
  const sizer = new BatchSizer();
  sizer.record(1000, perItemMs * 1000);
  return sizer;
}

describe('BatchSizer', () => {
  test('.size - one item until anything is known', () => {
    assert.equal(new BatchSizer().size, 1);
  });

  test('.size - about TARGET_BATCH_MS of work per batch, at most MAX_BATCH_SIZE', () => {
    const sizer = new BatchSizer();
    sizer.record(10, 1); // 0.1 ms an item
    assert.equal(sizer.size, Math.floor(TARGET_BATCH_MS / 0.1));
    const tiny = new BatchSizer();
    tiny.record(1000, 0.001);
    assert.equal(tiny.size, MAX_BATCH_SIZE);
  });

  test('.record() - while warming up, a faster batch sets the estimate at once', () => {
    // A cold worker: its first item takes 0.3 ms, then the JIT makes items 2 us.
    const sizer = new BatchSizer();
    sizer.record(1, 0.3);
    sizer.record(6, 0.012);
    assert.equal(sizer.perItemMs, 0.002);
    assert.equal(sizer.size, 1000);
  });

  test('.record() - a slower batch moves the estimate by the smoothing weight only', () => {
    const sizer = new BatchSizer();
    sizer.record(100, 0.2); // 2 us an item
    sizer.record(100, 1.2); // one batch preempted: 12 us an item
    assert.ok(Math.abs((sizer.perItemMs as number) - 0.005) < 1e-9);
  });

  test('.record() - once warm, a faster batch is smoothed too', () => {
    const sizer = new BatchSizer();
    for (let i = 0; i < WARMUP_BATCHES; i++) sizer.record(100, 0.2);
    sizer.record(100, 0.1);
    assert.ok(Math.abs((sizer.perItemMs as number) - 0.0017) < 1e-9);
  });

  test('.sizeFor() - a short job keeps TARGET_BATCH_MS batches: 10,000 items of 2 us', () => {
    const sizer = measured(0.002);
    assert.equal(sizer.sizeFor({ workers: 2, aheadItems: 10_000, doneMs: 0 }), sizer.size);
    assert.equal(sizer.sizeFor({ workers: 2, aheadItems: 0, doneMs: 0 }), sizer.size);
  });

  test('.sizeFor() - a long job grows its batches toward LONG_JOB_BATCH_MS: 1,000,000 items of 2 us', () => {
    const sizer = measured(0.002);
    const grown = sizer.sizeFor({ workers: 2, aheadItems: 1_000_000, doneMs: 0 });
    assert.equal(grown, Math.min(MAX_BATCH_SIZE, Math.floor(LONG_JOB_BATCH_MS / 0.002)));
    assert.ok(grown >= 4 * sizer.size, `${grown} against ${sizer.size}`);
    // Larger items grow to the same work per message, not the same count.
    const larger = measured(0.1);
    assert.equal(larger.sizeFor({ workers: 2, aheadItems: 1_000_000, doneMs: 0 }), LONG_JOB_BATCH_MS / 0.1);
  });

  test('.sizeFor() - a batch stays a small share of what each worker has ahead', () => {
    // 400,000 items of 2 us on 2 workers: 400 ms each.
    const sizer = measured(0.002);
    assert.equal(
      sizer.sizeFor({ workers: 2, aheadItems: 400_000, doneMs: 0 }),
      Math.floor(400 / BATCHES_AHEAD / 0.002),
    );
    // 100,000 of them: 100 ms each, too short to grow.
    assert.equal(sizer.sizeFor({ workers: 2, aheadItems: 100_000, doneMs: 0 }), sizer.size);
    // 400 items of 4 ms: one a message already, and so they stay.
    assert.equal(measured(4).sizeFor({ workers: 2, aheadItems: 400, doneMs: 0 }), 1);
  });

  test('.sizeFor() - with nothing known ahead, the work done so far stands for what is left', () => {
    // A stream of unknown length, 5 s of work in: likely as long again.
    const sizer = measured(0.002);
    assert.ok(sizer.sizeFor({ workers: 2, aheadItems: 64, doneMs: 5_000 }) > sizer.size);
  });

  test('.sizeFor() - never below size, never past MAX_BATCH_SIZE, LONG_JOB_BATCH_MS, or two pieces a worker of what a cpu() stage holds', () => {
    assert.equal(GROWN_ITEMS_IN_FLIGHT, HELD_ITEMS, 'a stage must hold two grown pieces for every worker');
    fc.assert(
      fc.property(
        fc.double({ min: 1e-5, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 64 }),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.double({ min: 0, max: 1e6, noNaN: true }),
        (perItemMs, workers, aheadItems, doneMs) => {
          const sizer = measured(perItemMs);
          const size = sizer.sizeFor({ workers, aheadItems, doneMs });
          assert.ok(size >= sizer.size);
          assert.ok(size <= MAX_BATCH_SIZE);
          if (size > sizer.size) {
            assert.ok(size * perItemMs <= LONG_JOB_BATCH_MS + 1e-9, `${size} items of ${perItemMs} ms`);
            assert.ok(2 * workers * size <= GROWN_ITEMS_IN_FLIGHT, `${size} items x 2 x ${workers} workers`);
          }
        },
      ),
      { seed: SEED, numRuns: 1000 },
    );
  });
});
