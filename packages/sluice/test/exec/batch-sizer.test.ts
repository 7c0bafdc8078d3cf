import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BatchSizer,
  MAX_BATCH_SIZE,
  TARGET_BATCH_MS,
  WARMUP_BATCHES,
} from '../../src/exec/pool/batch-sizer.js';

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
});
