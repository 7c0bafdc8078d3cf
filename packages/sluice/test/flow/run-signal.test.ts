import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { flow, withRunSignal } from '../../src/index.js';

async function* forever(): AsyncGenerator<number> {
  for (let i = 0; ; i++) {
    await delay(1);
    yield i;
  }
}

test('withRunSignal() - a forEach that starts itself inside the scope stops when the signal aborts', async () => {
  const controller = new AbortController();
  const sink = withRunSignal(controller.signal, () => flow(forever()).forEach(() => undefined));
  await delay(20);
  controller.abort(new Error('enough'));
  const error = await Promise.resolve(sink).catch((e: unknown) => e);
  assert.equal((error as { code: string }).code, 'SLUICE_ERR_ABORTED');
  assert.match((error as Error).message, /The run was aborted: enough/);
  assert.equal((error as { report: { status: string } }).report.status, 'aborted');
});

test('withRunSignal() - reaches a forEach an async function returned, and so awaited', async () => {
  const controller = new AbortController();
  const running = withRunSignal(controller.signal, async () => flow(forever()).forEach(() => undefined));
  await delay(20);
  controller.abort();
  await assert.rejects(running, { code: 'SLUICE_ERR_ABORTED' });
});

test('withRunSignal() - a run with a signal of its own keeps it', async () => {
  const scope = new AbortController();
  const own = new AbortController();
  const running = withRunSignal(scope.signal, () => flow(forever()).run({ signal: own.signal }));
  scope.abort();
  await delay(10);
  own.abort();
  const error = await running.catch((e: unknown) => e);
  assert.equal((error as { report: { source: { items: number } } }).report.source.items > 0, true);
});

test('withRunSignal() - refuses what is not a signal', () => {
  assert.throws(() => withRunSignal({} as AbortSignal, () => 1), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
});
