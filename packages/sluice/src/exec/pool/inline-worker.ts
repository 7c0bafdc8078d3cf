/**
 * A worker that runs on the calling thread: the in-process executor's. It speaks the same protocol
 * to the same runtime as a thread or a process worker, so batching, deadlines, cancellation, error
 * transport and accounting are the pool's own, but items and results are passed by reference, not
 * copied. Messages are delivered on a microtask, never inside the sender's call, so the pool and
 * the runtime never re-enter each other. A thread cannot be terminated: stopping the worker drops
 * its queued batches, aborts the running item's signal and ignores whatever it answers after.
 */
import {
  CONTROL_BYTES,
  type ControlViews,
  controlViews,
  type FromWorker,
  type ToWorker,
} from './protocol.js';
import type { SpawnOptions, WorkerEvents, WorkerHandle } from './worker-handle.js';
import { WorkerRuntime } from './worker-runtime.js';

export class InlineWorker implements WorkerHandle {
  readonly isolation = 'inline';
  readonly control: ControlViews;
  readonly #runtime: WorkerRuntime;
  readonly #events: WorkerEvents;
  #deliver: ((message: ToWorker) => void) | undefined;
  /** Set by terminate(): nothing goes either way after it. */
  #stopped = false;

  constructor(options: SpawnOptions, events: WorkerEvents) {
    // A control block in the same thread works as it does across threads: the pool reads which
    // item is running to time its deadline and to blame it.
    const buffer = new SharedArrayBuffer(CONTROL_BYTES);
    this.control = controlViews(buffer);
    this.#events = events;
    this.#runtime = new WorkerRuntime(
      {
        post: (message: FromWorker) => {
          if (!this.#stopped) queueMicrotask(() => this.#stopped || events.message(message));
        },
        onMessage: (listener) => {
          this.#deliver = listener;
        },
        copies: false,
      },
      buffer,
    );
    void this.#runtime.load(options.task.url);
  }

  post(message: ToWorker): void {
    // The pool posts only to workers that said they are ready, by which time the runtime listens.
    queueMicrotask(() => this.#stopped || this.#deliver?.(message));
  }

  setKeepAlive(): void {
    // Nothing of its own holds the process open: the task's own timers and sockets do, if any.
  }

  async terminate(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#runtime.stop();
    queueMicrotask(() => this.#events.exit(new Error('The in-process worker was stopped')));
  }
}
