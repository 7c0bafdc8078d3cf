/**
 * `sluice run <module>`: runs a flow a user wrote. The module's default export is a Flow, or a
 * function (sync or async) that returns one; the function receives `{ signal }`, the signal that
 * Ctrl-C aborts. The command prints the report's per-stage summary and, with `--report`, writes
 * the whole report as JSON, whether the run completed or not.
 */
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import type { RunOptions, RunReport } from 'sluice';
import { formatReport } from 'sluice';
import { usageError } from '../exit.js';
import { abortOnInterrupt, EXIT_INTERRUPTED } from '../interrupt.js';

interface RunCommandOptions {
  report?: string;
  json?: boolean;
  progress: boolean;
}

/** What `run` needs of a flow. Checked by shape: the user's flow may come from another copy of sluice. */
interface Runnable {
  run(options?: RunOptions): PromiseLike<RunReport>;
}

function isRunnable(value: unknown): value is Runnable {
  return typeof value === 'object' && value !== null && typeof (value as Runnable).run === 'function';
}

export function registerRun(program: Command): void {
  program
    .command('run')
    .summary("run a module's flow and print its report")
    .description(
      [
        'Imports <module> and runs the flow it exports by default: a Flow, or a function returning one, called with { signal } (the signal Ctrl-C aborts). Shows live progress on stderr, then prints the report: per stage its items, rate, latency, busy share and whether it is IO- or CPU-bound, the bottleneck, the event loop health and any warning; --report writes the whole report as JSON, even when the run fails.',
        'Exit codes: 0 completed, 1 failed (one coded line on stderr), 2 bad usage (no such module, no flow exported), 130 interrupted.',
      ].join('\n\n'),
    )
    .argument('<module>', 'path of an ES module (.js, .mjs; .ts when run under tsx)')
    .option('--report <file>', 'write the run report as JSON to <file>')
    .option('--json', 'print the report as JSON instead of the summary')
    .option('--no-progress', 'no live progress on stderr (a line per stage: rate, in flight, done, ETA)')
    .addHelpText(
      'after',
      [
        '',
        'Example module (crawl.js):',
        "  import { flow } from 'sluice';",
        '  export default ({ signal }) => flow(urls).map(fetchPage, { concurrency: 16 }).forEach(save);',
        '',
        '  sluice run ./crawl.js --report crawl-report.json',
      ].join('\n'),
    )
    .action(runModule);
}

/** Boxed: an async function returning a Sink would await it, and so run it. */
async function loadFlow(path: string, signal: AbortSignal): Promise<{ runnable: Runnable }> {
  const file = resolve(path);
  if (!existsSync(file)) throw usageError(`no module at ${file}`);
  const exported = ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  let made = typeof exported === 'function' ? (exported as (ctx: object) => unknown)({ signal }) : exported;
  // A forEach's Sink is itself awaitable (awaiting it runs it): only a plain promise is awaited here.
  if (!isRunnable(made) && typeof (made as PromiseLike<unknown> | undefined)?.then === 'function')
    made = await made;
  if (!isRunnable(made))
    throw usageError(
      `${path} must export by default a Flow, or a function returning one (got ${typeof made})`,
    );
  return { runnable: made };
}

async function runModule(path: string, options: RunCommandOptions): Promise<void> {
  const interrupt = abortOnInterrupt();
  let report: RunReport | undefined;
  let failure: unknown;
  try {
    const { runnable } = await loadFlow(path, interrupt.signal);
    try {
      report = await runnable.run({ signal: interrupt.signal, progress: options.progress });
    } catch (error) {
      // A forEach that has already started (awaited by the module) cannot take a signal any more.
      if ((error as { code?: unknown }).code !== 'SLUICE_ERR_SINK_STARTED') throw error;
      report = await runnable.run();
    }
  } catch (error) {
    failure = error;
    report = (error as { report?: RunReport }).report;
  } finally {
    interrupt.dispose();
  }
  if (report !== undefined) {
    if (options.report !== undefined) await writeFile(options.report, `${JSON.stringify(report, null, 2)}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`${formatReport(report)}\n`);
  }
  if (failure === undefined) return;
  if (interrupt.interrupted) {
    process.stderr.write('sluice: interrupted (SLUICE_ERR_ABORTED)\n');
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  throw failure;
}
