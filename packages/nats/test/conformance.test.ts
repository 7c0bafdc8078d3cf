import { after } from 'node:test';
import { startWorker } from '@sluice/nats';
import type { ExecutorProvider } from 'sluice';
import { conformanceTask, executorConformance } from '../../sluice/test/exec/conformance.js';
import type { JetStreamProvider } from '../src/index.js';
import { TestNatsServer } from './helpers/nats-server.js';

const server = new TestNatsServer();
await server.start();
process.env.SLUICE_TEST_NATS_URL = server.url;
const workers = await Promise.all(
  ['c1', 'c2'].map((name) =>
    startWorker({ servers: server.url, tasks: [conformanceTask.path], threads: 1, name }),
  ),
);
after(async () => {
  await Promise.all(workers.map((worker) => worker.close()));
  await server.stop();
});

executorConformance({
  name: 'jetstream()',
  factory: new URL('./fixtures/conformance-provider.ts', import.meta.url),
  exportName: 'remote',
  crashes: true,
  dispose: (provider: ExecutorProvider) => (provider as JetStreamProvider).close(),
});
