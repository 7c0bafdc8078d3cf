import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

test('a failed run leaves nothing behind: the process exits on its own', async () => {
  const fixture = fileURLToPath(new URL('../fixtures/failing-flow.ts', import.meta.url));
  // The fixture arms one-minute timers; if any survived the teardown, the child would outlive the
  // kill timeout below and the call would reject.
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture], { timeout: 30_000 });
  assert.equal(stdout.trim(), 'SLUICE_ERR_ABORTED');
});

test('runs that end, completed or failed, leave no timer behind, even when they overlapped', async () => {
  const { flow } = await import('../../src/index.js');
  const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const before = timers();
  const slow = flow([1, 2, 3])
    .map(async (x: number) => {
      await new Promise((resolve) => setImmediate(resolve));
      return x;
    })
    .collect();
  const failing = flow([1, 2, 3])
    .map((x: number) => {
      if (x === 2) throw new Error('two');
      return x;
    })
    .collect()
    .catch((error: unknown) => error);
  await Promise.all([slow, failing]);
  assert.equal(timers(), before);
});
