/**
 * Task modules: the unit of work a worker loads. A task module's default export is the value
 * `defineTask` returns; a worker imports the module by its file URL (code never travels between
 * threads or processes), runs `setup` once, and then calls the function for every item it is sent.
 */
import type { TransferListItem } from 'node:worker_threads';
import { checkFunction, checkOptions } from '../core/validate.js';

const taskBrand = Symbol.for('sluice.task');

/** What a task receives besides the item. */
export interface TaskContext<State = undefined> {
  /** Position of the item in the stage's input (or in the pool's submissions), counted from 0. */
  readonly index: number;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** What `setup` returned in this worker: a parser, a connection, a compiled schema. */
  readonly state: State;
  /**
   * Aborts when the item's deadline passes or its run is cancelled. Synchronous code can poll
   * `signal.aborted` (or call `signal.throwIfAborted()`) inside its loop: the flag is checked
   * against the deadline and the pool's cancel flag on every read, so it flips even while the
   * worker's event loop is blocked by the task itself.
   */
  readonly signal: AbortSignal;
}

export type TaskFunction<In, Out, State> = (item: In, ctx: TaskContext<State>) => Out | PromiseLike<Out>;

export interface TaskOptions<State> {
  /**
   * Runs once per worker, before its first item; its result reaches every call as `ctx.state`.
   * @example setup: async () => ({ parser: await loadGrammar() })
   */
  setup?: () => State | PromiseLike<State>;
}

/** The default export of a task module. */
export interface TaskDefinition<In, Out, State = undefined> {
  readonly [taskBrand]: true;
  readonly fn: TaskFunction<In, Out, State>;
  readonly setup: (() => State | PromiseLike<State>) | undefined;
}

/**
 * Declares a task module's work. Export the result as the module's default export.
 * @example
 * // normalize.task.ts
 * export default defineTask((raw: RawAsset, ctx): Asset => toCommonSchema(raw, ctx.state.parser), {
 *   setup: () => ({ parser: makeParser() }),
 * });
 */
export function defineTask<In, Out, State = undefined>(
  fn: TaskFunction<In, Out, State>,
  options?: TaskOptions<State>,
): TaskDefinition<In, Out, State> {
  checkFunction('defineTask(fn)', fn);
  checkOptions('defineTask options', options, ['setup']);
  if (options?.setup !== undefined) checkFunction('defineTask setup', options.setup);
  return { [taskBrand]: true, fn, setup: options?.setup };
}

export function isTaskDefinition(value: unknown): value is TaskDefinition<unknown, unknown, unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[taskBrand] === true &&
    typeof (value as { fn?: unknown }).fn === 'function'
  );
}

const moveBrand = Symbol.for('sluice.move');

/**
 * How many values this thread has marked with move(), kept on globalThis so that every copy of
 * sluice loaded in the thread counts into one. While it is 0, no array can hold a marked value,
 * and the per-item scans for them (every batch, both ways) are skipped.
 */
const moves: { count: number } = ((globalThis as Record<symbol, unknown>)[Symbol.for('sluice.moves')] ??= {
  count: 0,
}) as { count: number };

/** A value whose buffers are moved, not copied, when it crosses to or from a worker. */
export interface Moved<T> {
  readonly [moveBrand]: true;
  readonly value: T;
  readonly transferList: readonly TransferListItem[];
}

/**
 * Marks a value so that its ArrayBuffers are moved to the other thread instead of copied: the
 * sender's buffers are detached, the receiver gets them without a copy. Works for items (on the
 * main thread) and for results (returned from a task). Without a `transferList`, the value itself
 * (an ArrayBuffer or a typed array) or its own top-level properties are searched for buffers.
 * SharedArrayBuffers need no marking: they are shared, never copied.
 * @example return move(new Float64Array(result));
 */
export function move<T>(value: T, transferList?: readonly TransferListItem[]): T {
  const moved: Moved<T> = { [moveBrand]: true, value, transferList: transferList ?? findBuffers(value) };
  moves.count++;
  return moved as unknown as T;
}

/** Whether any of `values` is marked with move(). */
export function anyMoved(values: readonly unknown[]): boolean {
  return moves.count > 0 && values.some(isMoved);
}

export function isMoved(value: unknown): value is Moved<unknown> {
  return (
    typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[moveBrand] === true
  );
}

function findBuffers(value: unknown): TransferListItem[] {
  const own = bufferOf(value);
  if (own !== undefined) return [own];
  if (typeof value !== 'object' || value === null) return [];
  const found = new Set<ArrayBuffer>();
  for (const child of Array.isArray(value) ? value : Object.values(value)) {
    const buffer = bufferOf(child);
    if (buffer !== undefined) found.add(buffer);
  }
  return [...found];
}

function bufferOf(value: unknown): ArrayBuffer | undefined {
  if (value instanceof ArrayBuffer) return value;
  if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) return value.buffer;
  return undefined;
}

/** Replaces values marked with move() by the values themselves, in place, and returns their buffers. */
export function unwrapMoved(values: unknown[]): TransferListItem[] {
  if (moves.count === 0) return [];
  let transfer: TransferListItem[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (isMoved(value)) {
      values[i] = value.value;
      transfer ??= [];
      transfer.push(...value.transferList);
    }
  }
  return transfer ?? [];
}
