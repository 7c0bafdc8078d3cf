#!/usr/bin/env node
/**
 * The `sluice` command. Each subcommand lives in its own module under commands/ and registers
 * itself on the program; this file only wires them and turns failures into exit codes:
 * 0 done, 1 failed, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerDemo } from './commands/demo.js';
import { registerLab } from './commands/lab.js';
import { registerRun } from './commands/run.js';
import { registerTune } from './commands/tune.js';
import { registerWorker } from './commands/worker.js';
import { EXIT_FAILED, EXIT_USAGE, printFailure } from './exit.js';

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

registerDemo(program);
registerRun(program);
registerLab(program);
registerTune(program);
registerWorker(program);

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
