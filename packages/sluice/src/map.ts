/**
 * The one-step convenience: map an iterable through an async function, `concurrency` at a time,
 * and resolve with the results in input order.
 *
 * It follows p-map 7 wherever the two overlap, so a p-map user can switch with one import line:
 * the argument order, `mapper(element, index)`, promised elements awaited, `concurrency`
 * defaulting to Infinity, `stopOnError` and its AggregateError in input order, `signal` rejecting
 * with `signal.reason` and closing the source, and a skip marker. Where sluice is stricter, a bad
 * argument or option rejects with a coded error instead of a plain TypeError, or instead of being
 * ignored.
 */
import {
  InvalidArgTypeError,
  InvalidConcurrencyError,
  InvalidSourceError,
  isSluiceError,
} from './core/errors.js';
import { isThenable } from './core/thenable.js';
import { checkBoolean, checkInteger, checkOptions, checkSignal, describe } from './core/validate.js';

/**
 * Return it from the mapper to leave the element out of the result, like p-map's `pMapSkip`.
 *
 * @example
 * const evens = await map([1, 2, 3, 4], (n) => (n % 2 === 0 ? n : mapSkip)); // [2, 4]
 */
export const mapSkip: unique symbol = Symbol('sluice.mapSkip');

/** The options of {@link map}: p-map's, with the same names, defaults and meaning. */
export interface MapOptions {
  /**
   * How many mapper calls may be pending at once: an integer >= 1, or Infinity. With Infinity and
   * a synchronous iterable, every mapper call starts at once, as with p-map.
   * @default Infinity
   * @example
   * await map(urls, download, { concurrency: 8 });
   */
  concurrency?: number;
  /**
   * `true`: the first error rejects the result, and no mapper call starts after it (calls already
   * running are not cancelled; use `signal` for that). `false`: every element is tried, and if any
   * failed the result rejects with an AggregateError of all the errors, in input order.
   * @default true
   * @example
   * await map(files, upload, { stopOnError: false }); // AggregateError if any upload failed
   */
  stopOnError?: boolean;
  /**
   * Aborting rejects the result with `signal.reason` (a DOMException named AbortError unless
   * `abort()` was given one), closes the source, and starts no new mapper call. Mapper calls
   * already running are not cancelled: pass the signal on to them if they should stop too.
   * @default undefined
   * @example
   * await map(urls, (url) => fetch(url, { signal }), { concurrency: 8, signal });
   */
  signal?: AbortSignal;
}

const optionKeys = ['concurrency', 'stopOnError', 'signal'] as const;

type Source<Element> =
  | Iterator<Element | PromiseLike<Element>>
  | AsyncIterator<Element | PromiseLike<Element>>;
type Mapper<Element, NewElement> = (
  element: Element,
  index: number,
) => NewElement | Promise<NewElement> | typeof mapSkip;

/**
 * Maps `input` through `mapper`, at most `concurrency` calls at a time, and resolves with the
 * results in input order, leaving out the elements whose mapper returned {@link mapSkip}.
 *
 * Elements that are promises are awaited before the mapper sees them. An async iterable is read
 * one `next()` at a time and only as a mapper slot frees up, so it is never read ahead of
 * `concurrency`. An iterator that throws rejects the result whatever `stopOnError` says, as
 * p-map does: it would likely throw again on the next call.
 *
 * Rejects with InvalidSourceError when `input` is not iterable, InvalidArgTypeError when `mapper`
 * is not a function or an option has the wrong type, InvalidConcurrencyError (a TypeError, as
 * p-map throws, coded SLUICE_ERR_INVALID_ARG_VALUE) when `concurrency` is
 * out of range, and UnknownOptionError for an option it does not know.
 *
 * @example
 * const pages = await map(urls, async (url) => (await fetch(url)).text(), { concurrency: 16 });
 */
