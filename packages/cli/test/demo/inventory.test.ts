import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import type { RunReport } from 'sluice';
import { runInventory } from '../../src/demo/inventory.js';
import { Population } from '../../src/demo/population.js';
import { startProviderServer } from '../../src/demo/provider-server.js';
import { openSqliteStore } from '../../src/demo/sqlite-store.js';
import type { DeviceStore } from '../../src/demo/store.js';

const dir = mkdtempSync(join(tmpdir(), 'sluice-inventory-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('runInventory() - a batch being written when the run is aborted is committed and counted as loaded', async () => {
  const population = new Population({ seed: 3, assets: 20_000, providers: 8 });
  const server = await startProviderServer(population, { faultRate: 0 });
  const path = join(dir, 'aborted.db');
  const sqlite = openSqliteStore(path, 'devices');
  const controller = new AbortController();
  // The real store, with Ctrl-C pressed the moment its second batch starts: the write goes on.
  let writes = 0;
  const store: DeviceStore = {
    location: sqlite.location,
    write: (rows) => {
      if (++writes === 2) controller.abort(new Error('interrupted'));
      return sqlite.write(rows);
    },
    counts: () => sqlite.counts(),
    close: () => sqlite.close(),
  };
  let report: RunReport | undefined;
  try {
    await runInventory({ population, origin: server.origin, store, signal: controller.signal, workers: 1 });
    assert.fail('the run should have been aborted');
  } catch (error) {
    assert.equal((error as { code?: string }).code, 'SLUICE_ERR_ABORTED');
    report = (error as { report: RunReport }).report;
  } finally {
    await store.close();
    await server.close();
  }
  const db = new Database(path, { readonly: true });
  try {
    const loads = (db.prepare('SELECT count(*) AS n FROM devices_loads').get() as { n: number }).n;
    const load = report.stages.find((s) => s.name === 'load')!;
    assert.equal(loads, 2);
    assert.equal(load.emitted, loads, 'every committed batch is reported as loaded');
    assert.equal(load.emitted + load.failed + load.cancelled, load.entered);
  } finally {
    db.close();
  }
});
