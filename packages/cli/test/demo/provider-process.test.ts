import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Population } from '../../src/demo/population.js';
import { startProviderProcess, startProviderServer } from '../../src/demo/provider-server.js';

test('startProviderProcess() - serves the pages the in-process service renders, and is gone once closed', async () => {
  const population = new Population({ seed: 11, assets: 2_000, providers: 4 });
  const local = await startProviderServer(population, { faultRate: 0 });
  const remote = await startProviderProcess(population, { faultRate: 0 });
  try {
    assert.notEqual(remote.origin, local.origin);
    const paged = population.providers.find((p) => p.paging === 'page');
    assert.ok(paged !== undefined, 'the population has a page-numbered provider');
    for (const provider of population.providers) {
      const path =
        provider.paging === 'page'
          ? `/providers/${provider.name}/assets?page=1`
          : `/providers/${provider.name}/assets`;
      const [mine, theirs] = await Promise.all([fetch(local.origin + path), fetch(remote.origin + path)]);
      assert.equal(theirs.status, mine.status, provider.name);
      assert.equal(await theirs.text(), await mine.text(), provider.name);
    }
  } finally {
    await local.close();
    await remote.close();
  }
  // The child process went with its server: nothing listens there any more.
  await assert.rejects(fetch(`${remote.origin}/providers/x/assets`), /fetch failed/);
});
