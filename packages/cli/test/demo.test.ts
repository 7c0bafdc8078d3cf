import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import { identityOf } from '../src/demo/normalize.js';
import { Population } from '../src/demo/population.js';
import type { DemoSummary } from '../src/demo/summary.js';
import { WorkerProcess } from '../src/worker/worker-process.js';

const exec = promisify(execFile);
const bin = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'sluice-demo-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ASSETS = 2_000;
const SEED = 7;

function demo(...args: string[]) {
  return exec(process.execPath, [
    '--import',
    'tsx',
    bin,
    'demo',
    '--seed',
    String(SEED),
    '--workers',
    '1',
    ...args,
  ]);
}

/** What the database must hold, from the generator alone: devices listed on a page that does not always fail. */
function groundTruth(assets: number) {
  const population = new Population({ seed: SEED, assets });
  let devices = 0;
  let correlated = 0;
  const providersOf = new Map<string, string[]>();
  for (let i = 0; i < assets; i++) {
    const live = population.listings(i).filter((l) => !population.isDeadPage(l.provider, l.page));
    if (live.length === 0) continue;
    devices++;
    if (live.length > 1) correlated++;
    const d = population.device(i);
    const id = identityOf(
      d.serial ?? null,
      d.mac === undefined ? null : d.mac.replace(/(..)(?!$)/g, '$1:'),
      d.hostname,
    );
    providersOf.set(id, live.map((l) => population.providers[l.provider]!.name).sort());
  }
  return { devices, correlated, providersOf };
}

function sqliteRows(path: string) {
  const db = new Database(path, { readonly: true });
  try {
    const rows = db.prepare('SELECT * FROM devices ORDER BY id').all() as {
      id: string;
      providers: string;
      load_id: number;
    }[];
    const loads = (db.prepare('SELECT count(*) AS n FROM devices_loads').get() as { n: number }).n;
    return { rows, loads };
  } finally {
    db.close();
  }
}

const digest = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex');

test('sluice demo loads the devices the providers list into SQLite, merged, and a rerun changes no row', async () => {
  const path = join(dir, 'inventory.db');
  const truth = groundTruth(ASSETS);
  const { stdout } = await demo('--assets', String(ASSETS), '--db', path, '--json');
  const summary = JSON.parse(stdout) as DemoSummary;
  assert.equal(summary.status, 'completed');
  assert.equal(summary.uniqueDevices, truth.devices);
  assert.equal(summary.correlated, truth.correlated);
  assert.equal(summary.deadLetters.pages, 1, 'the page that always fails is dead-lettered, not lost');
  assert.equal(summary.deadLetters.records, 0);
  assert.ok(summary.records > summary.uniqueDevices, 'providers overlap');
  assert.deepEqual(
    summary.stages.map((s) => s.name),
    ['fetch', 'split', 'normalize', 'batch', 'correlate', 'load'],
  );

  const first = sqliteRows(path);
  assert.equal(first.rows.length, truth.devices);
  for (const row of first.rows)
    assert.deepEqual(JSON.parse(row.providers), truth.providersOf.get(row.id), row.id);

  const again = JSON.parse(
    (await demo('--assets', String(ASSETS), '--db', path, '--json')).stdout,
  ) as DemoSummary;
  assert.equal(again.uniqueDevices, truth.devices);
  const second = sqliteRows(path);
  assert.equal(digest(second.rows), digest(first.rows), 'every device row is as the first run left it');
  assert.ok(second.loads > first.loads, 'the second run logged its loads');
});

test('sluice demo prints the per-stage report, the bottleneck, the counts and where the data is', async () => {
  const path = join(dir, 'text.db');
  const { stdout } = await demo('--assets', '500', '--providers', '8', '--db', path);
  assert.match(stdout, /^Inventory loaded in [\d.]+ s: 8 providers, seed 7/);
  for (const stage of ['fetch', 'split', 'normalize', 'batch', 'correlate', 'load'])
    assert.match(stdout, new RegExp(`^${stage} +[a-zA-Z]+ +[\\d,]+ +[\\d,]+/s`, 'm'));
  // The fetch stage waits on the network; the normalize stage computes on the workers.
  assert.match(stdout, /^fetch .* io-bound/m);
  assert.match(stdout, /^normalize .* cpu-bound/m);
  assert.match(stdout, /^bottleneck: /m);
  for (const line of ['pages fetched', 'records fetched', 'unique devices', 'retried', 'dead letters'])
    assert.match(stdout, new RegExp(`^ {2}${line} +[\\d,]+`, 'm'));
  assert.ok(stdout.includes(`Data: ${path}`));
});

test('sluice demo with a bad option value exits 2 with one coded line', async () => {
  for (const args of [
    ['--assets', 'lots'],
    ['--assets', '0'],
    ['--table', 'devices; drop'],
  ]) {
    const error = (await demo(...args).catch((e: unknown) => e)) as { code: number; stderr: string };
    assert.equal(error.code, 2, args.join(' '));
    assert.match(error.stderr, /^sluice: option .+ \(SLUICE_ERR_USAGE\)\n$/);
  }
});

/** Connects as postgres, else as the current OS user (trust auth either way); fails saying how to start the server. */
async function connectPostgres(): Promise<{ client: pg.Client; url: string }> {
  let last: unknown;
  for (const user of ['postgres', userInfo().username]) {
    const url = `postgres://${user}@127.0.0.1:5432/test`;
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      return { client, url };
    } catch (error) {
      last = error;
      await client.end().catch(() => undefined);
    }
  }
  return assert.fail(
    `PostgreSQL is not reachable at 127.0.0.1:5432, database test (${String(last)}). Start it with: ` +
      'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  );
}

