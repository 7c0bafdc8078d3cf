import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { RunReport } from 'sluice';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-run-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function sluiceRun(...args: string[]) {
  return exec(process.execPath, ['--import', 'tsx', bin, 'run', ...args]);
}

type Failed = { code: number; stdout: string; stderr: string };

test('sluice run runs the flow a module returns, prints the per-stage summary and writes the report', async () => {
  const out = join(dir, 'report.json');
  const { stdout } = await sluiceRun(fixture('squares-flow.ts'), '--report', out);
  assert.match(stdout, /^completed in [\d.]+m?s, 100 items from the source/);
  // Per stage: items out, rate, latency, busy share and what bounds it; then the bottleneck.
  assert.match(stdout, /^square +map +100 +[\d,]+\/s .*(light|cpu-bound|io-bound|mixed)$/m);
  assert.match(stdout, /^even +filter +50 /m);
  assert.match(stdout, /^bottleneck: /m);
  assert.match(stdout, /^event loop: busy \d+%/m);
  const report = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
  assert.equal(report.status, 'completed');
  assert.deepEqual(
    report.stages.map((s) => [s.name, s.entered]),
    [
      ['square', 100],
      ['even', 100],
      ['batch#2', 50],
      ['sink', 5],
    ],
  );
});

test('sluice run --json prints the report as JSON', async () => {
  const { stdout } = await sluiceRun(fixture('squares-flow.ts'), '--json');
  assert.equal((JSON.parse(stdout) as RunReport).status, 'completed');
});

test('sluice run with a failing flow exits 1 with one coded line, and still writes the report', async () => {
  const out = join(dir, 'failed.json');
  const error = (await sluiceRun(fixture('broken-flow.ts'), '--report', out).catch(
    (e: unknown) => e,
  )) as Failed;
  assert.equal(error.code, 1);
  assert.equal(
    error.stderr,
    'sluice: Stage "check" failed on item 6: seven is not allowed (SLUICE_ERR_STAGE)\n',
  );
  const report = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
  assert.equal(report.status, 'failed');
  assert.equal(report.error?.code, 'SLUICE_ERR_STAGE');
});

test('sluice run with a missing module, or one without a flow, exits 2 with a coded usage line', async () => {
  for (const module of [join(dir, 'nowhere.js'), fixture('no-flow.ts')]) {
    const error = (await sluiceRun(module).catch((e: unknown) => e)) as Failed;
    assert.equal(error.code, 2, module);
    assert.match(error.stderr, /^sluice: .+ \(SLUICE_ERR_USAGE\)\n$/);
  }
  const none = (await sluiceRun().catch((e: unknown) => e)) as Failed;
  assert.equal(none.code, 2);
  assert.match(none.stderr, /missing required argument 'module' \(SLUICE_ERR_USAGE\)/);
});

/**
 * Starts `sluice run` on the endless fixture in the given shape, presses Ctrl-C once its first item
 * reached the sink, and returns how it ended.
 */
async function interruptShape(
  shape: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', bin, 'run', '--no-progress', fixture('endless-flow.ts')],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SHAPE: shape } },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  const started = new Promise<void>((resolve) => {
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk;
      if (stderr.includes('started')) resolve();
    });
  });
  const exited = once(child, 'exit') as Promise<[number | null]>;
  await Promise.race([started, exited]);
  child.kill('SIGINT');
  // One Ctrl-C must do: a run that ignores it is killed here, and the test fails on its exit code.
  const guard = setTimeout(() => child.kill('SIGKILL'), 10_000);
  const [code] = await exited;
  clearTimeout(guard);
  return { code, stdout, stderr };
}

test('one Ctrl-C stops every shape a module can export, exits 130 and prints the report', async () => {
  const shapes = [
    'function-sink',
    'async-function-sink',
    'sink',
    'function-flow',
    'async-function-flow',
    'flow',
  ];
  const results = await Promise.all(shapes.map(interruptShape));
  for (const [i, { code, stdout, stderr }] of results.entries()) {
    const shape = shapes[i];
    assert.equal(code, 130, `${shape}: exit ${code}\n${stderr}`);
    assert.match(stdout, /^aborted in /, `${shape}: the report`);
    assert.match(
      stdout,
      /^error: The run was aborted: interrupted by SIGINT \(SLUICE_ERR_ABORTED\)$/m,
      shape,
    );
    assert.match(stderr, /sluice: interrupted \(SLUICE_ERR_ABORTED\)\n$/, shape);
  }
});

test('sluice run with calls that never settle says the run stalled, exits 1 and writes the report', async () => {
  const out = join(dir, 'stalled.json');
  const error = (await sluiceRun(fixture('stalled-flow.ts'), '--no-progress', '--report', out).catch(
    (e: unknown) => e,
  )) as Failed;
  assert.equal(error.code, 1);
  assert.match(error.stderr, /^sluice: the run stalled: .* \(SLUICE_ERR_STALLED\)\n$/);
  assert.match(error.stdout, /^aborted in /);
  const report = JSON.parse(readFileSync(out, 'utf8')) as RunReport;
  assert.equal(report.status, 'aborted');
  assert.equal(report.stages[0]?.cancelled, report.stages[0]?.entered);
});

test('sluice run names the file, line and column of a syntax error in the module', async () => {
  const cases: [string, string, RegExp][] = [
    ['broken.mjs', 'export default () => {\n  const x = ;\n};\n', /broken\.mjs:2:13: Unexpected token ';'/],
    ['broken.ts', 'export default (x: number) => x +;\n', /broken\.ts:1:34: Unexpected ";"/],
    ['throws.mjs', 'export default 1;\nthrow new Error("no config");\n', /throws\.mjs:2:7: no config/],
  ];
  for (const [name, source, expected] of cases) {
    const file = join(dir, name);
    writeFileSync(file, source);
    const error = (await sluiceRun(file).catch((e: unknown) => e)) as Failed;
    assert.equal(error.code, 1, name);
    assert.match(error.stderr, /^sluice: cannot load .* \(SLUICE_ERR_MODULE_LOAD\)\n$/, name);
    assert.match(error.stderr, expected, name);
  }
});

test('sluice run --report into a folder that does not exist fails before the run, with exit 2', async () => {
  const out = join(dir, 'no-such-folder', 'report.json');
  const error = (await sluiceRun(fixture('squares-flow.ts'), '--report', out).catch(
    (e: unknown) => e,
  )) as Failed;
  assert.equal(error.code, 2);
  assert.match(error.stderr, /^sluice: --report .*no-such-folder.*ENOENT.*\(SLUICE_ERR_USAGE\)\n$/);
  assert.equal(error.stdout, '', 'nothing ran');
  assert.equal(existsSync(out), false);
});
