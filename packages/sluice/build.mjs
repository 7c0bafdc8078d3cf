/**
 * Builds `dist/`: one ES module per entry point, with the modules the entry points share in chunks
 * beside them, then the declarations from tsc. Loaded as the 80-odd files tsc emits, importing
 * sluice took a cold process 41 to 47 ms, nearly all of it spent reading, compiling and linking
 * small modules one by one; bundled, 15 to 17 ms. A worker loads its own entry point
 * (`worker-entry.js`, which the pool finds beside the module that starts it) and what it
 * shares with `sluice/task`, never the flow engine.
 *   node build.mjs
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url);
rmSync(new URL('dist', here), { recursive: true, force: true });

await build({
  absWorkingDir: fileURLToPath(here),
  entryPoints: {
    index: 'src/index.ts',
    task: 'src/task.ts',
    testing: 'src/testing.ts',
    log: 'src/log.ts',
    'worker-entry': 'src/exec/pool/worker-entry.ts',
  },
  outdir: 'dist',
  // Every output in one folder: the pool finds `./worker-entry.js` beside its own chunk.
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Optional peers (pino, tsx) are found at run time, never bundled.
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly'], {
  cwd: here,
  stdio: 'inherit',
});