test('sluice demo --db postgres:// loads the same devices into PostgreSQL, idempotently', async () => {
  const { client, url: PG_URL } = await connectPostgres();
  const table = `demo_test_${process.pid}_${Date.now()}`;
  try {
    const truth = groundTruth(ASSETS);
    for (let run = 0; run < 2; run++) {
      const { stdout } = await demo('--assets', String(ASSETS), '--db', PG_URL, '--table', table, '--json');
      assert.equal((JSON.parse(stdout) as DemoSummary).uniqueDevices, truth.devices);
    }
    const { rows } = await client.query<{ id: string; providers: string[] }>(
      `SELECT id, providers FROM "${table}" ORDER BY id`,
    );
    assert.equal(rows.length, truth.devices);
    for (const row of rows) assert.deepEqual(row.providers, truth.providersOf.get(row.id), row.id);
    const orphans = await client.query(
      `SELECT count(*)::int AS n FROM "${table}" WHERE load_id NOT IN (SELECT id FROM "${table}_loads")`,
    );
    assert.equal(orphans.rows[0].n, 0);
  } finally {
    await client.query(`DROP TABLE IF EXISTS "${table}", "${table}_loads"`);
    await client.end();
  }
});

test('sluice demo stops on SIGINT within seconds, exits 130, and leaves only whole batches', async () => {
  const path = join(dir, 'interrupted.db');
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', bin, 'demo', '--assets', '1000000', '--db', path, '--json', '--workers', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk;
  });
  const exited = once(child, 'exit');
  // Wait for the first committed batch: the run is then well under way.
  for (let waited = 0; ; waited += 100) {
    assert.ok(waited < 30_000, 'no batch was loaded within 30 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const loads = (() => {
      try {
        const db = new Database(path, { readonly: true, fileMustExist: true });
        try {
          return (db.prepare('SELECT count(*) AS n FROM devices_loads').get() as { n: number }).n;
        } finally {
          db.close();
        }
      } catch {
        return 0;
      }
    })();
    if (loads > 0) break;
  }
  const interruptedAt = performance.now();
  child.kill('SIGINT');
  const [code] = (await exited) as [number | null];
  assert.equal(code, 130);
  assert.ok(performance.now() - interruptedAt < 5_000, 'exits promptly');

  const summary = JSON.parse(stdout) as DemoSummary;
  assert.equal(summary.status, 'aborted');
  const db = new Database(path, { readonly: true });
  try {
    assert.equal((db.pragma('integrity_check') as { integrity_check: string }[])[0]?.integrity_check, 'ok');
    const loads = (db.prepare('SELECT count(*) AS n FROM devices_loads').get() as { n: number }).n;
    const loaded = summary.stages.find((s) => s.name === 'load')!;
    // Batches are written on a thread of their own: the one in flight at Ctrl-C is finished and
    // committed whole after the run stopped, and the summary counts it with the others.
    assert.equal(loads, loaded.outputs, `${loads} batches committed, ${loaded.outputs} in the summary`);
    const load = summary.report.stages.find((s) => s.name === 'load')!;
    assert.equal(load.emitted + load.failed + load.cancelled, load.entered);
    const orphans = db
      .prepare('SELECT count(*) AS n FROM devices WHERE load_id NOT IN (SELECT id FROM devices_loads)')
      .get() as { n: number };
    assert.equal(orphans.n, 0, 'no row from a batch whose transaction did not commit');
    assert.ok(summary.uniqueDevices < 1_000_000);
  } finally {
    db.close();
  }
});

test('sluice demo --nats normalizes on two sluice worker processes and loads the same devices as on threads', async () => {
  const workers = [1, 2].map(
    (i) =>
      new WorkerProcess({
        tasks: [new URL('../src/demo/normalize.task.ts', import.meta.url)],
        servers: 'nats://127.0.0.1:4222',
        threads: 1,
        name: `demo-test-${process.pid}-${i}`,
      }),
  );
  try {
    await Promise.all(workers.map((w) => w.started()));
    const local = JSON.parse(
      (await demo('--assets', String(ASSETS), '--db', join(dir, 'local.db'), '--json')).stdout,
    ) as DemoSummary;
    const remote = JSON.parse(
      (
        await demo(
          '--assets',
          String(ASSETS),
          '--db',
          join(dir, 'remote.db'),
          '--json',
          '--nats',
          'nats://127.0.0.1:4222',
        )
      ).stdout,
    ) as DemoSummary;
    assert.equal(remote.status, 'completed');
    assert.equal(remote.uniqueDevices, local.uniqueDevices);
    assert.equal(remote.uniqueDevices, groundTruth(ASSETS).devices);
    assert.equal(remote.records, local.records);
    const byWorker = Object.entries(remote.remote?.workers ?? {}).filter(([name]) =>
      name.startsWith(`demo-test-${process.pid}-`),
    );
    assert.equal(
      byWorker.reduce((sum, [, done]) => sum + done, 0),
      remote.records,
      'the two workers normalized every record',
    );
    // Every column but load_id, which numbers each run's own batches.
    const devices = (path: string) => sqliteRows(path).rows.map(({ load_id: _, ...row }) => row);
    assert.equal(
      digest(devices(join(dir, 'remote.db'))),
      digest(devices(join(dir, 'local.db'))),
      'the same rows',
    );
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
  }
});
