import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { workerExecArgv } from '../../src/exec/pool/worker-handle.js';

const run = promisify(execFile);
const sluice = new URL('../../src/index.ts', import.meta.url).href;
const square = new URL('../fixtures/tasks/square.task.js', import.meta.url).href;

test('workerExecArgv() drops the flags that name the parent’s own entry point, and only those', () => {
  assert.equal(workerExecArgv(['--import', 'tsx', '--conditions=x']), undefined);
  assert.deepEqual(
    workerExecArgv(['--import', 'tsx', '--input-type=module', '-e', 'run()', '--max-old-space-size=64']),
    ['--import', 'tsx', '--max-old-space-size=64'],
  );
  assert.deepEqual(workerExecArgv(['--input-type', 'module', '--eval=x()', '-p', '1', '--check']), []);
});

for (const isolation of ['thread', 'process'] as const) {
  test(`cpu() runs on ${isolation} workers from a script given to node --input-type=module -e`, async () => {
    const script = `
      const { cpu, flow } = await import(${JSON.stringify(sluice)});
      const out = await flow([1, 2, 3]).map(cpu(new URL(${JSON.stringify(square)}), { workers: 1, isolation: '${isolation}' })).collect();
      console.log(JSON.stringify(out.map((r) => r.square)));`;
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 60_000,
    });
    assert.equal(stdout.trim(), '[1,4,9]');
  });
}
