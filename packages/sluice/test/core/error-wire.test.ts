import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fromWire, toWire } from '../../src/core/error-wire.js';
import {
  errorClassNamed,
  errorNames,
  isSluiceError,
  SluiceError,
  StageError,
} from '../../src/core/errors.js';

/** What a broker does to a message: JSON there and back. */
const overJson = (error: unknown): Error => fromWire(JSON.parse(JSON.stringify(toWire(error))));

test('every coded class survives JSON with its code, message, fields, report and cause chain', () => {
  for (const name of errorNames) {
    const Class = errorClassNamed(name);
    assert.ok(Class !== undefined, name);
    const sent = new Class(`a ${name}`, {
      stage: 'parse',
      index: 7,
      attempts: 3,
      path: '/data/x.json',
      item: { secret: true },
      cause: new StageError('middle', { cause: new RangeError('root') }),
    });
    Object.defineProperty(sent, 'report', { value: { status: 'failed', stages: [{ entered: 1 }] } });
    const got = overJson(sent) as SluiceError & { path?: string; report?: unknown };
    assert.ok((got as unknown) instanceof Class, name);
    assert.ok(got instanceof SluiceError, name);
    assert.deepEqual(
      [got.name, got.code, got.message, got.stage, got.index, got.attempts, got.path],
      [name, Class.code, `a ${name}`, 'parse', 7, 3, '/data/x.json'],
    );
    assert.equal(got.stack, sent.stack);
    // The report stays out of JSON and console output, as on the sending side.
    assert.deepEqual(got.report, { status: 'failed', stages: [{ entered: 1 }] });
    assert.ok(!Object.keys(got).includes('report'));
    // The item can be large or sensitive: it does not travel.
    assert.equal(got.item, undefined);
    const middle = got.cause as Error;
    assert.ok(isSluiceError(middle, 'SLUICE_ERR_STAGE'));
    assert.equal(middle.message, 'middle');
    assert.equal((middle.cause as Error).name, 'RangeError');
    assert.equal((middle.cause as Error).message, 'root');
  }
});

test('an unknown error keeps its name, message, stack, code and fields', () => {
  class QuotaError extends Error {
    override name = 'QuotaError';
    code = 'E_QUOTA';
    retryAfter = 30;
    when = new Date(0);
    huge = 10n ** 30n;
  }
  const sent = new QuotaError('over quota');
  const got = overJson(sent) as Error & Record<string, unknown>;
  assert.ok(!(got instanceof SluiceError));
  assert.deepEqual(
    [got.name, got.message, got.stack, got.code, got.retryAfter, got.when, got.huge],
    ['QuotaError', 'over quota', sent.stack, 'E_QUOTA', 30, '1970-01-01T00:00:00.000Z', String(10n ** 30n)],
  );
});

test('a name that is a sluice class but a code that is not its own is not taken for it', () => {
  const impostor = Object.assign(new Error('not ours'), { name: 'TimeoutError', code: 'ETIMEDOUT' });
  const got = overJson(impostor) as Error & { code?: string };
  assert.ok(!isSluiceError(got));
  assert.deepEqual([got.name, got.code], ['TimeoutError', 'ETIMEDOUT']);
});

test('a thrown value that is not an Error arrives as an Error holding it', () => {
  const got = overJson({ reason: 'nope', n: 1 }) as Error & { thrown?: unknown };
  assert.ok(got instanceof Error);
  assert.equal(got.message, '[object Object]');
  assert.deepEqual(got.thrown, { reason: 'nope', n: 1 });
  assert.equal((overJson('plain string') as Error).message, 'plain string');
});

test('cycles, functions, class instances and endless causes do not break the sender', () => {
  const loop: Record<string, unknown> = { name: 'loop' };
  loop.self = loop;
  const error = Object.assign(new Error('odd'), { loop, callback: () => 1, map: new Map([[1, 2]]) });
  let chain: Error = error;
  for (let i = 0; i < 50; i++) chain = new Error(`wrap ${i}`, { cause: chain });
  const wire = toWire(chain);
  assert.doesNotThrow(() => JSON.stringify(wire));
  let depth = 0;
  for (let at: Error | undefined = fromWire(wire); at !== undefined; at = at.cause as Error | undefined)
    depth++;
  assert.ok(depth > 1 && depth < 50, String(depth));
  const got = overJson(error) as Error & Record<string, unknown>;
  assert.deepEqual(got.loop, { name: 'loop', self: '[object Object]' });
  assert.equal(got.callback, undefined);
  assert.equal(got.map, '[object Map]');
});
