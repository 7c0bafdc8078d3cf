/**
 * Builds `dist/`: one self-contained ES module per entry point, then the declarations from tsc.
 * Loaded as the 80-odd files tsc emits, importing sluice took a cold process 41 to 47 ms, nearly
 * all of it spent reading, compiling and linking small modules one by one; bundled with the code
 * the entry points share split into chunks, 15 to 17 ms, of which each of the five chunks cost
 * about a millisecond more (Node's ES module loader resolves, reads, compiles and links every file
 * on its own); one file per entry point, about 13 ms. A worker loads its own entry point
 * (`worker-entry.js`, which the pool finds beside the module that starts it) and the task module's
 * `sluice/task`, never the flow engine.
 *
 * What the entry points share is therefore copied into each. Nothing relies on it being one copy:
 * task and error brands are registered with `Symbol.for` (`instanceof SluiceError` reads the
 * brand), as they must be for a user's module that brings its own copy of sluice.
 *   node build.mjs
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = new URL('.', import.meta.url);
rmSync(new URL('dist', here), { recursive: true, force: true });

const entryPoints = {
  index: 'src/index.ts',
  task: 'src/task.ts',
  testing: 'src/testing.ts',
  log: 'src/log.ts',
  'worker-entry': 'src/exec/pool/worker-entry.ts',
};
for (const [name, entry] of Object.entries(entryPoints)) {
  await build({
    absWorkingDir: fileURLToPath(here),
    entryPoints: { [name]: entry },
    // Every output in one folder: the pool finds `./worker-entry.js` beside `index.js`.
    outdir: 'dist',
    entryNames: '[name]',
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // Optional peers (pino, tsx) are found at run time, never bundled.
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
}

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--emitDeclarationOnly'], {
  cwd: here,
  stdio: 'inherit',
});
