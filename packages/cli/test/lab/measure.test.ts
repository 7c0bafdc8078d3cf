import assert from 'node:assert/strict';
import { test } from 'node:test';
import { measure } from '../../src/lab/measure.js';
import { LabSession } from '../../src/lab/session.js';

test('measure() - speed-ups are over the first approach', async () => {
  const session = new LabSession();
  const results = await measure(
    session,
    [
      { approach: 'slow', label: 'slow', run: () => new Promise<number>((r) => setTimeout(() => r(7), 40)) },
      { approach: 'fast', label: 'fast', run: async () => 7 },
    ],
    (a, b) => a === b,
  );
  assert.deepEqual(
    results.map((r) => [r.approach, r.result]),
    [
      ['slow', 7],
      ['fast', 7],
    ],
  );
  assert.equal(results[0]?.speedup, 1);
  assert.ok((results[1]?.speedup ?? 0) > 1);
});

test('measure() - approaches that disagree fail with SLUICE_ERR_LAB_MISMATCH', async () => {
  const session = new LabSession();
  await assert.rejects(
    measure(
      session,
      [
        { approach: 'a', label: 'one thread', run: async () => 3 },
        { approach: 'b', label: 'the pool', run: async () => 4 },
      ],
      (a, b) => a === b,
      (n) => `${n} lines`,
    ),
    { code: 'SLUICE_ERR_LAB_MISMATCH', message: 'the pool gave 4 lines where one thread gave 3 lines' },
  );
});

test('LabSession.close() - closes what was registered, newest first, once each, despite failures', async () => {
  const session = new LabSession();
  const closed: string[] = [];
  session.defer(() => closed.push('server'));
  const closePool = session.defer(async () => {
    closed.push('pool');
    throw new Error('already gone');
  });
  await assert.rejects(closePool(), /already gone/);
  await session.close();
  assert.deepEqual(closed, ['pool', 'server']);
});

test('LabSession.check() - throws SLUICE_ERR_ABORTED once interrupted', () => {
  const session = new LabSession();
  session.check();
  session.interrupt();
  assert.throws(() => session.check(), { code: 'SLUICE_ERR_ABORTED' });
});