export async function map<Element, NewElement>(
  input: AsyncIterable<Element | Promise<Element>> | Iterable<Element | Promise<Element>>,
  mapper: Mapper<Element, NewElement>,
  options?: MapOptions,
): Promise<Array<Exclude<NewElement, typeof mapSkip>>> {
  // The async iterator wins when there are both, as with `for await` and p-map.
  const isAsync = typeof (input as Partial<AsyncIterable<unknown>>)?.[Symbol.asyncIterator] === 'function';
  if (!isAsync && typeof (input as Partial<Iterable<unknown>>)?.[Symbol.iterator] !== 'function') {
    throw new InvalidSourceError(
      `The "input" argument must be an Iterable or an AsyncIterable. Received ${describe(input)}`,
    );
  }
  if (typeof mapper !== 'function') {
    throw new InvalidArgTypeError(`The "mapper" argument must be a function. Received ${describe(mapper)}`);
  }
  checkOptions('map options', options, optionKeys);
  const concurrency =
    options?.concurrency === undefined ? Number.POSITIVE_INFINITY : checkConcurrency(options.concurrency);
  const stopOnError =
    options?.stopOnError === undefined ? true : checkBoolean('stopOnError', options.stopOnError);
  const signal = checkSignal('signal', options?.signal);

  return new Promise((resolve, reject) => {
    const run = new MapRun<Element, NewElement>(
      mapper,
      concurrency,
      stopOnError,
      signal,
      resolve as (results: unknown[]) => void,
      reject,
    );
    if (isAsync) run.startAsync((input as AsyncIterable<Element | Promise<Element>>)[Symbol.asyncIterator]());
    else run.startSync((input as Iterable<Element | Promise<Element>>)[Symbol.iterator]());
  });
}

/** A whole number from 1, or Infinity; out of range is a TypeError, the class p-map throws there. */
function checkConcurrency(value: unknown): number {
  try {
    return checkInteger('concurrency', value, { min: 1, allowInfinity: true });
  } catch (error) {
    if (!isSluiceError(error, 'SLUICE_ERR_INVALID_ARG_VALUE')) throw error;
    throw new InvalidConcurrencyError(error.message);
  }
}

/**
 * The state of one map() call. A synchronous source is drained by up to `concurrency` lanes, each
 * taking the next element straight from the shared iterator and awaiting its mapper in a loop: no
 * queue, and no allocation per element beyond the awaits themselves. An asynchronous source has
 * one reader, which pulls only while a mapper slot is free and hands each element to a call of
 * its own.
 */
