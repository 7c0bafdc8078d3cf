/** `sluice demo`: not built yet. */
import type { Command } from 'commander';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('(coming soon)')
    .action(() => {
      throw new Error('sluice demo is not built yet');
    });
}
