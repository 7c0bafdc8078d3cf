/** `sluice lab`: not built yet. */
import type { Command } from 'commander';

export function registerLab(program: Command): void {
  program
    .command('lab')
    .description('(coming soon)')
    .action(() => {
      throw new Error('sluice lab is not built yet');
    });
}
