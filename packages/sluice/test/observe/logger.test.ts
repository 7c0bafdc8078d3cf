import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/observe/logged-flow.ts', import.meta.url));

test('createLogger() from sluice/log writes the run’s warnings as pino JSON lines, flushed by exit', async () => {
  const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', fixture]);
  const lines = stdout
    .trim()
    .split('\n')
    .map(
      (line) =>
        JSON.parse(line) as { level: number; name: string; code?: string; stage?: string; msg: string },
    );
  const warning = lines.find((line) => line.code === 'SLUICE_W_LOOP_BLOCKED');
  assert.ok(warning, stdout);
  assert.equal(warning.level, 40); // pino's warn
  assert.equal(warning.name, 'sluice');
  assert.equal(warning.stage, 'crunch');
  assert.match(warning.msg, /Stage "crunch" blocks the event loop/);
  // Written asynchronously, yet the last line is there: the destination is flushed at exit.
  assert.equal(lines.at(-1)?.msg, 'run finished');
  // With a logger given, nothing goes to process.emitWarning.
  assert.doesNotMatch(stderr, /SluiceWarning/);
});
