/**
 * The messages between the pool and its workers, and the shared control block a thread worker
 * writes as it goes. Both sides import this module, so the layout is stated once. Errors travel
 * as `WireError`s (core/error-wire.ts), the one format every executor uses.
 */
import type { WireError } from '../../core/error-wire.js';
import type { RecordColumns } from './record-columns.js';

/** How a worker is told what to load, through workerData (threads) or its first message (processes). */
export interface WorkerInit {
  readonly taskUrl: string;
  /** Shared control block (threads only): see the slots below. */
  readonly control: SharedArrayBuffer | undefined;
}

/** A piece of a batch sent to a worker: items `first .. first + items.length - 1` of a stage's input. */
export interface BatchMessage {
  readonly type: 'batch';
  readonly id: number;
  /** The items, or their columns when they are flat records (record-columns.ts). */
  readonly items: unknown[] | RecordColumns;
  readonly first: number;
  readonly attempt: number;
  /** Milliseconds each item may run; the task's signal aborts at the deadline. */
  readonly timeout: number | undefined;
}

export interface CancelMessage {
  readonly type: 'cancel';
  readonly id: number;
}

export type ToWorker = BatchMessage | CancelMessage;

export interface ReadyMessage {
  readonly type: 'ready';
}

export interface InitErrorMessage {
  readonly type: 'init-error';
  readonly error: WireError;
}

export interface DoneMessage {
  readonly type: 'done';
  readonly id: number;
  /** Index of the batch's first item, echoed back for error messages. */
  readonly first: number;
  /** The results, or their columns when they are flat records (record-columns.ts). */
  readonly values: unknown[] | RecordColumns;
  /** Sparse: `errors[i]` is set when item i failed. Absent when every item succeeded. */
  readonly errors: (WireError | undefined)[] | undefined;
  /** Time the batch kept the worker busy, in milliseconds: the batch sizer's measure. */
  readonly busyMs: number;
}

export type FromWorker = ReadyMessage | InitErrorMessage | DoneMessage;

/**
 * Control block slots (Int32). A thread worker publishes which batch and which item it is running,
 * so that when it dies or overruns a deadline the pool knows exactly which item was to blame;
 * the pool writes cancelled batch ids into a small ring the worker polls.
 */
export const CONTROL_BATCH = 0;
export const CONTROL_ITEM = 1;
/** The ring holds the last few cancelled ids; a worker never has more than two batches queued. */
export const CONTROL_CANCEL_RING = 2;
export const CANCEL_RING_SIZE = 8;
/** Float64 slot, after the Int32 slots: when the current item started, in epoch milliseconds. */
export const CONTROL_INT32_SLOTS = 12;
export const CONTROL_BYTES = CONTROL_INT32_SLOTS * 4 + 8;

export function controlViews(buffer: SharedArrayBuffer): ControlViews {
  return {
    ints: new Int32Array(buffer, 0, CONTROL_INT32_SLOTS),
    started: new Float64Array(buffer, CONTROL_INT32_SLOTS * 4, 1),
  };
}

/** A thread worker's control block, as the pool reads it. */
export interface ControlViews {
  readonly ints: Int32Array;
  readonly started: Float64Array;
}

/**
 * Which item of batch `batchId` the worker is running, from its control block: -1 when it is not
 * running that batch (it has not started it, or has finished it).
 */
export function runningItem(control: ControlViews, batchId: number): number {
  if (Atomics.load(control.ints, CONTROL_BATCH) !== batchId) return -1;
  return Atomics.load(control.ints, CONTROL_ITEM);
}

/** Read once: the getter is not free, and a worker reads the time before every item. */
const timeOrigin = performance.timeOrigin;

/** Milliseconds since the epoch, comparable across threads (each has its own timeOrigin). */
export function epochNow(): number {
  return timeOrigin + performance.now();
}
