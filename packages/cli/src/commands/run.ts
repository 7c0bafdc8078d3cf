/**
 * `sluice run <module>`: runs a flow a user wrote. The module's default export is a Flow, or a
 * function (sync or async) that returns one; the function receives `{ signal }`, the signal that
 * Ctrl-C aborts. The command prints the report's per-stage summary and, with `--report`, writes
 * the whole report as JSON, whether the run completed or not.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Command, CommanderError } from 'commander';
import type { RunOptions, RunReport } from 'sluice';
import { formatReport, withRunSignal } from 'sluice';
import { CliError, usageError } from '../exit.js';
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
        'Exit codes: 0 completed, 1 failed (one coded line on stderr: the module would not load, a stage failed, the run stalled), 2 bad usage (no such module, no flow exported, a --report folder that does not exist), 130 interrupted (Ctrl-C; the report is still printed).',
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

/**
 * Imports the module and starts its flow with the signal. Runs started without a signal inside
 * the module (a forEach starts itself; an async function returning one awaits it) take the same
 * signal through `withRunSignal`. Resolves with the report, or rejects with the run's error.
 */
async function runFlowOf(path: string, signal: AbortSignal, progress: boolean): Promise<RunReport> {
  const file = resolve(path);
  if (!existsSync(file)) throw usageError(`no module at ${file}`);
  const exported = await withRunSignal(signal, () => importModule(file));
  let made = withRunSignal(signal, () =>
    typeof exported === 'function' ? (exported as (ctx: object) => unknown)({ signal }) : exported,
  );
  // A flow made synchronously is started in the same turn, before a forEach can start itself.
  if (isRunnable(made)) return startRunnable(made, signal, progress);
  // A forEach's Sink is itself awaitable (awaiting it runs it): only a plain promise is awaited here.
  if (typeof (made as PromiseLike<unknown> | undefined)?.then === 'function') made = await made;
  if (isRunnable(made)) return startRunnable(made, signal, progress);
  // An async function that returned a forEach has awaited it: what comes back is its report.
  if (isReport(made)) return made;
  throw usageError(`${path} must export by default a Flow, or a function returning one (got ${typeof made})`);
}

async function startRunnable(runnable: Runnable, signal: AbortSignal, progress: boolean): Promise<RunReport> {
  try {
    return await runnable.run({ signal, progress });
  } catch (error) {
    // A forEach that started itself already has the signal (withRunSignal); only progress is lost.
    if ((error as { code?: unknown }).code !== 'SLUICE_ERR_SINK_STARTED') throw error;
    return runnable.run();
  }
}

function isReport(value: unknown): value is RunReport {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as RunReport).status === 'string' &&
    Array.isArray((value as RunReport).stages)
  );
}

/** Imports the user's module; an error in it (a syntax error, a throw at load) names the file and line. */
async function importModule(file: string): Promise<unknown> {
  try {
    return ((await import(pathToFileURL(file).href)) as { default?: unknown }).default;
  } catch (error) {
    throw new CliError('SLUICE_ERR_MODULE_LOAD', `cannot load ${describeLoadError(file, error)}`);
  }
}

/** `file:line:column: message`, as far as the error lets us find where in the module it points. */
function describeLoadError(file: string, error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // tsx (esbuild) puts the position (its column counted from 0) and the real message on the line
  // after "Transform failed".
  for (const line of message.split('\n')) {
    const located = /^(.+?):(\d+):(\d+): ERROR: (.*)$/.exec(line);
    if (located?.[1] === file) return `${file}:${located[2]}:${Number(located[3]) + 1}: ${located[4]}`;
  }
  const first = message.split('\n')[0] ?? '';
  const stack = error instanceof Error ? (error.stack ?? '') : '';
  const url = pathToFileURL(file).href;
  for (const prefix of [url, file]) {
    const at = stack.indexOf(`${prefix}:`);
    const position = at === -1 ? null : /^:(\d+):(\d+)/.exec(stack.slice(at + prefix.length));
    if (position !== null) return `${file}:${position[1]}:${position[2]}: ${first}`;
  }
  // Node keeps a syntax error's position out of the error object; its own check prints it.
  const position = error instanceof SyntaxError ? syntaxErrorPosition(file) : undefined;
  return `${position ?? file}: ${first}`;
}

/** `file:line:column` of the first syntax error in a JavaScript module, from `node --check`. */
function syntaxErrorPosition(file: string): string | undefined {
  const { stderr } = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 10_000 });
  const [where, , caret] = (stderr ?? '').split('\n');
  const line = /:(\d+)$/.exec(where ?? '')?.[1];
  if (line === undefined) return undefined;
  const column = caret?.indexOf('^') ?? -1;
  return `${file}:${line}${column === -1 ? '' : `:${column + 1}`}`;
}

/**
 * The report file's folder must exist before the run starts: finding out after an hour of work
 * would lose the report.
 */
function checkReportPath(path: string | undefined): void {
  if (path === undefined) return;
  const folder = dirname(resolve(path));
  try {
    if (!statSync(folder).isDirectory()) throw usageError(`--report ${path}: ${folder} is not a folder`);
    accessSync(folder, constants.W_OK);
  } catch (error) {
    if (error instanceof CommanderError) throw error;
    throw usageError(
      `--report ${path}: cannot write into ${folder} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
    );
  }
}

async function runModule(path: string, options: RunCommandOptions): Promise<void> {
  checkReportPath(options.report);
  const interrupt = abortOnInterrupt();
  const stall = stallWatch();
  let report: RunReport | undefined;
  let failure: unknown;
  try {
    report = await runFlowOf(path, AbortSignal.any([interrupt.signal, stall.signal]), options.progress);
  } catch (error) {
    failure = error;
    report = (error as { report?: RunReport }).report;
  } finally {
    interrupt.dispose();
    stall.dispose();
  }
  if (report !== undefined) {
    if (options.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`${formatReport(report)}\n`);
    if (options.report !== undefined) await writeFile(options.report, `${JSON.stringify(report, null, 2)}\n`);
  }
  if (failure === undefined) return;
  if (interrupt.interrupted) {
    process.stderr.write('sluice: interrupted (SLUICE_ERR_ABORTED)\n');
    process.exitCode = EXIT_INTERRUPTED;
    return;
  }
  throw stall.signal.aborted ? stall.signal.reason : failure;
}

/**
 * A run whose calls never settle, with nothing else pending, empties the event loop: Node would
 * exit 13 in silence. Node says so first ('beforeExit'), and the run is stopped then, with a reason.
 */
function stallWatch(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onBeforeExit = (): void => {
    controller.abort(
      new CliError(
        'SLUICE_ERR_STALLED',
        'the run stalled: calls in flight can never settle (their promises wait on nothing: no timer, socket or worker is left)',
      ),
    );
  };
  process.on('beforeExit', onBeforeExit);
  return { signal: controller.signal, dispose: () => process.off('beforeExit', onBeforeExit) };
}
