#!/usr/bin/env node
/**
 * The `sluice` command. For now it answers --version and --help; the commands (demo, run, lab,
 * tune) are built on the library and added here one by one.
 */
import { readFileSync } from 'node:fs';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const usage = `Usage: sluice [--version] [--help]

Runs work at the right kind of concurrency. The library is the API today:
  import { flow, map } from 'sluice';`;

const [command] = process.argv.slice(2);
if (command === '--version' || command === '-v') {
  console.log(version);
} else if (command === undefined || command === '--help' || command === '-h') {
  console.log(usage);
} else {
  console.error(`sluice: unknown command "${command}" (SLUICE_ERR_USAGE)\n\n${usage}`);
  process.exitCode = 2;
}
