/**
 * What a try around each call costs a task, the way a pool's call loop runs it: 100,000 calls of
 * a small task in pieces of 1,300, with the try around each call (`try-each`), around a loop
 * function that has none and resumes after a throw (`try-outside`, what the pool does), or no try
 * at all (`none`). One mode a process:
 *   node bench/scenarios/call-loop.mjs <none|try-each|try-outside> [rows|numbers]
 * rows: the task loops to the item's `n` and answers `{ id, sum, tag }`; numbers: it loops to the
 * number it is given and answers the sum. Prints one JSON line: { mode, shape, ms }.
 */
const [mode = 'try-outside', shape = 'rows'] = process.argv.slice(2);
const rows = shape === 'rows';

const task = rows
  ? (item) => {
      let sum = 0;
      for (let i = 0; i < item.n; i++) sum += i * i;
      return { id: item.id, sum, tag: item.tag };
    }
  : (n) => {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += i * i;
      return sum;
    };
const items = Array.from({ length: 100_000 }, (_, i) =>
  rows ? { id: i, n: 2_000, tag: `item-${i}` } : 2_000,
);

function tryEach(piece) {
  const values = new Array(piece.length).fill(undefined);
  for (let i = 0; i < piece.length; i++) {
    try {
      values[i] = task(piece[i]);
    } catch {
      values[i] = undefined;
    }
  }
  return values;
}

/** How far `callEach` got: the item it is calling. */
const calls = { at: 0 };
function callEach(piece, values) {
  for (let i = calls.at; i < piece.length; i++) {
    calls.at = i;
    values[i] = task(piece[i]);
  }
  calls.at = piece.length;
}
function tryOutside(piece) {
  const values = new Array(piece.length).fill(undefined);
  calls.at = 0;
  while (calls.at < piece.length) {
    try {
      callEach(piece, values);
    } catch {
      calls.at++;
    }
  }
  return values;
}

function none(piece) {
  const values = new Array(piece.length).fill(undefined);
  for (let i = 0; i < piece.length; i++) values[i] = task(piece[i]);
  return values;
}

const run = { none, 'try-each': tryEach, 'try-outside': tryOutside }[mode];
if (run === undefined) throw new Error(`unknown mode ${mode}; one of none, try-each, try-outside`);
const started = performance.now();
let count = 0;
for (let from = 0; from < items.length; from += 1_300) count += run(items.slice(from, from + 1_300)).length;
const ms = performance.now() - started;
if (count !== items.length) throw new Error(`${count} results`);
console.log(JSON.stringify({ mode, shape, ms: Math.round(ms) }));
