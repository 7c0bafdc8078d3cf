/**
 * The layers docs/ARCHITECTURE.md describes are the layers the code has: this reads the table's
 * "imports" column and every module's imports, and fails when the two disagree in either
 * direction, when modules import each other in a circle, or when a package reaches into another
 * package other than through its public entry points.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sourceFiles } from '../helpers/source-files.js';

const repo = fileURLToPath(new URL('../../../../', import.meta.url));
const librarySrc = join(repo, 'packages', 'sluice', 'src');

/** Every module a file imports: static, type-only, re-exported and dynamic. */
function specifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const pattern =
    /(?:^|[\s;])(?:import|export)\b[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/gm;
  return [...text.matchAll(pattern)].map((m) => (m[1] ?? m[2]) as string);
}

function resolveRelative(file: string, specifier: string): string {
  return resolve(dirname(file), specifier).replace(/\.js$/, '.ts');
}

/** The layer of a library module: its folder under src/, or its own name for a top-level file. */
function layerOf(file: string): string {
  const [first] = relative(librarySrc, file).split(sep) as [string, ...string[]];
  return first.endsWith('.ts') ? first : `${first}/`;
}

/** The table's rows under src/: layer -> the layers it may import (undefined: anything). */
function documentedLayers(): Map<string, Set<string> | undefined> {
  const doc = readFileSync(join(repo, 'docs', 'ARCHITECTURE.md'), 'utf8');
  const rows = new Map<string, Set<string> | undefined>();
  for (const line of doc.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    const key = /^`src\/([^`]+)`$/.exec(cells[1] ?? '')?.[1];
    if (key === undefined) continue;
    const imports = cells[3] ?? '';
    if (imports === 'everything above') rows.set(key, undefined);
    else if (imports === 'nothing') rows.set(key, new Set());
    else
      rows.set(
        key,
        new Set(
          imports.split(',').map((name) => (name.trim().endsWith('.ts') ? name.trim() : `${name.trim()}/`)),
        ),
      );
  }
  return rows;
}

function cyclesIn(files: readonly string[]): string[] {
  const known = new Set(files);
  const edges = new Map(
    files.map((f) => [
      f,
      specifiers(f)
        .filter((s) => s.startsWith('.'))
        .map((s) => resolveRelative(f, s))
        .filter((d) => known.has(d)),
    ]),
  );
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const found: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const next of edges.get(file) ?? []) {
      if (state.get(next) === 'open') {
        found.push([...path.slice(path.indexOf(next)), next].map((f) => relative(repo, f)).join(' -> '));
      } else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file);
  return found;
}

test('each library folder imports exactly the layers docs/ARCHITECTURE.md names for it', () => {
  const documented = documentedLayers();
  const actual = new Map<string, Set<string>>();
  for (const file of sourceFiles(librarySrc)) {
    const layer = layerOf(file);
    const used = actual.get(layer) ?? new Set<string>();
    actual.set(layer, used);
    for (const specifier of specifiers(file).filter((s) => s.startsWith('.'))) {
      const target = layerOf(resolveRelative(file, specifier));
      if (target !== layer) used.add(target);
    }
  }
  for (const [layer, used] of actual) {
    assert.ok(documented.has(layer), `src/${layer} is missing from docs/ARCHITECTURE.md's layer table`);
    const allowed = documented.get(layer);
    if (allowed === undefined) continue;
    assert.deepEqual(
      [...used].sort(),
      [...allowed].sort(),
      `src/${layer} imports ${[...used].sort().join(', ') || 'nothing'}; the table says ${[...allowed].sort().join(', ') || 'nothing'}`,
    );
  }
  for (const layer of documented.keys())
    assert.ok(actual.has(layer), `the table names src/${layer}, which does not exist`);
});

test('the documented layers form an order: no folder imports one that imports it back', () => {
  const documented = documentedLayers();
  const order = [...documented.keys()];
  for (const [layer, allowed] of documented) {
    for (const imported of allowed ?? []) {
      assert.ok(
        order.indexOf(imported) < order.indexOf(layer),
        `src/${layer} imports src/${imported}, which the table lists below it`,
      );
    }
  }
});

test('no package has modules that import each other in a circle', () => {
  for (const name of readdirSync(join(repo, 'packages'))) {
    const src = join(repo, 'packages', name, 'src');
    assert.deepEqual(cyclesIn(sourceFiles(src)), [], `import cycles in packages/${name}`);
  }
});

test('packages import each other only through public entry points', () => {
  const entryPoints = new Set<string>();
  for (const name of readdirSync(join(repo, 'packages'))) {
    const manifest = JSON.parse(readFileSync(join(repo, 'packages', name, 'package.json'), 'utf8')) as {
      name: string;
      exports?: Record<string, unknown>;
    };
    for (const subpath of Object.keys(manifest.exports ?? { '.': null })) {
      entryPoints.add(subpath === '.' ? manifest.name : `${manifest.name}${subpath.slice(1)}`);
    }
  }
  const owners = readdirSync(join(repo, 'packages')).map((name) => join(repo, 'packages', name) + sep);
  for (const owner of owners) {
    for (const file of sourceFiles(join(owner, 'src'))) {
      for (const specifier of specifiers(file)) {
        if (specifier.startsWith('.')) {
          const target = resolveRelative(file, specifier);
          assert.ok(
            target.startsWith(owner),
            `${relative(repo, file)} reaches into another package: ${specifier}`,
          );
        } else if (/^(@sluice\/|sluice(\/|$))/.test(specifier)) {
          assert.ok(
            entryPoints.has(specifier),
            `${relative(repo, file)} imports ${specifier}, not a public entry point`,
          );
        }
      }
    }
  }
});
