import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpu, flow } from '../../src/index.js';

const task = new URL('../fixtures/commonjs-package/triple.task.ts', import.meta.url);

for (const isolation of ['thread', 'process'] as const) {
  test(`a TypeScript task in a CommonJS package runs on ${isolation} workers`, async () => {
    const out = await flow([1, 2, 3])
      .map(cpu<number, number>(task, { workers: 1, isolation, headStart: false }))
      .collect();
    assert.deepEqual(out, [3, 6, 9]);
  });
}
