/**
 * Source adapters. A synchronous iterable is read directly by the first stage, one `next()` per
 * item and no buffer in between; anything asynchronous (AsyncIterable, Node Readable, web
 * ReadableStream) is pumped into a bounded channel, read only while the channel has room.
 */
import { Channel, EMPTY } from '../core/channel.js';
import { errorMessage, InvalidSourceError, SourceConsumedError, SourceError } from '../core/errors.js';
import { nextMacrotask } from '../core/thenable.js';
import { describe } from '../core/validate.js';
import type { Inlet } from './inlet.js';

/** Everything `flow()` accepts. Node Readables and web ReadableStreams are AsyncIterables. */
export type Source<T> = Iterable<T> | AsyncIterable<T>;

/** Sources that can be read once only: iterators, generators, streams. */
const consumed = new WeakSet<object>();

export function checkSource(source: unknown): void {
  if (typeof source === 'string') {
    throw new InvalidSourceError('A string is not a flow source: wrap it in an array to make it one item');
  }
  if (
    source === null ||
    typeof source !== 'object' ||
    (typeof (source as Iterable<unknown>)[Symbol.iterator] !== 'function' &&
      typeof (source as AsyncIterable<unknown>)[Symbol.asyncIterator] !== 'function')
  ) {
    throw new InvalidSourceError(
      `The source must be an Iterable, an AsyncIterable, a Node Readable or a web ReadableStream. Received ${describe(source)}`,
    );
  }
}

/** A live source inside one run. */
export interface SourceInlet<T> extends Inlet<T> {
  /** Items read from the source. */
  readonly items: number;
  /** Starts reading; resolves when the source is exhausted, rejects with a SourceError. */
  start(): Promise<void>;
  /** Stops reading and releases the source (closes the iterator, destroys the stream). */
  stop(error: unknown): number;
}

export function openSource<T>(source: Source<T>, capacity: number): SourceInlet<T> {
  if (isOneShot(source)) {
    if (consumed.has(source)) {
      throw new SourceConsumedError(
        'The source was already read by an earlier run; iterators and streams can be read once',
      );
    }
    consumed.add(source);
  }
  if (isWebStream<T>(source)) return new AsyncSourceInlet<T>(readerIterator(source.getReader()), capacity);
  if (typeof (source as AsyncIterable<T>)[Symbol.asyncIterator] === 'function') {
    const release = isNodeReadable(source) ? () => source.destroy() : undefined;
    return new AsyncSourceInlet((source as AsyncIterable<T>)[Symbol.asyncIterator](), capacity, release);
  }
  if (Array.isArray(source)) return new ArraySourceInlet(source as readonly T[]);
  return new SyncSourceInlet((source as Iterable<T>)[Symbol.iterator]());
}

/**
 * Iterators and generators hand out themselves, and streams (Node Readable, web ReadableStream) a
 * reader over themselves: they can be read once. Arrays, Sets and plain iterables make a fresh
 * iterator each time.
 */
function isOneShot(source: object): boolean {
  return (
    typeof (source as { next?: unknown }).next === 'function' ||
    'getReader' in source ||
    'readableEnded' in source
  );
}

interface WebStream<T> {
  getReader(): { read(): Promise<IteratorResult<T>>; cancel(reason?: unknown): Promise<void> };
}

function isWebStream<T>(source: object): source is WebStream<T> {
  return typeof (source as Partial<WebStream<T>>).getReader === 'function';
}

function isNodeReadable(source: object): source is { destroy(): void } {
  return 'readableEnded' in source && typeof (source as { destroy?: unknown }).destroy === 'function';
}

/**
 * A web stream read through a reader of our own rather than its async iterator: the iterator's
 * `return()` waits behind a pending read, so an idle stream would never be cancelled, while
 * `reader.cancel()` ends the pending read at once.
 */
function readerIterator<T>(reader: ReturnType<WebStream<T>['getReader']>): AsyncIterator<T> {
  return {
    next: () => reader.read(),
    return: async (reason?: unknown) => {
      await reader.cancel(reason);
      return { done: true, value: undefined };
    },
  };
}

function sourceError(error: unknown): Error {
  return new SourceError(`The source failed: ${errorMessage(error)}`, {
    cause: error,
  });
}

class SyncSourceInlet<T> implements SourceInlet<T> {
  readonly #iterator: Iterator<T>;
  #done = false;
  items = 0;

  constructor(iterator: Iterator<T>) {
    this.#iterator = iterator;
  }

  get done(): boolean {
    return this.#done;
  }

  get size(): number {
    return this.#done ? 0 : 1;
  }

