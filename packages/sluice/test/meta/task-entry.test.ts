/**
 * `sluice/task` exists so that a worker starting up loads a few modules, not the whole library:
 * every worker of a pool imports its task module, and module loading is most of a worker's start.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as library from '../../src/index.js';
import * as taskEntry from '../../src/task.js';

const src = fileURLToPath(new URL('../../src/', import.meta.url));

/** The library modules `file` loads at run time, itself included (type-only imports load nothing). */
function loadedBy(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(/^(?:import|export)\s+(?!type\b)[^'";]*?from\s*'(\.[^']+)'/gm)) {
    loadedBy(resolve(dirname(file), match[1] as string).replace(/\.js$/, '.ts'), seen);
  }
  return seen;
}

test('sluice/task exports what a task module needs, the same functions as sluice', () => {
  assert.equal(taskEntry.defineTask, library.defineTask);
  assert.equal(taskEntry.move, library.move);
});

test('sluice/task loads a handful of modules, none of the flow, observe or limit layers', () => {
  const loaded = [...loadedBy(resolve(src, 'task.ts'))].map((file) => relative(src, file));
  const whole = loadedBy(resolve(src, 'index.ts')).size;
  assert.ok(loaded.length <= 5, `sluice/task loads ${loaded.length} modules: ${loaded.join(', ')}`);
  assert.ok(whole > 4 * loaded.length, `sluice loads ${whole} modules, sluice/task ${loaded.length}`);
  for (const file of loaded) assert.match(file, /^(task\.ts|exec\/task\.ts|core\/)/);
});
