/**
 * A bounded FIFO channel between one part of a pipeline and the next. Producers wait when it is
 * full, consumers when it is empty; `close()` ends it after the buffered items drain, and `fail()`
 * ends it at once for both sides. It is what keeps memory flat: nothing runs ahead of a slow
 * consumer by more than `capacity` items.
 *
 * Besides the promise API (`push`, `pull`, async iteration) it has a synchronous fast path
 * (`tryPush`, `tryPull`) and two wake-ups (`readable`, `writable`) so a hot loop pays for a promise
 * only when it really has to wait.
 */
import { ChannelClosedError } from './errors.js';
import { checkInteger, invalidType } from './validate.js';

/** Returned by `tryPull` when nothing is buffered. */
export const EMPTY: unique symbol = Symbol('sluice.channel.empty');

interface PushWaiter<T> {
  value: T;
  resolve: () => void;
  reject: (error: unknown) => void;
}

interface Waiter<R> {
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

export interface ChannelOptions {
  /**
   * `writable()` resolves once the buffer has drained to this many items, so a producer woken
   * from a full channel can refill it in one go instead of one item per wake-up.
   * @default Math.floor(capacity / 2)
   */
  lowWaterMark?: number;
}

export class Channel<T> implements AsyncIterable<T> {
  static readonly EMPTY: typeof EMPTY = EMPTY;

  readonly #capacity: number;
  readonly #lowWater: number;
  /** Ring buffer: `#count` items starting at `#head`; slots outside that range hold undefined. */
  readonly #ring: (T | undefined)[];
  #head = 0;
  #count = 0;
  #closed = false;
  #error: unknown = undefined;
  #failed = false;
  #pushWaiters: PushWaiter<T>[] = [];
  #pullWaiters: Waiter<IteratorResult<T>>[] = [];
  #readableWaiters: Waiter<boolean>[] = [];
  #writableWaiters: Waiter<void>[] = [];

