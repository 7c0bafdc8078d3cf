/**
 * No function literal is assigned straight to a property in the library's code, nor in the
 * broker executor's: V8 allocates such a function in the old generation, and a young-generation
 * collection keeps whatever it reaches (a run, a batch) alive until the next full collection.
 * `test/flow/young-garbage.test.ts` measures the effect over short flows of the common shapes;
 * this catches the pattern wherever it is written. A class-field arrow, a method that returns the
 * closure, or a `const` assigned first, is allocated young (docs/ARCHITECTURE.md, *The hot path*).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from '../helpers/source-files.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));

/** `obj.x = () => ...`, `this.#x ??= async (a) => ...`, `obj[k] = function ...`: not a call's result. */
const assignedLiteral =
  /(?:\.#?[\w$]+|\])\s*(?:\?\?|\|\||&&)?=(?!=)\s*(?:async\s+)?(?:function\b|\([^()]*\)\s*(?::[^=;{]+)?=>|[\w$]+\s*=>)/;

/** The code of a line, without a trailing `//` comment, or nothing for a line of a block comment. */
function code(line: string): string {
  const trimmed = line.trimStart();
  if (trimmed.startsWith('*') || trimmed.startsWith('/*') || trimmed.startsWith('//')) return '';
  return line.replace(/\s\/\/.*$/, '');
}

test('no function literal is assigned straight to a property in the library or the broker executor', () => {
  const found: string[] = [];
  for (const dir of ['packages/sluice/src', 'packages/nats/src']) {
    for (const file of sourceFiles(join(repo, dir))) {
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          if (assignedLiteral.test(code(line)))
            found.push(`${relative(repo, file)}:${i + 1}: ${line.trim()}`);
        });
    }
  }
  assert.deepEqual(found, []);
});

test('the check sees the forms it forbids, and lets the young ones pass', () => {
  for (const line of [
    '    stats.onBackoff = () => {',
    '    this.#advance = (value) => resolve(value);',
    '    slot.wake ??= async () => pump(slot);',
    '    holder[key] = function () {',
    '    this.cb = x => x;',
  ])
    assert.ok(assignedLiteral.test(code(line)), line);
  for (const line of [
    '    stats.onBackoff = this.#backoffStarted;',
    '  readonly #laneEnd = (): void => {',
    '    const onRetry = () => stats.retries++;',
    '    this.#closing ??= (async () => {',
    '    pending.resolve = ((resolveOutcome) => (outcome) => {',
    '    if (a.b === (c)) return;',
    '    // stats.onBackoff = () => {',
  ])
    assert.ok(!assignedLiteral.test(code(line)), line);
});
