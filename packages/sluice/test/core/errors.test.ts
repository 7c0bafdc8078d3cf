import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AbortError,
  abortReason,
  InvalidArgTypeError,
  InvalidArgValueError,
  InvalidConcurrencyError,
  isSluiceError,
  SluiceError,
  StageError,
  TimeoutError,
} from '../../src/core/errors.js';

test('every generated error has its literal code, its name and a stack', () => {
  const error = new TimeoutError('slow');
  assert.equal(error.code, 'SLUICE_ERR_TIMEOUT');
  assert.equal(error.name, 'TimeoutError');
  assert.equal(TimeoutError.code, 'SLUICE_ERR_TIMEOUT');
  assert.ok(error.stack?.includes('slow'));
});

test('instanceof SluiceError holds for Error, TypeError and RangeError subclasses', () => {
  const type = new InvalidArgTypeError('bad type');
  const range = new InvalidArgValueError('bad value');
  assert.ok(type instanceof TypeError);
  assert.ok(type instanceof SluiceError);
  assert.ok(range instanceof RangeError);
  assert.ok(range instanceof SluiceError);
  assert.ok(new StageError('x') instanceof SluiceError);
  assert.ok(!(new Error('plain') instanceof SluiceError));
  assert.ok(!(type instanceof StageError));
});

test('instanceof SluiceError survives a second copy of the package (brand, not prototype)', () => {
  const foreign = new Error('from another copy');
  Object.defineProperty(foreign, Symbol.for('sluice.error'), { value: true });
  Object.defineProperty(foreign, 'code', { value: 'SLUICE_ERR_STAGE' });
  assert.ok(foreign instanceof SluiceError);
  assert.ok(isSluiceError(foreign, 'SLUICE_ERR_STAGE'));
});

test('details are attached, cause is kept, and the item stays out of JSON', () => {
  const cause = new Error('boom');
  const error = new StageError('failed', { cause, stage: 'fetch', index: 3, item: { secret: 1 } });
  assert.equal(error.cause, cause);
  assert.equal(error.stage, 'fetch');
  assert.equal(error.index, 3);
  assert.deepEqual(error.item, { secret: 1 });
  assert.ok(!JSON.stringify(error).includes('secret'));
});

test('abortReason() turns any abort reason into a coded error', () => {
  const controller = new AbortController();
  controller.abort('stop');
  const error = abortReason(controller.signal);
  assert.ok(error instanceof AbortError);
  assert.equal((error as AbortError).code, 'SLUICE_ERR_ABORTED');
  assert.equal(error.cause, 'stop');
  const timeout = new TimeoutError('late');
  const other = new AbortController();
  other.abort(timeout);
  assert.equal(abortReason(other.signal), timeout);
});

test('instanceof a generated class survives a second copy of the package; a user subclass is checked by prototype', () => {
  // What `sluice/task`'s own copy of the classes throws: branded, with the class's name and code.
  const foreign = new TypeError('from another copy');
  Object.defineProperty(foreign, Symbol.for('sluice.error'), { value: true });
  Object.defineProperty(foreign, 'name', { value: 'InvalidArgTypeError' });
  Object.defineProperty(foreign, 'code', { value: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  assert.ok(foreign instanceof InvalidArgTypeError);
  assert.ok(foreign instanceof SluiceError);
  assert.ok(!(foreign instanceof StageError));
  // Two classes share a code: the name tells them apart.
  assert.ok(!(new InvalidConcurrencyError('x') instanceof InvalidArgValueError));
  assert.ok(new InvalidArgValueError('x') instanceof InvalidArgValueError);
  // Unbranded look-alikes are not ours.
  assert.ok(
    !(
      Object.assign(new TypeError('plain'), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' }) instanceof
      InvalidArgTypeError
    ),
  );
  class RetryableStageError extends StageError {}
  assert.ok(new RetryableStageError('x') instanceof StageError);
  assert.ok(new RetryableStageError('x') instanceof RetryableStageError);
  assert.ok(!(new StageError('x') instanceof RetryableStageError));
});
