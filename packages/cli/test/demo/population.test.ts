import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Population } from '../../src/demo/population.js';

test('every listing that listings() names is on that page, and pages list nothing else', () => {
  const population = new Population({ seed: 3, assets: 1_234, providers: 9 });
  const expected = new Set<string>();
  for (let device = 0; device < population.assets; device++) {
    for (const { provider, page } of population.listings(device))
      expected.add(`${provider}/${page}/${device}`);
  }
  const listed = new Set<string>();
  for (const provider of population.providers) {
    for (let page = 0; page < provider.pages; page++) {
      for (const device of population.page(provider, page)) listed.add(`${provider.index}/${page}/${device}`);
    }
  }
  assert.deepEqual(listed, expected);
});

test('the home provider lists every device', () => {
  const population = new Population({ seed: 3, assets: 500, providers: 9 });
  for (let device = 0; device < 500; device++)
    assert.ok(population.listings(device).some((l) => l.provider === device % 9));
});

test('the same seed gives the same devices; another seed, other ones', () => {
  const a = new Population({ seed: 1, assets: 10 }).device(5);
  assert.deepEqual(new Population({ seed: 1, assets: 10 }).device(5), a);
  assert.notDeepEqual(new Population({ seed: 2, assets: 10 }).device(5), a);
});

test('serials and MACs stay unique across the fleet', () => {
  const population = new Population({ seed: 11, assets: 50_000 });
  const serials = new Set<string>();
  const macs = new Set<string>();
  for (let i = 0; i < population.assets; i++) {
    const d = population.device(i);
    if (d.serial !== undefined) {
      assert.ok(!serials.has(d.serial), d.serial);
      serials.add(d.serial);
    }
    if (d.mac !== undefined) {
      assert.ok(!macs.has(d.mac.slice(6)), d.mac);
      macs.add(d.mac.slice(6));
    }
  }
});
