import assert from 'node:assert/strict';
import { test } from 'node:test';
import { descriptorCeiling, openFileLimit, parseOpenFileLimit } from '../../src/limit/open-files.js';

const limits = `Limit                     Soft Limit           Hard Limit           Units
Max processes             63455                63455                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('parseOpenFileLimit() - reads the soft limit, not the hard one', () => {
  assert.equal(parseOpenFileLimit(limits), 1024);
});

test('parseOpenFileLimit() - unlimited or missing is undefined', () => {
  assert.equal(parseOpenFileLimit(limits.replace('1024 ', 'unlimited')), undefined);
  assert.equal(parseOpenFileLimit('Max processes 10 10 processes'), undefined);
});

test('descriptorCeiling() - leaves a quarter of the limit, and at least 64, to the rest of the process', () => {
  assert.equal(descriptorCeiling(20_000), 15_000);
  assert.equal(descriptorCeiling(256), 192);
  assert.equal(descriptorCeiling(100), 36);
  assert.equal(descriptorCeiling(10), 1);
});

test('openFileLimit() - matches what this process was given', {
  skip: process.platform !== 'linux',
}, async () => {
  const { readFileSync } = await import('node:fs');
  assert.equal(openFileLimit(), parseOpenFileLimit(readFileSync('/proc/self/limits', 'utf8')));
});
