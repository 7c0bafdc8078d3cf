/**
 * What each terminal costs an item, counted in machine instructions by valgrind's callgrind rather
 * than timed: on this shared machine the same flow's time moves by 2x from hour to hour, and a
 * change of a few percent in a terminal's cost is lost in it. The compiled functions' own rows
 * repeat exactly (instructions-child.mjs says why its clock is frozen); the totals repeated within
 * 2 to 4% on 2026-11-30, but on 2026-12-01 the same tree read 1,246 and 1,758 for reduce and 867
 * and 904 for the bare loop (the collector's and the runtime's rows move; a fixed young generation
 * or V8's predictable GC schedule did not hold them): judge a change by its compiled rows
 * (`BY_FUNCTION=1`) and by totals repeated in interleaved runs. Each terminal runs at two sizes
 * in fresh `node --single-threaded` processes (no concurrent compiler or collector threads, so
 * their work is counted with the rest), and the difference divided by the difference in items is
 * the cost of an item, start-up and module loading cancelled out.
 *   node bench/scenarios/instructions.mjs [terminal...]            # bare run reduce collect forEach forAwait
 *   BY_FUNCTION=1 node bench/scenarios/instructions.mjs reduce    # and where they go, by function
 *   SLUICE_ROOT=<worktree> node bench/scenarios/instructions.mjs  # that tree's compiled library
 * Instructions are not time (a cache miss costs more than an add), so a change read here is then
 * timed in pairs (`noop-ab.mjs`); but one that adds instructions on every item is seen here first.
 * Needs valgrind (Debian's package), and takes about a minute a terminal.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./instructions-child.mjs', import.meta.url));
const wanted = process.argv.slice(2);
const terminals = wanted.length > 0 ? wanted : ['bare', 'run', 'reduce', 'collect', 'forEach', 'forAwait'];
const SMALL = 100_000;
const LARGE = 300_000;
const byFunction = process.env.BY_FUNCTION === '1';
try {
  execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
} catch {
  console.error('valgrind not found: apt-get install valgrind');
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), 'sluice-instructions-'));

/** Runs `terminal` over `items` under callgrind; returns the instructions and the output file. */
async function count(terminal, items) {
  const out = join(dir, `${terminal}.${items}.out`);
  const { stderr } = await run(
    'valgrind',
    [
      '--tool=callgrind',
      `--callgrind-out-file=${out}`,
      process.execPath,
      '--single-threaded',
      ...(byFunction ? ['--perf-basic-prof'] : []),
      child,
      terminal,
      String(items),
    ],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  const collected = /Collected : (\d+)/.exec(stderr);
  if (collected === null) throw new Error(`${terminal}: no count in callgrind's output\n${stderr}`);
  return { instructions: Number(collected[1]), out };
}

/**
 * Instructions by function in a callgrind output file. JIT-compiled JavaScript has no symbols;
 * `--perf-basic-prof` made node write where each compiled function lies (/tmp/perf-<pid>.map),
 * and its addresses are matched here.
 */
function byFunctionOf(file) {
  const pid = /pid: (\d+)/.exec(readFileSync(file, 'utf8').slice(0, 4000))?.[1];
  const mapFile = `/tmp/perf-${pid}.map`;
  const code = readFileSync(mapFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, size, ...name] = line.split(' ');
      return {
        start: Number.parseInt(start, 16),
        end: Number.parseInt(start, 16) + Number.parseInt(size, 16),
        name: name.join(' '),
      };
    })
    .sort((a, b) => a.start - b.start);
  rmSync(mapFile, { force: true });
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', file], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const costs = new Map();
  for (const line of annotated.split('\n')) {
    const row = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/.exec(line);
    if (row === null || row[2].includes('PROGRAM TOTALS')) continue;
    let name = row[2].replace(/ \[.*\]$/, '').replace('???:', '');
    const address = /^0x([0-9a-f]+)$/.exec(name);
    if (address !== null) {
      const at = Number.parseInt(address[1], 16);
      const found = code.find((c) => c.start <= at && at < c.end);
      name = found === undefined ? 'JIT (unknown)' : `JIT ${found.name.replace(/file:\/\/\S*\//, '')}`;
    }
    costs.set(name, (costs.get(name) ?? 0) + Number(row[1].replaceAll(',', '')));
  }
  return costs;
}

const rows = [];
for (const terminal of terminals) {
  // The two sizes side by side: two cores, and each process is single-threaded.
  const [small, large] = await Promise.all([count(terminal, SMALL), count(terminal, LARGE)]);
  const perItem = (large.instructions - small.instructions) / (LARGE - SMALL);
  rows.push({ terminal, perItem });
  console.error(`${terminal}: ${perItem.toFixed(0)} instructions an item`);
  if (byFunction) {
    const before = byFunctionOf(small.out);
    const after = byFunctionOf(large.out);
    const names = new Set([...before.keys(), ...after.keys()]);
    const items = [...names]
      .map((name) => ({
        name,
        perItem: ((after.get(name) ?? 0) - (before.get(name) ?? 0)) / (LARGE - SMALL),
      }))
      .filter(({ perItem: n }) => Math.abs(n) >= 5)
      .sort((a, b) => b.perItem - a.perItem);
    for (const { name, perItem: n } of items)
      console.log(`  ${n.toFixed(0).padStart(6)}  ${name.slice(0, 110)}`);
  }
}
rmSync(dir, { recursive: true, force: true });

const bare = rows.find((r) => r.terminal === 'bare')?.perItem;
console.log(
  '\n| terminal | instructions an item | bare loop / terminal |\n| --- | ---: | ---: |\n' +
    rows
      .map(
        ({ terminal, perItem }) =>
          `| ${terminal} | ${perItem.toFixed(0)} | ${bare === undefined ? '' : `${((100 * bare) / perItem).toFixed(0)}%`} |`,
      )
      .join('\n'),
);
