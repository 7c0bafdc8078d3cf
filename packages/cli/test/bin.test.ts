import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

test('sluice --version prints the package version', async () => {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', bin, '--version']);
  assert.equal(stdout.trim(), version);
});

test('npm ci leaves a sluice command that runs the built CLI, as the README’s npx sluice does', async () => {
  const linked = fileURLToPath(new URL('../../../node_modules/.bin/sluice', import.meta.url));
  // As a user runs it: the built files, not the sources the test run resolves 'sluice' to.
  const { NODE_OPTIONS: _, ...env } = process.env;
  const { stdout } = await run(linked, ['--version'], { env }).catch((error: unknown) => {
    throw new Error(
      `node_modules/.bin/sluice did not run (${(error as Error).message}); run npm ci, whose prepare script builds dist/`,
    );
  });
  assert.equal(stdout.trim(), version);
});

test('sluice with an unknown command exits 2 with one coded line of error', async () => {
  const error = await run(process.execPath, ['--import', 'tsx', bin, 'frobnicate']).catch((e: unknown) => e);
  assert.equal((error as { code: number }).code, 2);
  assert.match(
    (error as { stderr: string }).stderr.split('\n')[0] ?? '',
    /unknown command .frobnicate. \(SLUICE_ERR_USAGE\)/,
  );
});

test('--help and suggestions know every command, and a command named alone still has its own help', async () => {
  const help = await run(process.execPath, ['--import', 'tsx', bin, '--help']);
  for (const command of ['demo', 'run', 'lab', 'tune', 'worker'])
    assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'), `--help lists ${command}`);
  const runHelp = await run(process.execPath, ['--import', 'tsx', bin, 'run', '--help']);
  assert.match(runHelp.stdout, /^Usage: sluice run \[options\] <module>/m);
  const misspelt = await run(process.execPath, ['--import', 'tsx', bin, 'wroker']).catch((e: unknown) => e);
  assert.equal((misspelt as { code: number }).code, 2);
  assert.match((misspelt as { stderr: string }).stderr, /Did you mean worker\?/);
});
