/**
 * The demo's provider service in a process of its own, as forty vendors' APIs would be: rendering
 * their pages costs CPU, and on the demo's own event loop that CPU would be counted against the
 * fetch stage (the report would call a stage that only waits on the network "mixed") and would
 * slow the flow it is there to feed. Started by `startProviderProcess`; prints its origin, then
 * serves until its parent goes away.
 *   node provider-process.js <seed> <assets> <providers> <faultRate>
 */
import { Population } from './population.js';
import { startProviderServer } from './provider-server.js';

const [seed, assets, providers, faultRate] = process.argv.slice(2).map(Number);
const server = await startProviderServer(
  new Population({ seed: seed as number, assets: assets as number, providers: providers as number }),
  { faultRate: faultRate as number },
);
process.stdout.write(`${server.origin}\n`);
// Ctrl-C reaches the whole process group: the parent decides when the run is over, and this
// process goes when its parent does.
process.on('SIGINT', () => {});
process.on('disconnect', () => {
  void server.close().finally(() => process.exit(0));
});
