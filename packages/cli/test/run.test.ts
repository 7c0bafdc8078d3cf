import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
