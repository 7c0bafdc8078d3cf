/**
 * One process for warm-up.mjs: `rounds` runs of `items` async no-op items through one map step at
 * concurrency 64, each consumed by `terminal` (or the bare loop of 64 lanes), one after another.
 * Prints one JSON line: each round's milliseconds. With `MARKS=1` it also prints, at each turn of
 * the event loop, `MARK <items called> <ms>`, so that V8's `--trace-opt` lines between them say
 * how far the run had got when the lane's optimized code arrived.
 *   node bench/scenarios/warm-up-child.mjs <terminal> [items] [rounds]
 * SLUICE_ROOT=<worktree> runs that tree's compiled library (as cold.mjs does).
 */
import { pathToFileURL } from 'node:url';

const root = process.env.SLUICE_ROOT;
const { flow } = await import(
  root === undefined ? 'sluice' : pathToFileURL(`${root}/packages/sluice/dist/index.js`).href
);

const [terminal = 'run', itemsArg = '1000000', roundsArg = '4'] = process.argv.slice(2);
const items = Number(itemsArg);
const concurrency = 64;

function* range(n) {
  for (let i = 0; i < n; i++) yield i;
}
let called = 0;
const noop = async (x) => {
  called++;
  return x;
};
const mapped = () => flow(range(items)).map(noop, { concurrency });

const terminals = {
  bare: async () => {
    const iterator = range(items);
    let sum = 0;
    const lane = async () => {
      for (let next = iterator.next(); !next.done; next = iterator.next()) {
        const value = await noop(next.value);
        sum += value;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
    return sum;
  },
  run: async () => (await mapped().run()).stages[0]?.emitted,
  reduce: () => mapped().reduce((total, x) => total + x, 0),
  collect: async () => {
    let sum = 0;
    for (const x of await mapped().collect()) sum += x;
    return sum;
  },
  forEach: async () => {
    let sum = 0;
    await mapped().forEach((x) => {
      sum += x;
    });
    return sum;
  },
  forAwait: async () => {
    let sum = 0;
    for await (const x of mapped()) sum += x;
    return sum;
  },
};
const consume = terminals[terminal];
if (consume === undefined) throw new Error(`unknown terminal ${terminal}; one of ${Object.keys(terminals)}`);

const started = performance.now();
const marks =
  process.env.MARKS === '1'
    ? setInterval(() => console.log(`MARK ${called} ${(performance.now() - started).toFixed(1)}`), 0)
    : undefined;
const ms = [];
for (let round = 0; round < Number(roundsArg); round++) {
  const t0 = performance.now();
  await consume();
  ms.push(Math.round((performance.now() - t0) * 10) / 10);
}
clearInterval(marks);
console.log(JSON.stringify({ terminal, items, ms }));