  /**
   * @param capacity how many items the channel buffers before producers wait.
   * @example
   * const channel = new Channel<number>(16);
   */
  constructor(capacity: number, options: ChannelOptions = {}) {
    this.#capacity = checkInteger('capacity', capacity, { min: 1 });
    this.#lowWater =
      options.lowWaterMark === undefined
        ? Math.floor(capacity / 2)
        : Math.min(checkInteger('lowWaterMark', options.lowWaterMark, { min: 0 }), capacity - 1);
    this.#ring = new Array(capacity);
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Items buffered now. */
  get size(): number {
    return this.#count;
  }

  /** True once `close()` or `fail()` was called: no more pushes are accepted. */
  get closed(): boolean {
    return this.#closed;
  }

  /** True once the channel is closed and drained, or failed: no item will ever come out again. */
  get done(): boolean {
    return this.#failed || (this.#closed && this.#count === 0);
  }

  /** Buffers `value` when there is room, or hands it to a waiting consumer. False when full. */
  tryPush(value: T): boolean {
    if (this.#closed) throw this.#closedError();
    if (this.#pullWaiters.length > 0) {
      (this.#pullWaiters.shift() as Waiter<IteratorResult<T>>).resolve({ value, done: false });
      return true;
    }
    if (this.#count >= this.#capacity) return false;
    let tail = this.#head + this.#count;
    if (tail >= this.#capacity) tail -= this.#capacity;
    this.#ring[tail] = value;
    this.#count++;
    if (this.#readableWaiters.length > 0) this.#settle(this.#readableWaiters, true);
    return true;
  }

  /**
   * Buffers `values[from]` up to `values[to - 1]` while there is room, as `tryPush` would one by
   * one; returns the index of the first value it did not take (`to` when it took all).
   */
  tryPushMany(values: readonly T[], from = 0, to = values?.length): number {
    if (!Array.isArray(values)) throw invalidType('values', 'an array', values);
    checkInteger('to', to, { max: values.length });
    checkInteger('from', from, { max: to });
    if (this.#closed) throw this.#closedError();
    let i = from;
    while (i < to && this.#pullWaiters.length > 0) {
      (this.#pullWaiters.shift() as Waiter<IteratorResult<T>>).resolve({
        value: values[i] as T,
        done: false,
      });
      i++;
    }
    const capacity = this.#capacity;
    const ring = this.#ring;
    let tail = this.#head + this.#count;
    if (tail >= capacity) tail -= capacity;
    const end = Math.min(to, i + capacity - this.#count);
    const taken = end - i;
    for (; i < end; i++) {
      ring[tail] = values[i];
      if (++tail === capacity) tail = 0;
    }
    this.#count += taken;
    if (taken > 0 && this.#readableWaiters.length > 0) this.#settle(this.#readableWaiters, true);
    return i;
  }

  /** Pushes `value`, waiting for room; rejects if the channel is closed or fails first. */
  push(value: T): Promise<void> {
    try {
      if (this.tryPush(value)) return Promise.resolve();
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => this.#pushWaiters.push({ value, resolve, reject }));
  }

  /** Takes the oldest item, or returns `EMPTY` when none is buffered. Throws if the channel failed. */
  tryPull(): T | typeof EMPTY {
    if (this.#failed) throw this.#error;
    if (this.#count === 0) return EMPTY;
    const value = this.#ring[this.#head] as T;
    this.#ring[this.#head] = undefined;
    if (++this.#head === this.#capacity) this.#head = 0;
    this.#count--;
    if (this.#pushWaiters.length > 0 || this.#writableWaiters.length > 0 || this.#closed) this.#afterPull();
    return value;
  }

  /** Takes up to `max` of the oldest items at once, as `tryPull` would one by one; [] when none is buffered. */
  tryPullMany(max: number): T[] {
    checkInteger('max', max, { allowInfinity: true });
    if (this.#failed) throw this.#error;
    const n = Math.min(max, this.#count);
    const out = new Array<T>(n);
    const capacity = this.#capacity;
    const ring = this.#ring;
    let head = this.#head;
    for (let i = 0; i < n; i++) {
      out[i] = ring[head] as T;
      ring[head] = undefined;
      if (++head === capacity) head = 0;
    }
    this.#head = head;
    this.#count -= n;
    if (n > 0 && (this.#pushWaiters.length > 0 || this.#writableWaiters.length > 0 || this.#closed)) {
      // Each freed slot goes to a blocked producer first, as after a single pull.
      let moved = 0;
      while (moved < n - 1 && this.#pushWaiters.length > 0) {
        this.#afterPull();
        moved++;
      }
      this.#afterPull();
    }
    return out;
  }

  /** Takes the oldest item, waiting for one; `{ done: true }` once closed and drained. */
  pull(): Promise<IteratorResult<T>> {
    try {
      const value = this.tryPull();
      if (value !== EMPTY) return Promise.resolve({ value, done: false });
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.#pullWaiters.push({ resolve, reject }));
  }

  /** Resolves true once an item is buffered, false once the channel is closed and drained. */
  readable(): Promise<boolean> {
    if (this.#failed) return Promise.reject(this.#error);
    if (this.#count > 0) return Promise.resolve(true);
    if (this.#closed) return Promise.resolve(false);
    return new Promise((resolve, reject) => this.#readableWaiters.push({ resolve, reject }));
  }

  /** Resolves once the buffer has drained to the low-water mark; rejects if the channel ends first. */
  writable(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closedError());
    if (this.#count <= this.#lowWater && this.#pushWaiters.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#writableWaiters.push({ resolve, reject }));
  }

  /** No more pushes; consumers drain what is buffered, then see the end. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // Made only for someone to receive it: capturing a stack costs more than the rest of a close.
    if (this.#pushWaiters.length > 0 || this.#writableWaiters.length > 0) {
      const error = this.#closedError();
      for (const waiter of this.#pushWaiters.splice(0)) waiter.reject(error);
      this.#settle(this.#writableWaiters, undefined, error);
    }
    if (this.#count === 0) {
      for (const waiter of this.#pullWaiters.splice(0)) waiter.resolve({ value: undefined, done: true });
      this.#settle(this.#readableWaiters, false);
    }
  }

  /**
   * Ends the channel at once: every waiter on either side rejects with `error`, and the buffered
   * items are dropped. Returns how many were dropped, so the caller can account for them. A value
   * whose `push` was still waiting for room never entered the channel: its push rejects and it
   * stays its producer's to account for (every producer counts an output once its push resolves),
   * so counting it here too made the next stage take in one more than the last put out.
   */
  fail(error: unknown): number {
    if (this.#failed) return 0;
    const dropped = this.#count;
    this.#failed = true;
    this.#closed = true;
    this.#error = error;
    this.#ring.fill(undefined);
    this.#count = 0;
    for (const waiter of this.#pushWaiters.splice(0)) waiter.reject(error);
    for (const waiter of this.#pullWaiters.splice(0)) waiter.reject(error);
    this.#settle(this.#readableWaiters, false, error);
    this.#settle(this.#writableWaiters, undefined, error);
    return dropped;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const result = await this.pull();
      if (result.done) return;
      yield result.value;
    }
  }

  #afterPull(): void {
    // A producer blocked in push() gets the freed slot straight away, in FIFO order.
    const pushWaiter = this.#pushWaiters.shift();
    if (pushWaiter !== undefined) {
      let tail = this.#head + this.#count;
      if (tail >= this.#capacity) tail -= this.#capacity;
      this.#ring[tail] = pushWaiter.value;
      this.#count++;
      pushWaiter.resolve();
      return;
    }
    if (this.#writableWaiters.length > 0 && this.#count <= this.#lowWater) {
      this.#settle(this.#writableWaiters, undefined);
    }
    if (this.#closed && this.#count === 0) {
      for (const waiter of this.#pullWaiters.splice(0)) waiter.resolve({ value: undefined, done: true });
      this.#settle(this.#readableWaiters, false);
    }
  }

  #settle<R>(waiters: Waiter<R>[], value: R, error?: unknown): void {
    const all = waiters.splice(0);
    for (const waiter of all) {
      if (error === undefined) waiter.resolve(value);
      else waiter.reject(error);
    }
  }

  #closedError(): unknown {
    return this.#failed ? this.#error : new ChannelClosedError('The channel is closed');
  }
}