  tryPull(): T | typeof EMPTY {
    if (this.#done) return EMPTY;
    let result: IteratorResult<T>;
    try {
      result = this.#iterator.next();
    } catch (error) {
      this.#done = true;
      throw sourceError(error);
    }
    if (result.done) {
      this.#done = true;
      return EMPTY;
    }
    this.items++;
    return result.value;
  }

  tryPullMany(max: number): T[] {
    const out: T[] = [];
    while (out.length < max) {
      const item = this.tryPull();
      if (item === EMPTY) break;
      out.push(item);
    }
    return out;
  }

  readable(): Promise<boolean> {
    return Promise.resolve(!this.#done);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): number {
    if (!this.#done) {
      this.#done = true;
      try {
        this.#iterator.return?.();
      } catch {
        // The run is already failing; a second error from the source's cleanup adds nothing.
      }
    }
    return 0;
  }
}

/**
 * An array, read by index: a stage taking a batch gets a slice, not one iterator step per item.
 * Like the array's own iterator, it reads the length as it goes.
 */
class ArraySourceInlet<T> implements SourceInlet<T> {
  readonly #array: readonly T[];
  #done = false;
  items = 0;

  constructor(array: readonly T[]) {
    this.#array = array;
  }

  get done(): boolean {
    return this.#done || this.items >= this.#array.length;
  }

  get size(): number {
    return this.done ? 0 : this.#array.length - this.items;
  }

  tryPull(): T | typeof EMPTY {
    if (this.done) {
      this.#done = true;
      return EMPTY;
    }
    return this.#array[this.items++] as T;
  }

  tryPullMany(max: number): T[] {
    if (this.done) {
      this.#done = true;
      return [];
    }
    const out = this.#array.slice(this.items, this.items + max);
    this.items += out.length;
    return out;
  }

  readable(): Promise<boolean> {
    return Promise.resolve(!this.done);
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  stop(): number {
    this.#done = true;
    return 0;
  }
}

class AsyncSourceInlet<T> implements SourceInlet<T> {
  readonly #iterator: AsyncIterator<T>;
  readonly #channel: Channel<T>;
  /** Releases the source at once, even while a `next()` waits: a Node Readable's `destroy()`. */
  readonly #release: (() => void) | undefined;
  #stopped = false;
  items = 0;

  constructor(iterator: AsyncIterator<T>, capacity: number, release?: () => void) {
    this.#iterator = iterator;
    this.#channel = new Channel<T>(capacity);
    this.#release = release;
  }

  get done(): boolean {
    return this.#channel.done;
  }

  get size(): number {
    return this.#channel.size;
  }

  tryPull(): T | typeof EMPTY {
    return this.#channel.tryPull();
  }

  tryPullMany(max: number): T[] {
    return this.#channel.tryPullMany(max);
  }

  /**
   * Resolves once items wait (true) or the source is done (false). When the channel was empty, it
   * resolves a macrotask after the first item arrives: a source that answers at once (an async
   * generator over memory or a page already fetched, a stream's buffer) fills the channel on
   * microtasks meanwhile, and the stage wakes once for a channel's worth of items instead of once
   * per item, which cost four times what the source did. A source that waits on IO between items
   * loses a few microseconds on each wake.
   */
  readable(): Promise<boolean> {
    const channel = this.#channel;
    if (channel.size > 0) return Promise.resolve(true);
    return channel.readable().then((more) => (more ? nextMacrotask(true) : false));
  }

  async start(): Promise<void> {
    const channel = this.#channel;
    for (;;) {
      if (channel.size >= channel.capacity) await channel.writable();
      let result: IteratorResult<T>;
      try {
        result = await this.#iterator.next();
      } catch (error) {
        if (this.#stopped) return;
        throw sourceError(error);
      }
      if (this.#stopped) return;
      if (result.done) break;
      this.items++;
      if (!channel.tryPush(result.value)) await channel.push(result.value);
    }
    channel.close();
  }

  stop(error: unknown): number {
    if (this.#stopped) return 0;
    this.#stopped = true;
    const dropped = this.#channel.fail(error);
    // Not awaited: an iterator stuck in next() would hold the teardown hostage. Async generators
    // queue the return behind the pending next; a stream's own iterator does too, so streams are
    // destroyed (Node) or cancelled through their reader (web) directly: an idle socket is closed.
    try {
      this.#release?.();
      this.#iterator.return?.()?.catch(() => undefined);
    } catch {
      // The run is already stopping; a second error from the source's cleanup adds nothing.
    }
    return dropped;
  }
}
