import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { XMLValidator } from 'fast-xml-parser';
import type { TuneResult } from 'sluice';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-tune-'));

/** Answers after 5 ms, and with 503 while more than 12 requests are in flight: a service with a ceiling. */
let server: Server;
let url: string;
let requests = 0;
before(async () => {
  let inFlight = 0;
  server = createServer((_, response) => {
    requests++;
    inFlight++;
    setTimeout(() => {
      response.statusCode = inFlight > 12 ? 503 : 200;
      inFlight--;
      response.end('ok');
    }, 5);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/item`;
});
after(() => {
  server.close();
  rmSync(dir, { recursive: true, force: true });
});

function sluice(...args: string[]) {
  return exec(process.execPath, ['--import', 'tsx', bin, 'tune', ...args]);
}

type Failed = { code: number; stdout: string; stderr: string };

test('sluice tune <url> sweeps the levels, marks the knee, and writes a well-formed chart', async () => {
  const chart = join(dir, 'url.svg');
  const before = requests;
  const { stdout } = await sluice(url, '--levels', '1,4,8', '--duration-ms', '300', '--out', chart);
  assert.match(stdout, /^Concurrency sweep of GET http:\/\/127\.0\.0\.1:\d+\/item/);
  for (const level of [1, 4, 8])
    assert.match(stdout, new RegExp(`^ +${level} +[\\d,]+ +[\\d.]+ +[\\d.]+ +0`, 'm'));
  assert.match(stdout, /<- knee/);
  assert.match(stdout, /^Knee: concurrency \d+ reaches 95% of the best throughput/m);
  assert.ok(requests - before > 50, `only ${requests - before} requests reached the server`);
  const svg = readFileSync(chart, 'utf8');
  assert.equal(XMLValidator.validate(svg), true);
  assert.match(svg, /concurrency/);
});

test('sluice tune --json gives one row per level; more concurrency past the ceiling brings errors', async () => {
  const { stdout } = await sluice(
    url,
    '--levels',
    '2,32',
    '--duration-ms',
    '300',
    '--out',
    join(dir, 'json.svg'),
    '--json',
  );
  const result = JSON.parse(stdout) as TuneResult & { chart: string };
  assert.deepEqual(
    result.levels.map((l) => l.concurrency),
    [2, 32],
  );
  assert.equal(result.levels[0]?.errors, 0);
  assert.ok((result.levels[1]?.errors ?? 0) > 0, 'the service refused some of 32 at once');
  assert.ok(result.chart.endsWith('json.svg'));
});

test('sluice tune --module sweeps a stage of the module’s flow, fed with what reaches it', async () => {
  const { stdout } = await sluice(
    '--module',
    fixture('squares-flow.ts'),
    '--stage',
    'square',
    '--levels',
    '1,2',
    '--items-per-level',
    '200',
    '--out',
    join(dir, 'module.svg'),
  );
  assert.match(stdout, /^Concurrency sweep of stage "square" of /);
  assert.match(stdout, /^ +2 +[\d,]+ /m);
});

test('sluice tune with no target, two targets, or a stage that is not there exits 2 with a coded line', async () => {
  const cases = [
    [],
    [url, '--module', fixture('squares-flow.ts')],
    ['--module', fixture('squares-flow.ts'), '--stage', 'nothing'],
    [url, '--levels', '4,zero'],
  ];
  for (const args of cases) {
    const error = (await sluice(...args, '--out', join(dir, 'x.svg')).catch((e: unknown) => e)) as Failed;
    assert.equal(error.code, 2, args.join(' '));
    assert.match(error.stderr, /^sluice: .+ \(SLUICE_ERR_USAGE\)\n$/, args.join(' '));
  }
});

test('sluice tune against a refused port exits 1 with the first error, and marks no best level', async () => {
  // A port that was free a moment ago: nothing listens there now.
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  const out = join(dir, 'refused.svg');
  const error = (await sluice(
    `http://127.0.0.1:${port}/item`,
    '--levels',
    '1,16',
    '--duration-ms',
    '400',
    '--out',
    out,
  ).catch((e: unknown) => e)) as Failed;
  assert.equal(error.code, 1);
  assert.match(
    error.stderr,
    /^sluice: no call to .* succeeded at any level; the first error: .*ECONNREFUSED.* \(SLUICE_ERR_TUNE_FAILED\)$/m,
  );
  assert.doesNotMatch(error.stdout, /<- (best|knee)/);
  // Refused calls come back at once and the next starts at once: that is not computing, and
  // moving the stage to cpu() would not help.
  assert.doesNotMatch(error.stderr, /SLUICE_W_LOOP_BLOCKED|blocks the event loop/);
});
