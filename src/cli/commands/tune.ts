/** `sluice tune`: not built yet. */
import type { Command } from 'commander';

export function registerTune(program: Command): void {
  program
    .command('tune')
    .description('(coming soon)')
    .action(() => {
      throw new Error('sluice tune is not built yet');
    });
}
