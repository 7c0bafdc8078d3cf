/**
 * Short flows, two trees side by side: 2,000 ten-item flows to warm, then 40,000 timed, one after
 * another (`flow(ten).map(async (x) => x * 2, { concurrency: 4 }).collect()`), on each tree's
 * compiled library (`npm run build` in both), each run in a fresh process, trees interleaved.
 *   node bench/scenarios/short-ab.mjs <worktree> [pairs] [node flags...]
 *   node bench/scenarios/short-ab.mjs --one <tree>     # one process: prints microseconds per flow
 *   SHAPE=timeout node bench/scenarios/short-ab.mjs ...  # the map stage with `timeout: 5000`
 * Prints each tree's microseconds per flow, every run and the median. A process settles into one
 * of two speeds early on (V8's allocation-site pretenuring, bench/RESULTS.md): compare medians of
 * many pairs, and try `--no-allocation-site-pretenuring` to see the code's own cost.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const [first, second, ...rest] = process.argv.slice(2);
if (first === '--one') {
  const { flow } = await import(pathToFileURL(`${second}/packages/sluice/dist/index.js`).href);
  const ten = Array.from({ length: 10 }, (_, i) => i);
  const double = async (x) => x * 2;
  const options = process.env.SHAPE === 'timeout' ? { concurrency: 4, timeout: 5000 } : { concurrency: 4 };
  const once = () => flow(ten).map(double, options).collect();
  for (let i = 0; i < 2_000; i++) await once();
  const runs = 40_000;
  const started = performance.now();
  let sum = 0;
  for (let i = 0; i < runs; i++) for (const value of await once()) sum += value;
  const us = ((performance.now() - started) * 1000) / runs;
  if (sum !== runs * 90) throw new Error(`wrong results: ${sum}`);
  console.log(us.toFixed(1));
} else {
  if (first === undefined) {
    console.error('usage: node bench/scenarios/short-ab.mjs <worktree> [pairs] [node flags...]');
    process.exit(2);
  }
  const here = fileURLToPath(new URL('../..', import.meta.url));
  const self = fileURLToPath(import.meta.url);
  const trees = { A: first, B: here };
  const times = { A: [], B: [] };
  for (let pair = 0; pair < Number(second ?? 7); pair++) {
    for (const [name, tree] of Object.entries(trees)) {
      const out = execFileSync(process.execPath, [...rest, self, '--one', tree], { encoding: 'utf8' });
      times[name].push(Number(out.trim()));
    }
  }
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];
  for (const [name, values] of Object.entries(times)) {
    console.log(
      `${name} ${trees[name]}: median ${median(values).toFixed(1)} us a flow | ${values.join(' ')}`,
    );
  }
}
