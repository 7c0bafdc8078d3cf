/**
 * The one-step convenience: map an iterable through an async function, `concurrency` at a time,
 * and resolve with the results in input order. It follows p-map's semantics wherever the two
 * overlap (argument order, `(element, index)`, `concurrency` defaulting to Infinity,
 * `stopOnError` with AggregateError, `signal` rejecting with its reason, a skip marker), so a
 * p-map user can switch with one import line. Where sluice is stricter, bad options reject with
 * coded errors.
 */
import { InvalidSourceError } from './core/errors.js';
import { isThenable } from './core/thenable.js';
import {
  checkBoolean,
  checkFunction,
  checkInteger,
  checkOptions,
  checkSignal,
  describe,
} from './core/validate.js';

/** Return it from the mapper to leave the element out of the result. */
export const mapSkip: unique symbol = Symbol('sluice.mapSkip');

export interface MapOptions {
  /**
   * How many mapper calls run at once: an integer >= 1, or Infinity.
   * @default Infinity
   */
  concurrency?: number;
  /**
   * Reject on the first error (true), or try every element and reject with an AggregateError of
   * all errors at the end (false).
   * @default true
   */
  stopOnError?: boolean;
  /** Aborting rejects the returned promise with the signal's reason; no new mapper call starts. */
  signal?: AbortSignal;
}

const optionKeys = ['concurrency', 'stopOnError', 'signal'] as const;

type Input<T> = AsyncIterable<T | PromiseLike<T>> | Iterable<T | PromiseLike<T>>;

/**
 * @example
 * const pages = await map(urls, (url) => fetch(url).then((r) => r.text()), { concurrency: 16 });
 */
export async function map<Element, NewElement>(
  input: Input<Element>,
  mapper: (element: Element, index: number) => NewElement | PromiseLike<NewElement>,
  options: MapOptions = {},
): Promise<Array<Exclude<NewElement, typeof mapSkip>>> {
  checkOptions('map options', options, optionKeys);
  const concurrency = checkInteger('concurrency', options.concurrency ?? Number.POSITIVE_INFINITY, {
    min: 1,
    allowInfinity: true,
  });
  const stopOnError = checkBoolean('stopOnError', options.stopOnError ?? true);
  const signal = checkSignal('signal', options.signal);
  checkFunction('mapper', mapper);
  const isAsync = typeof (input as AsyncIterable<unknown>)?.[Symbol.asyncIterator] === 'function';
  if (!isAsync && typeof (input as Iterable<unknown>)?.[Symbol.iterator] !== 'function') {
    throw new InvalidSourceError(
      `Expected \`input\` to be an Iterable or an AsyncIterable. Received ${describe(input)}`,
    );
  }
  signal?.throwIfAborted();

  return new Promise((resolve, reject) => {
    const results: unknown[] = [];
    const errors: unknown[] = [];
    let skipped = false;
    let stopped = false;
    let nextIndex = 0;
    let exhausted = false;

    const iterator = isAsync
      ? (input as AsyncIterable<Element | PromiseLike<Element>>)[Symbol.asyncIterator]()
      : (input as Iterable<Element | PromiseLike<Element>>)[Symbol.iterator]();
    // Async iterators must not be asked for two values at once: calls to next() are chained.
    let pulling: Promise<unknown> = Promise.resolve();

    const stop = (error: unknown): void => {
      if (stopped) return;
      stopped = true;
      signal?.removeEventListener('abort', onAbort);
      reject(error);
      try {
        const closing = iterator.return?.();
        if (closing !== undefined && typeof (closing as Promise<unknown>).catch === 'function') {
          (closing as Promise<unknown>).catch(() => undefined);
        }
      } catch {
        // The caller already has the first error; a failure to close adds nothing.
      }
    };
    const onAbort = (): void => stop(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });

    /** The next element, or `done` when the input is exhausted. Throws what the iterator throws. */
    const pull = ():
      | IteratorResult<Element | PromiseLike<Element>>
      | Promise<IteratorResult<Element | PromiseLike<Element>>> => {
      if (!isAsync) return (iterator as Iterator<Element | PromiseLike<Element>>).next();
      const next = pulling.then(() => (iterator as AsyncIterator<Element | PromiseLike<Element>>).next());
      pulling = next.catch(() => undefined);
      return next;
    };

    const settle = async (element: Element | PromiseLike<Element>, index: number): Promise<void> => {
      try {
        let value = element;
        if (isThenable(value)) value = await value;
        let result: unknown = mapper(value as Element, index);
        if (isThenable(result)) result = await result;
        if (stopped) return;
        if (result === mapSkip) skipped = true;
        results[index] = result;
      } catch (error) {
        if (stopOnError) stop(error);
        else errors.push(error);
      }
    };

    const lane = async (): Promise<void> => {
      while (!stopped && !exhausted) {
        let next = pull();
        if (isAsync) next = await next;
        const { value, done } = next as IteratorResult<Element | PromiseLike<Element>>;
        if (done || stopped) {
          exhausted = true;
          return;
        }
        // settle() inlined: one async call less per element on the hot path.
        const index = nextIndex++;
        try {
          let element = value;
          if (isThenable(element)) element = await element;
          let result: unknown = mapper(element as Element, index);
          if (isThenable(result)) result = await result;
          if (stopped) return;
          if (result === mapSkip) skipped = true;
          results[index] = result;
        } catch (error) {
          if (stopOnError) stop(error);
          else errors.push(error);
        }
      }
    };

    const finish = (): void => {
      if (stopped) return;
      signal?.removeEventListener('abort', onAbort);
      stopped = true;
      if (errors.length > 0) {
        reject(new AggregateError(errors));
        return;
      }
      resolve(
        (skipped ? results.filter((r) => r !== mapSkip) : results) as Array<
          Exclude<NewElement, typeof mapSkip>
        >,
      );
    };

    let running: Promise<unknown>;
    if (concurrency === Number.POSITIVE_INFINITY) {
      // Unbounded, as asked: start a call for every element as soon as it is read.
      running = (async () => {
        const calls: Promise<void>[] = [];
        while (!stopped) {
          let next = pull();
          if (isAsync) next = await next;
          const { value, done } = next as IteratorResult<Element | PromiseLike<Element>>;
          if (done) break;
          calls.push(settle(value, nextIndex++));
        }
        await Promise.all(calls);
      })();
    } else {
      const lanes: Promise<void>[] = [];
      for (let i = 0; i < concurrency && !exhausted && !stopped; i++) lanes.push(lane());
      running = Promise.all(lanes);
    }
    running.then(finish, stop);
  });
}
