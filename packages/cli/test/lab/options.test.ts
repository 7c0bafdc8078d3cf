import assert from 'node:assert/strict';
import { test } from 'node:test';
import { byteSize, oneOrMoreOf, wholeNumber } from '../../src/lab/options.js';

test('byteSize() - reads units as powers of 1024', () => {
  const parse = byteSize(1, 2 ** 40);
  assert.deepEqual(['512', '64k', '200MB', '1.5GiB', '2 gb'].map(parse), [
    512,
    65_536,
    200 * 2 ** 20,
    1.5 * 2 ** 30,
    2 ** 31,
  ]);
});

test('byteSize() - refuses what is not a size, or out of range', () => {
  const parse = byteSize(4096, 2 ** 20);
  for (const value of ['', 'MB', '12 parsecs', '-1k', '1k', '2MB'])
    assert.throws(() => parse(value), { code: 'commander.invalidArgument' }, value);
});

test('wholeNumber() - accepts separators, refuses fractions and out-of-range values', () => {
  const parse = wholeNumber(1, 1e9);
  assert.equal(parse('10_000_000'), 10_000_000);
  assert.equal(parse('1,000'), 1000);
  for (const value of ['0', '1.5', '1e3', 'ten', '2000000000'])
    assert.throws(() => parse(value), { code: 'commander.invalidArgument' }, value);
});

test('oneOrMoreOf() - keeps the order given and drops repeats', () => {
  const parse = oneOrMoreOf(['io', 'cpu', 'combined'] as const);
  assert.deepEqual(parse('cpu, io,cpu'), ['cpu', 'io']);
  assert.throws(() => parse('io,disk'), /"disk" is not one/);
});
