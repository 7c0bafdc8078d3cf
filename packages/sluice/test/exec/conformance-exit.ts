/**
 * The child process of the conformance suite's exit test:
 *   node --import tsx conformance-exit.ts <factory module URL> <export name> <task URL>
 * It opens an executor from the provider, runs one item, closes the executor and prints the
 * values, then simply ends: if anything the executor left behind keeps the process alive, the
 * test's hang guard kills it and the test fails.
 */
import { fileURLToPath } from 'node:url';
import type { ExecutorProvider } from '../../src/index.js';

const [factory = '', exportName = '', task = ''] = process.argv.slice(2);
const module = (await import(factory)) as Record<string, () => ExecutorProvider>;
const provider = (module[exportName] as () => ExecutorProvider)();
const executor = provider.open({ url: task, path: fileURLToPath(task) }, { stage: 'conformance-exit' });
const outcome = await executor.execute({ items: [{ op: 'echo', value: 'exit' }], first: 0 });
await executor.close();
process.stdout.write(JSON.stringify(outcome.values));
