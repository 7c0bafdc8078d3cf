import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * A run's objects die young. V8 allocates a function literal assigned straight to a property
 * (`stats.onBackoff = () => ...`) or written as an object literal's getter in the old generation,
 * and a young-generation collection keeps whatever such a function reaches until the next full
 * collection: every run that made one was kept, whole, which then taught V8 to allocate the runs'
 * own objects in the old generation too (short flows ran at half their speed in half the
 * processes: bench/RESULTS.md). The child runs interpreted code only (`--no-opt`: what the first
 * runs of every process run, and deterministic), with a young generation large enough to hold
 * hundreds of runs between collections and without V8's own pretenuring (which would hide the
 * cause behind its consequence).
 */
test('short flows one after another leave the young-generation collector nothing to keep', async () => {
  const fixture = fileURLToPath(new URL('../fixtures/short-flows.ts', import.meta.url));
  const { stdout } = await run(
    process.execPath,
    [
      '--no-opt',
      '--min-semi-space-size=16',
      '--no-allocation-site-pretenuring',
      '--trace-gc-nvp',
      '--import',
      'tsx',
      fixture,
      '20000',
    ],
    { timeout: 120_000, maxBuffer: 64 * 1024 * 1024 },
  );
  const survived = stdout
    .split('\n')
    .filter((line) => line.includes('gc=s '))
    .map((line) => Number(/ new_space_survived=(\d+)/.exec(line)?.[1]));
  // The first collections carry the program's start (the loader, the modules); the runs come after.
  const during = survived.slice(2);
  assert.ok(during.length >= 4, `expected several young collections, saw ${survived.length}`);
  const median = [...during].sort((a, b) => a - b)[during.length >> 1] as number;
  assert.ok(
    median < 256 * 1024,
    `a young collection kept ${(median / 1024).toFixed(0)} KB (median of ${during.length}: ${during.map((b) => (b / 1024).toFixed(0)).join(', ')} KB)`,
  );
});
