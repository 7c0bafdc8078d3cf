import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flow, RateLimiter } from '../../src/index.js';

const identity = (x: number): number => x;

test('concurrency: zero, negative, NaN, fractional or Infinity is a coded RangeError naming the option', () => {
  for (const concurrency of [0, -1, Number.NaN, 1.5, Number.POSITIVE_INFINITY]) {
    assert.throws(
      () => flow([1]).map(identity, { concurrency }),
      (error: unknown) => {
        assert.ok(error instanceof RangeError);
        assert.equal((error as unknown as { code: string }).code, 'SLUICE_ERR_INVALID_ARG_VALUE');
        assert.match(
          (error as Error).message,
          /"identity\.concurrency" option must be an integer >= 1\. Received/,
        );
        return true;
      },
    );
  }
});

test('concurrency of the wrong type is a coded TypeError', () => {
  assert.throws(() => flow([1]).map(identity, { concurrency: '4' as unknown as number }), {
    name: 'InvalidArgTypeError',
    code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    message: /Received "4"/,
  });
});

test('an unknown option key is rejected with the keys that exist', () => {
  assert.throws(() => flow([1]).map(identity, { concurency: 4 } as never), {
    code: 'SLUICE_ERR_UNKNOWN_OPTION',
    message: /Unknown option "map options.concurency".*"concurrency"/,
  });
});

test('every stage option is checked at the door', () => {
  const bad: [object, string][] = [
    [{ ordered: 'yes' }, 'SLUICE_ERR_INVALID_ARG_TYPE'],
    [{ buffer: 0 }, 'SLUICE_ERR_INVALID_ARG_VALUE'],
    [{ timeout: 0 }, 'SLUICE_ERR_INVALID_ARG_VALUE'],
    [{ timeout: -5 }, 'SLUICE_ERR_INVALID_ARG_VALUE'],
    [{ retry: { attempts: 0 } }, 'SLUICE_ERR_INVALID_ARG_VALUE'],
    [{ retry: { tries: 3 } }, 'SLUICE_ERR_UNKNOWN_OPTION'],
    [{ rateLimit: { perSecond: 0 } }, 'SLUICE_ERR_INVALID_ARG_VALUE'],
    [{ rateLimit: {} }, 'SLUICE_ERR_INVALID_ARG_TYPE'],
    [{ rateLimit: { perSecond: 5, key: 'host' } }, 'SLUICE_ERR_INVALID_ARG_TYPE'],
    [{ onError: 'ignore' }, 'SLUICE_ERR_INVALID_ARG_TYPE'],
    [{ name: '' }, 'SLUICE_ERR_INVALID_ARG_TYPE'],
  ];
  for (const [options, code] of bad) {
    assert.throws(() => flow([1]).map(identity, options as never), { code }, JSON.stringify(options));
  }
});

test('a shared RateLimiter is accepted as rateLimit', async () => {
  const limiter = new RateLimiter({ perSecond: 1000 });
  assert.deepEqual(await flow([1, 2]).map(identity, { rateLimit: limiter }).collect(), [1, 2]);
});

test('a stage function that is not a function is a coded TypeError', () => {
  assert.throws(() => flow([1]).map(42 as never), {
    code: 'SLUICE_ERR_INVALID_ARG_TYPE',
    message: /map\(fn\)/,
  });
  assert.throws(() => flow([1]).filter(undefined as never), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
});

test('batch needs a positive integer size', () => {
  assert.throws(() => flow([1]).batch(undefined as never), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  assert.throws(() => flow([1]).batch({ size: 0 }), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.throws(() => flow([1]).batch({ size: 2, maxWaitMs: -1 }), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.throws(() => flow([1]).batch({ size: 2, every: 3 } as never), { code: 'SLUICE_ERR_UNKNOWN_OPTION' });
});

test('a source that is not iterable, or a string, is a coded TypeError', () => {
  for (const source of [42, null, undefined, {}, 'abc']) {
    assert.throws(() => flow(source as never), {
      name: 'InvalidSourceError',
      code: 'SLUICE_ERR_INVALID_SOURCE',
    });
  }
});

test('run options are checked, and terminals reject rather than throw', async () => {
  const f = flow([1]);
  await assert.rejects(f.run({ signal: 'stop' } as never), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  await assert.rejects(f.collect({ timeout: 5 } as never), { code: 'SLUICE_ERR_UNKNOWN_OPTION' });
  await assert.rejects(f.reduce(undefined as never, 0), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
});

test('a forEach that already started refuses new run options with a coded error', async () => {
  const sink = flow([1]).forEach(() => undefined);
  await sink;
  await assert.rejects(sink.run({ signal: new AbortController().signal }), {
    code: 'SLUICE_ERR_SINK_STARTED',
  });
});

test('.toReadable() options are checked at the door', () => {
  const f = flow([1]);
  assert.throws(() => f.toReadable({ highWaterMark: 0 }), { code: 'SLUICE_ERR_INVALID_ARG_VALUE' });
  assert.throws(() => f.toReadable({ objectMode: false } as never), { code: 'SLUICE_ERR_UNKNOWN_OPTION' });
});
