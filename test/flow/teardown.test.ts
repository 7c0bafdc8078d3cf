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
