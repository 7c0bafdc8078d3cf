/** `sluice run`: not built yet. */
import type { Command } from 'commander';

export function registerRun(program: Command): void {
  program
    .command('run')
    .description('(coming soon)')
    .action(() => {
      throw new Error('sluice run is not built yet');
    });
}
