/**
 * The fault suite: random flows under random faults, each checked against the invariants in
 * fault-run.ts. `FAULT_CASES` cases (default 300) from `FAULT_SEED` (default fixed); a failure
 * prints its seed and path, which replay it exactly:
 *
 *   FAULT_SEED=<seed> FAULT_PATH=<path> npm run test:faults
 *
 * It ends by printing one JSON line of figures, and must then exit on its own: a worker, timer or
 * socket left behind by any case would hold the process open, which the caller treats as a failure.
 */
import fc from 'fast-check';
import { faultCaseArb } from './fault-cases.js';
import { runCase } from './fault-run.js';
import { FaultBench } from './fault-sources.js';

const cases = Number(process.env.FAULT_CASES ?? 300);
const seed = Number(process.env.FAULT_SEED ?? 20261128);
const path = process.env.FAULT_PATH;

const bench = await FaultBench.open();
// A rejection nobody handles is a failure too, and it names the case that was running.
let current: { index: number; c: unknown } | undefined;
let index = 0;
process.on('unhandledRejection', (error) => {
  process.stderr.write(
    `fault suite: an unhandled rejection during case ${current?.index} of seed ${seed}\n${JSON.stringify(current?.c)}\n${String((error as Error)?.stack ?? error)}\n`,
  );
  process.exit(1);
});
const tally = new Map<string, number>();
const sources = new Map<string, number>();
let cpuCases = 0;
const started = performance.now();
try {
  const result = await fc.check(
    fc.asyncProperty(faultCaseArb, async (c) => {
      current = { index: index++, c };
      if (process.env.FAULT_TRACE) process.stderr.write(`case ${current.index}: ${JSON.stringify(c)}\n`);
      const outcome = await runCase(c, bench);
      const key = outcome.code === undefined ? outcome.status : `${outcome.status} ${outcome.code}`;
      tally.set(key, (tally.get(key) ?? 0) + 1);
      sources.set(c.source, (sources.get(c.source) ?? 0) + 1);
      if (c.stages.some((s) => s.kind === 'cpu')) cpuCases++;
    }),
    { numRuns: cases, seed, endOnFailure: true, ...(path === undefined ? {} : { path }) },
  );
  if (result.failed) {
    process.stderr.write(
      `fault suite: case failed; replay with FAULT_SEED=${result.seed} FAULT_PATH=${result.counterexamplePath}\n` +
        `${JSON.stringify(result.counterexample?.[0], null, 1)}\n${String((result.errorInstance as Error)?.stack ?? result.errorInstance)}\n`,
    );
    process.exitCode = 1;
  }
  const figures = {
    cases: result.numRuns,
    seed,
    seconds: Math.round((performance.now() - started) / 100) / 10,
    outcomes: Object.fromEntries([...tally].sort()),
    sources: Object.fromEntries([...sources].sort()),
    cpuCases,
  };
  process.stdout.write(`${JSON.stringify(figures)}\n`);
} finally {
  await bench.close();
}
