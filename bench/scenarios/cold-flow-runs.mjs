/**
 * What a flow's own per-item path costs while the JIT warms it: one fresh process runs the same
 * `flow(items).map(fn).collect()` eight times in a row and prints each run's milliseconds. The
 * first runs execute the flow's code in the interpreter; the last, optimized.
 *   node bench/scenarios/cold-flow-runs.mjs [items] [sync|async]   # compiled (dist/)
 */
const { flow } = await import('sluice');

const [itemsArg = '10000', kind = 'sync'] = process.argv.slice(2);
const count = Number(itemsArg);
const fn = kind === 'async' ? async (x) => x : (x) => x;
const items = Array.from({ length: count }, (_, i) => i);
const times = [];
for (let run = 0; run < 8; run++) {
  const started = performance.now();
  await flow(items).map(fn).collect();
  times.push(performance.now() - started);
}
console.log(JSON.stringify({ items: count, kind, runsMs: times.map((ms) => Number(ms.toFixed(1))) }));