class MapRun<Element, NewElement> {
  readonly #mapper: Mapper<Element, NewElement>;
  readonly #concurrency: number;
  readonly #stopOnError: boolean;
  readonly #signal: AbortSignal | undefined;
  readonly #resolve: (results: unknown[]) => void;
  readonly #reject: (reason: unknown) => void;
  /** Set by start; `undefined` only before it. */
  #source: Source<Element> | undefined;
  /** By input index. Complete below #nextIndex once every call has settled without error. */
  readonly #results: unknown[] = [];
  /** By input index and sparse, so the AggregateError lists them in input order as p-map does. */
  #errors: unknown[] | undefined;
  #skipped = false;
  #nextIndex = 0;
  /** True once the source said done. It is not asked again after that, as `for await` would not. */
  #exhausted = false;
  /** True once the promise settled, or is about to: no mapper call and no pull starts after it. */
  #stopped = false;
  /** Lanes (sync source) or mapper calls (async source) still running. */
  #active = 0;
  /** True while the starting loop or the async reader can still add to #active. */
  #reading = false;
  /** Resolves the async reader's wait for a free mapper slot, while it waits. */
  #wakeReader: (() => void) | undefined;
  /** Made once, so the reader's wait allocates no closure of its own. */
  readonly #parkReader = (resolve: () => void): void => {
    this.#wakeReader = resolve;
  };
  readonly #onAbort = (): void => this.#fail(this.#signal?.reason);

  constructor(
    mapper: Mapper<Element, NewElement>,
    concurrency: number,
    stopOnError: boolean,
    signal: AbortSignal | undefined,
    resolve: (results: unknown[]) => void,
    reject: (reason: unknown) => void,
  ) {
    this.#mapper = mapper;
    this.#concurrency = concurrency;
    this.#stopOnError = stopOnError;
    this.#signal = signal;
    this.#resolve = resolve;
    this.#reject = reject;
  }

  startSync(iterator: Iterator<Element | PromiseLike<Element>>): void {
    if (!this.#open(iterator)) return;
    this.#reading = true;
    // Each lane runs synchronously up to its first await, so by the time the loop goes on the
    // iterator has moved; with a synchronous mapper the first lane may drain it all by itself.
    while (!this.#exhausted && !this.#stopped && this.#active < this.#concurrency) {
      this.#active++;
      void this.#lane(iterator);
    }
    this.#reading = false;
    this.#settleIfDone();
  }

  startAsync(iterator: AsyncIterator<Element | PromiseLike<Element>>): void {
    if (!this.#open(iterator)) return;
    this.#reading = true;
    void this.#read(iterator);
  }

  /** Takes the source and listens for an abort; false when the signal has already fired. */
  #open(source: Source<Element>): boolean {
    this.#source = source;
    const signal = this.#signal;
    if (signal === undefined) return true;
    // After the iterator is taken, so an aborted run closes the source as p-map does.
    if (signal.aborted) {
      this.#fail(signal.reason);
      return false;
    }
    signal.addEventListener('abort', this.#onAbort, { once: true });
    return true;
  }

  /** One lane over a synchronous source. Never rejects: every error goes to #fail or #errors. */
  async #lane(iterator: Iterator<Element | PromiseLike<Element>>): Promise<void> {
    // Called unbound, as p-map calls it, not as a method of this run.
    const mapper = this.#mapper;
    const results = this.#results;
    try {
      while (!this.#stopped && !this.#exhausted) {
        const step = iterator.next();
        if (step.done) {
          this.#exhausted = true;
          break;
        }
        const index = this.#nextIndex++;
        // The same step as #call, inlined: an async call less per element on the hot path.
        try {
          let element: unknown = step.value;
          if (isThenable(element)) {
            element = await element;
            if (this.#stopped) break;
          }
          let result: unknown = mapper(element as Element, index);
          // A synchronous result costs no microtask.
          if (isThenable(result)) result = await result;
          if (result === mapSkip) this.#skipped = true;
          results[index] = result;
        } catch (error) {
          this.#failAt(index, error);
        }
      }
    } catch (error) {
      // The iterator threw. It would likely throw again, so this ends the run whatever
      // stopOnError says, as in p-map.
      this.#fail(error);
    }
    this.#active--;
    this.#settleIfDone();
  }

  /** The reader of an asynchronous source: one next() at a time, and only into a free slot. */
  async #read(iterator: AsyncIterator<Element | PromiseLike<Element>>): Promise<void> {
    try {
      while (!this.#stopped) {
        if (this.#active >= this.#concurrency) {
          await new Promise<void>(this.#parkReader);
          continue;
        }
        const step = await iterator.next();
        if (this.#stopped) break;
        if (step.done) {
          this.#exhausted = true;
          break;
        }
        this.#active++;
        void this.#call(step.value, this.#nextIndex++);
      }
    } catch (error) {
      this.#fail(error);
    }
    this.#reading = false;
    this.#settleIfDone();
  }

  /** One element of an asynchronous source. Never rejects. */
  async #call(element: Element | PromiseLike<Element>, index: number): Promise<void> {
    const mapper = this.#mapper;
    try {
      let value: unknown = element;
      if (isThenable(value)) value = await value;
      if (!this.#stopped) {
        let result: unknown = mapper(value as Element, index);
        if (isThenable(result)) result = await result;
        if (result === mapSkip) this.#skipped = true;
        this.#results[index] = result;
      }
    } catch (error) {
      this.#failAt(index, error);
    }
    this.#active--;
    const wake = this.#wakeReader;
    if (wake !== undefined) {
      this.#wakeReader = undefined;
      wake();
    }
    this.#settleIfDone();
  }

  /** An element or its mapper failed. */
  #failAt(index: number, error: unknown): void {
    if (this.#stopOnError) this.#fail(error);
    else if (!this.#stopped) (this.#errors ??= [])[index] = error;
  }

  /** Rejects now and closes the source; calls still running finish unobserved. */
  #fail(reason: unknown): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#reject(reason);
    if (!this.#exhausted) closeQuietly(this.#source);
    // A reader waiting for a slot would otherwise wait on a run that has ended.
    const wake = this.#wakeReader;
    this.#wakeReader = undefined;
    wake?.();
  }

  #settleIfDone(): void {
    if (this.#active !== 0 || this.#reading || this.#stopped) return;
    this.#stopped = true;
    this.#signal?.removeEventListener('abort', this.#onAbort);
    const errors = this.#errors;
    if (errors !== undefined) {
      // filter() skips the holes of the sparse array and keeps the input order.
      this.#reject(new AggregateError(errors.filter(() => true)));
      return;
    }
    this.#resolve(this.#skipped ? this.#results.filter((result) => result !== mapSkip) : this.#results);
  }
}

/**
 * Closes the source as `for await` would on a break, so a generator runs its finally blocks and a
 * stream is destroyed. Not awaited: a source blocked in next() must not hold up the rejection, and
 * a failure to close adds nothing to the error the caller already has.
 */
function closeQuietly(source: Source<unknown> | undefined): void {
  try {
    const closing: unknown = source?.return?.();
    if (isThenable(closing)) closing.then(undefined, () => undefined);
  } catch {
    // See above.
  }
}
