/**
 * The fault suite (fault-suite.ts) in a child process of its own: a few hundred random flows under
 * random faults, from a fixed seed. The child must pass every case and then exit on its own, with
 * no kill: a worker, timer or socket left behind by any case would hold it open.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const suite = fileURLToPath(new URL('./fault-suite.ts', import.meta.url));
const CASES = 300;
const EXIT_BOUND_MS = 120_000;

test(`${CASES} random flows under random faults settle, tear down, add up, keep order and fail with a code`, async () => {
  const { code, killed, stdout, stderr } = await new Promise<{
    code: number | null;
    killed: boolean;
    stdout: string;
    stderr: string;
  }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['--import', 'tsx', suite],
      { env: { ...process.env, FAULT_CASES: String(CASES) }, timeout: EXIT_BOUND_MS, maxBuffer: 16 << 20 },
      (error, out, err) =>
        resolve({
          code: child.exitCode,
          killed: error?.killed ?? false,
          stdout: String(out),
          stderr: String(err),
        }),
    );
  });
  assert.equal(
    killed,
    false,
    `the suite did not exit on its own within ${EXIT_BOUND_MS} ms: something was left behind\n${stderr}`,
  );
  // On failure stderr holds the seed and path that replay the case: FAULT_SEED=... FAULT_PATH=...
  assert.equal(code, 0, stderr);
  const figures = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { cases: number; outcomes: object };
  assert.equal(figures.cases, CASES);
});
