import { BroadcastChannel } from 'node:worker_threads';
import { GATE_CHANNEL } from '../fixtures/tasks/worker-gate.js';

/**
 * The test's side of the workers' gate: workers of a gated task module stay unready until
 * `open()`; a worker that starts after that finds the gate open at once.
 */
export class WorkerGate {
  readonly #channel = new BroadcastChannel(GATE_CHANNEL);
  #open = false;

  constructor() {
    this.#channel.onmessage = (event) => {
      if ((event as MessageEvent).data === 'waiting' && this.#open) this.#channel.postMessage('open');
    };
  }

  open(): void {
    this.#open = true;
    this.#channel.postMessage('open');
  }

  close(): void {
    this.#channel.close();
  }
}
