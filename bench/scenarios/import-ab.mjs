/**
 * What importing the compiled library costs by itself, two trees side by side: each run a fresh
 * process that first imports the Node built-ins sluice uses (so that only the library's own
 * files are timed), then times `await import(<tree>/packages/sluice/dist/index.js)`; trees
 * interleaved. Build both first (`npm run build`).
 *   node bench/scenarios/import-ab.mjs <worktree> [rounds]
 * Prints each tree's milliseconds, every run and the median.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const builtins = [
  'node:path',
  'node:fs',
  'node:worker_threads',
  'node:os',
  'node:diagnostics_channel',
  'node:async_hooks',
  'node:events',
  'node:url',
  'node:module',
];
const [other, roundsArg = '10'] = process.argv.slice(2);
if (other === undefined) {
  console.error('usage: node bench/scenarios/import-ab.mjs <worktree> [rounds]');
  process.exit(2);
}
const trees = { A: other, B: fileURLToPath(new URL('../..', import.meta.url)) };
const times = { A: [], B: [] };
for (let round = 0; round < Number(roundsArg); round++) {
  for (const [name, tree] of Object.entries(trees)) {
    const library = pathToFileURL(`${tree}/packages/sluice/dist/index.js`).href;
    const code =
      builtins.map((b) => `await import(${JSON.stringify(b)});`).join(' ') +
      ` const t = performance.now(); await import(${JSON.stringify(library)}); console.log(performance.now() - t);`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
    times[name].push(Number(out.trim()));
  }
}
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
for (const [name, values] of Object.entries(times)) {
  console.log(
    `${name} ${trees[name]}: median ${median(values).toFixed(1)} ms | ${values.map((v) => v.toFixed(1)).join(' ')}`,
  );
}
