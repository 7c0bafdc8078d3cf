#!/usr/bin/env node
/**
 * The `sluice` command. Each subcommand lives in its own module under commands/ and registers
 * itself on the program; this file only wires them and turns failures into exit codes:
 * 0 done, 1 failed, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { EXIT_FAILED, EXIT_USAGE, printFailure } from './exit.js';

/**
 * Each command's module, loaded only when it is the command run: between them they import the
 * demo's stores, the lab, the charts, NATS and pino, and loading them all made every start cost
 * about 240 ms where `sluice worker` (a process restarted whenever its host likes) needs its own
 * part alone. `--help`, a misspelt command and the like still load them all.
 */
const commands = new Map<string, () => Promise<(program: Command) => void>>([
  ['demo', async () => (await import('./commands/demo.js')).registerDemo],
  ['run', async () => (await import('./commands/run.js')).registerRun],
  ['lab', async () => (await import('./commands/lab.js')).registerLab],
  ['tune', async () => (await import('./commands/tune.js')).registerTune],
  ['worker', async () => (await import('./commands/worker.js')).registerWorker],
]);

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('sluice')
  .description(
    'Runs work at the right kind of concurrency: bounded async IO on the event loop, CPU work on worker threads, joined in one streaming pipeline.',
  )
  .version(version, '-v, --version')
  .showSuggestionAfterError(true)
  // Each command's options are its own: `sluice lab bigfile --size 200MB` is bigfile's --size, not lab's.
  .enablePositionalOptions()
  .exitOverride()
  .configureOutput({
    // commander's own usage errors become one coded line.
    outputError: (text, write) =>
      write(`${text.trim().replace(/^error: /, 'sluice: ')} (SLUICE_ERR_USAGE)\n`),
  });

// `sluice --help | head` closes the pipe early: that is the reader being done, not a failure.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0);
    throw error;
  });
}

// The first word that is not an option names the command (the program's own options take no value).
const named = process.argv.slice(2).find((arg) => !arg.startsWith('-'));
const load = named === undefined ? undefined : commands.get(named);
const loaders = load === undefined ? [...commands.values()] : [load];
for (const register of await Promise.all(loaders.map((loader) => loader()))) register(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // --help and --version end here too, with exit code 0.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else {
    printFailure(error);
    process.exitCode = EXIT_FAILED;
  }
}
