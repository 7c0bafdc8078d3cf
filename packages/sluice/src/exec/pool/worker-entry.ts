/**
 * The file a worker thread or child process starts: it connects a `WorkerRuntime` to the pool
 * through the thread's parentPort or the process's IPC channel. The runtime itself lives apart
 * (worker-runtime.ts) so that the in-process executor can run it on the calling thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerInit } from './protocol.js';
import { WorkerRuntime } from './worker-runtime.js';

async function main(): Promise<void> {
  if (parentPort !== null) {
    const port = parentPort;
    const init = workerData as WorkerInit;
    const runtime = new WorkerRuntime(
      {
        post: (message, transfer) => port.postMessage(message, transfer),
        onMessage: (listener) => port.on('message', listener),
        copies: true,
      },
      init.control,
    );
    await runtime.load(init.taskUrl);
    return;
  }
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('The sluice worker runtime runs inside a pool, not on its own');
  process.once('message', (init: WorkerInit) => {
    const runtime = new WorkerRuntime(
      {
        post: (message) => send(message),
        onMessage: (listener) => process.on('message', listener),
        copies: true,
      },
      undefined,
    );
    void runtime.load(init.taskUrl);
  });
  // The pool closing its end means the pool is gone: so is this process.
  process.on('disconnect', () => process.exit(0));
}

await main();
