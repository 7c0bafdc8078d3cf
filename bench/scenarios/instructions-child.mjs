/**
 * One run for instructions.mjs: `items` async no-op items through one map step at concurrency 64,
 * every result consumed by `terminal` (or the bare loop of 64 lanes that sums them), on a clock
 * that never moves. A stage reads its clock to decide when the event loop is due a turn; under
 * callgrind a process runs about fifty times slower, so on the real clock the turns, and the
 * instructions they cost, came with the machine's speed: one terminal read 1,721 and 2,113
 * instructions an item in two runs. On a frozen clock every run takes the same path.
 *   node --single-threaded bench/scenarios/instructions-child.mjs <terminal> <items>
 * SLUICE_ROOT=<worktree> runs that tree's compiled library (as cold.mjs does).
 */
import { pathToFileURL } from 'node:url';

const root = process.env.SLUICE_ROOT;
const { flow } = await import(
  root === undefined ? 'sluice' : pathToFileURL(`${root}/packages/sluice/dist/index.js`).href
);

const [terminal = 'run', itemsArg = '100000'] = process.argv.slice(2);
const items = Number(itemsArg);
const concurrency = 64;

function* range(n) {
  for (let i = 0; i < n; i++) yield i;
}
const noop = async (x) => x;
const frozen = {
  now: () => 0,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
};
const options = { clock: frozen };
const mapped = () => flow(range(items)).map(noop, { concurrency });

let sum = 0;
const terminals = {
  /** The floor: 64 async lanes over one iterator, adding up what each call returns. */
  bare: async () => {
    const iterator = range(items);
    const lane = async () => {
      for (let next = iterator.next(); !next.done; next = iterator.next()) {
        const value = await noop(next.value);
        sum += value;
      }
    };
    await Promise.all(Array.from({ length: concurrency }, lane));
  },
  /** Throws the results away: the report says how many came out. */
  run: async () => {
    const report = await mapped().run(options);
    if (report.stages[0]?.emitted !== items) throw new Error(`run: ${report.stages[0]?.emitted} emitted`);
    sum = (items * (items - 1)) / 2;
  },
  reduce: async () => {
    sum = await mapped().reduce((total, x) => total + x, 0, options);
  },
  collect: async () => {
    for (const x of await mapped().collect(options)) sum += x;
  },
  /**
   * An async reader takes no run options: the library's own clock is frozen instead, by freezing
   * what it reads (`performance.now`).
   */
  forAwait: async () => {
    performance.now = () => 0;
    for await (const x of mapped()) sum += x;
  },
  forEach: async () => {
    await mapped()
      .forEach((x) => {
        sum += x;
      })
      .run(options);
  },
};
const consume = terminals[terminal];
if (consume === undefined) throw new Error(`unknown terminal ${terminal}; one of ${Object.keys(terminals)}`);
await consume();
if (sum !== (items * (items - 1)) / 2) throw new Error(`${terminal}: sum ${sum}, not every result came out`);
