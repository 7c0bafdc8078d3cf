/**
 * map(): the behaviours of p-map 7's own suite that apply, checked against sluice, plus the coded
 * errors sluice adds. Order, counts and in-flight peaks are asserted, never durations; where a
 * test needs one call to finish before another, it holds them with deferreds rather than timers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import pMap, { pMapSkip } from 'p-map';
import { flushMicrotasks } from '../src/core/fake-clock.js';
import { map, mapSkip } from '../src/map.js';

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** p-map's shared input: [value, ms], the first element a promise, finishing in reverse order. */
const sharedInput: Array<[number, number] | Promise<[number, number]>> = [
  Promise.resolve([10, 30]),
  [20, 20],
  [30, 10],
];

const delayedValue = async ([value, ms]: [number, number]): Promise<number> => {
  await delay(ms);
  return value;
};

/** Counts the mapper calls in flight and keeps the highest count seen. */
function inFlightMeter(hold: () => Promise<unknown> = () => delay(1)) {
  const meter = {
    running: 0,
    peak: 0,
    calls: 0,
    mapper: async <T>(element: T): Promise<T> => {
      meter.calls++;
      meter.running++;
      meter.peak = Math.max(meter.peak, meter.running);
      await hold();
      meter.running--;
      return element;
    },
  };
  return meter;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

async function* fromAsync<T>(values: Iterable<T>): AsyncGenerator<T> {
  for (const value of values) yield value;
}

describe('map() - results', () => {
  test('results come back in input order whatever the finishing order', async () => {
    assert.deepEqual(await map(sharedInput, delayedValue), [10, 20, 30]);
  });

  test('results keep input order with concurrency: 1', async () => {
    assert.deepEqual(await map(sharedInput, delayedValue, { concurrency: 1 }), [10, 20, 30]);
  });

  for (const [name, input] of [
    ['out of order', [20, 10, 5]],
    ['problematic', [10, 20, 1, 4, 2, 5]],
  ] as const) {
    test(`results keep input order with concurrency: 2 and a ${name} time sequence`, async () => {
      const result = await map(input, (ms) => delay(ms, ms), { concurrency: 2 });
      assert.deepEqual(result, input);
    });
  }

  test('an empty iterable gives an empty array without calling the mapper', async () => {
    let calls = 0;
    assert.deepEqual(
      await map([], () => {
        calls++;
      }),
      [],
    );
    assert.equal(calls, 0);
  });

  test('a synchronous mapper works too', async () => {
    assert.deepEqual(await map([1, 2, 3], (x) => x * 2, { concurrency: 2 }), [2, 4, 6]);
  });

  test('the mapper receives (element, index), with promised elements awaited', async () => {
    const seen: Array<[number, number]> = [];
    await map(
      [Promise.resolve(5), 6, delay(1, 7)],
      (element, index) => {
        seen.push([element, index]);
      },
      { concurrency: 1 },
    );
    assert.deepEqual(seen, [
      [5, 0],
      [6, 1],
      [7, 2],
    ]);
  });

  test('gives the same results as p-map on the same input', async () => {
    const input = range(50);
    const mapper = async (x: number, i: number): Promise<number | null> => {
      await delay((x * 7) % 4);
      return x % 5 === 0 ? null : x * i;
    };
    const ours = await map(input, async (x, i) => (await mapper(x, i)) ?? mapSkip, { concurrency: 4 });
    const theirs = await pMap(input, async (x, i) => (await mapper(x, i)) ?? pMapSkip, { concurrency: 4 });
    assert.deepEqual(ours, theirs);
  });
});

describe('map() - mapSkip', () => {
  test('mapSkip leaves an element out', async () => {
    assert.deepEqual(await map([1, mapSkip, 2], async (value) => value), [1, 2]);
  });

  test('several mapSkips leave out exactly those elements', async () => {
    assert.deepEqual(await map([1, 2, 3, 4, 5, 6], (x) => (x % 3 === 0 ? x : mapSkip)), [3, 6]);
  });

  test('all elements skipped gives an empty array', async () => {
    assert.deepEqual(await map([1, 2, 3], async () => mapSkip), []);
  });

  test('indexes still count the skipped elements', async () => {
    const indexes: number[] = [];
    await map(
      ['a', 'b', 'c'],
      (_, index) => {
        indexes.push(index);
        return index === 1 ? mapSkip : index;
      },
      { concurrency: 1 },
    );
    assert.deepEqual(indexes, [0, 1, 2]);
  });
});

describe('map() - concurrency', () => {
  test('never runs more than `concurrency` mappers at once, and reaches it', async () => {
    const meter = inFlightMeter();
    await map(range(40), meter.mapper, { concurrency: 4 });
    assert.equal(meter.peak, 4);
    assert.equal(meter.calls, 40);
  });

  test('concurrency: 1 runs one mapper at a time, in input order', async () => {
    const order: number[] = [];
    const meter = inFlightMeter();
    await map(
      range(10),
      (x) => {
        order.push(x);
        return meter.mapper(x);
      },
      { concurrency: 1 },
    );
    assert.equal(meter.peak, 1);
    assert.deepEqual(order, range(10));
  });

  test('concurrency defaults to Infinity: every mapper of a synchronous iterable starts at once', async () => {
    const gate = deferred();
    const meter = inFlightMeter(() => gate.promise);
    const result = map(range(100), meter.mapper);
    await flushMicrotasks();
    assert.equal(meter.running, 100);
    gate.resolve();
    assert.deepEqual(await result, range(100));
  });

  test('an explicit concurrency of Infinity is accepted', async () => {
    assert.deepEqual(await map([1, 2], (x) => x, { concurrency: Number.POSITIVE_INFINITY }), [1, 2]);
  });

  test('a slot freed by one mapper is taken by the next element at once', async () => {
    const gates = range(4).map(() => deferred());
    const started: number[] = [];
    const result = map(
      range(4),
      async (x) => {
        started.push(x);
        await gates[x]?.promise;
        return x;
      },
      { concurrency: 2 },
    );
    await flushMicrotasks();
    assert.deepEqual(started, [0, 1]);
    gates[1]?.resolve();
    await flushMicrotasks();
    assert.deepEqual(started, [0, 1, 2]);
    for (const gate of gates) gate.resolve();
    assert.deepEqual(await result, [0, 1, 2, 3]);
  });

  test('the source is not asked again once it said done', async () => {
    let afterDone = 0;
    let position = 0;
    const source: Iterable<number> = {
      [Symbol.iterator]: () => ({
        next: () => {
          if (position >= 2) {
            if (position++ > 2) afterDone++;
            return { done: true, value: undefined };
          }
          return { done: false, value: position++ };
        },
      }),
    };
    assert.deepEqual(await map(source, async (x) => x, { concurrency: 4 }), [0, 1]);
    assert.equal(afterDone, 0);
  });
});

/** p-map's error inputs: [value or thunk, ms]; a thunk fails, by rejecting or by throwing. */
type Entry = [number | (() => number | Promise<number>), number];
const rejects = (message: string) => () => Promise.reject(new Error(message));
const throws = (message: string) => (): number => {
  throw new Error(message);
};
const errorInput1: Entry[] = [
  [20, 20],
  [30, 10],
  [rejects('foo'), 1],
  [throws('bar'), 1],
];
const errorInput2: Entry[] = [
  [20, 20],
  [rejects('bar'), 1],
  [30, 10],
  [throws('foo'), 1],
];
const entryMapper = async ([value, ms]: Entry): Promise<number> => {
  await delay(ms);
  return typeof value === 'function' ? value() : value;
};

describe('map() - stopOnError', () => {
  test('stopOnError: true (the default) rejects with the first error', async () => {
    await assert.rejects(map(errorInput1, entryMapper, { concurrency: 1 }), { message: 'foo' });
    await assert.rejects(map(errorInput2, entryMapper, { concurrency: 1 }), { message: 'bar' });
  });

  test('stopOnError: true starts no mapper call after the first error', async () => {
    const late = deferred<number>();
    const failing = deferred();
    const mapped: number[] = [];
    const result = map([1, late.promise, 3], async (value) => {
      mapped.push(value);
      if (value === 1) {
        await failing.promise;
        throw new Error('Oops!');
      }
      return value;
    });
    // Element 3 is mapped while element 2 is still awaited; then 1 fails, before 2 arrives.
    await flushMicrotasks();
    assert.deepEqual(mapped, [1, 3]);
    failing.resolve();
    await assert.rejects(result, { message: 'Oops!' });
    late.resolve(2);
    await flushMicrotasks();
    assert.deepEqual(mapped, [1, 3]);
  });

  test('stopOnError: true stops taking elements from the source', async () => {
    let pulled = 0;
    function* source(): Generator<number> {
      for (let i = 0; i < 100; i++) {
        pulled++;
        yield i;
      }
    }
    await assert.rejects(
      map(
        source(),
        async (x) => {
          if (x === 3) throw new Error('three');
          return x;
        },
        { concurrency: 2 },
      ),
      { message: 'three' },
    );
    await flushMicrotasks();
    assert.ok(pulled <= 5, `pulled ${pulled}`);
  });

  test('the first error closes the source, as a break in for-of would', async () => {
    let closed = false;
    function* source(): Generator<number> {
      try {
        yield* range(10);
      } finally {
        closed = true;
      }
    }
    await assert.rejects(
      map(source(), () => {
        throw new Error('first');
      }),
      { message: 'first' },
    );
    assert.equal(closed, true);
  });

  test('a rejected element rejects like a failed mapper', async () => {
    const error = new Error('element');
    await assert.rejects(
      map([1, Promise.reject(error), 3], (x) => x, { concurrency: 1 }),
      error,
    );
  });

  test('a mapper that throws synchronously rejects', async () => {
    await assert.rejects(
      map([1], () => {
        throw new TypeError('sync');
      }),
      { name: 'TypeError', message: 'sync' },
    );
  });

  test('stopOnError: false resolves as usual when nothing fails', async () => {
    assert.deepEqual(
      await map(sharedInput, delayedValue, { concurrency: 1, stopOnError: false }),
      [10, 20, 30],
    );
  });

  test('stopOnError: false tries every element and rejects with an AggregateError of all errors', async () => {
    let calls = 0;
    const counting = (entry: Entry): Promise<number> => {
      calls++;
      return entryMapper(entry);
    };
    const error = await map(errorInput1, counting, { concurrency: 1, stopOnError: false }).catch(
      (e: unknown) => e,
    );
    assert.ok(error instanceof AggregateError);
    assert.deepEqual(
      error.errors.map((e: Error) => e.message),
      ['foo', 'bar'],
    );
    assert.equal(calls, 4);
  });

  test('stopOnError: false lists the errors in input order, not in the order they happened', async () => {
    const laterFailed = deferred();
    const input = [0, 1, 2, 3];
    const mapper = async (x: number): Promise<number> => {
      if (x === 0) {
        await laterFailed.promise;
        throw new Error('zero');
      }
      if (x === 3) {
        laterFailed.resolve();
        throw new Error('three');
      }
      return x;
    };
    const ours = await map(input, mapper, { stopOnError: false }).catch((e: unknown) => e);
    assert.ok(ours instanceof AggregateError);
    assert.deepEqual(
      ours.errors.map((e: Error) => e.message),
      ['zero', 'three'],
    );
  });

  test('stopOnError: false collects rejected elements and synchronous throws too', async () => {
    const error = await map(
      [Promise.reject(new Error('element')), 1, 2],
      (x) => {
        if (x === 2) throw new Error('sync');
        return x;
      },
      { concurrency: 1, stopOnError: false },
    ).catch((e: unknown) => e);
    assert.ok(error instanceof AggregateError);
    assert.deepEqual(
      error.errors.map((e: Error) => e.message),
      ['element', 'sync'],
    );
  });

  test('stopOnError: false gives the same AggregateError as p-map', async () => {
    const input = range(12);
    const mapper = async (x: number): Promise<number> => {
      await delay(12 - x);
      if (x % 3 === 0) throw new Error(`e${x}`);
      return x;
    };
    const messages = (error: unknown): string[] =>
      (error as AggregateError).errors.map((e: Error) => e.message);
    const ours = await map(input, mapper, { concurrency: 4, stopOnError: false }).catch((e: unknown) => e);
    const theirs = await pMap(input, mapper, { concurrency: 4, stopOnError: false }).catch((e: unknown) => e);
    assert.deepEqual(messages(ours), messages(theirs));
  });
});

describe('map() - a source that throws', () => {
  for (const [where, at] of [
    ['on its first element', 0],
    ['after some elements', 2],
  ] as const) {
    test(`an iterator that throws ${where} rejects with its error`, async () => {
      function* broken(): Generator<number> {
        yield* range(at);
        throw new Error('iterator broke');
      }
      await assert.rejects(
        map(broken(), (x) => x, { concurrency: 2 }),
        { message: 'iterator broke' },
      );
    });
  }

  test('an iterator that throws rejects with its own error even with stopOnError: false', async () => {
    function* broken(): Generator<number> {
      yield 1;
      throw new Error('iterator broke');
    }
    await assert.rejects(
      map(broken(), async (x) => x, { stopOnError: false }),
      (error: unknown) => !(error instanceof AggregateError) && (error as Error).message === 'iterator broke',
    );
  });

  // p-map 7.1.1 resolves with [1] here at concurrency >= 2 (its overlapping next() calls let the
  // `done` after the throw settle the run first); sluice reads one next() at a time and rejects.
  test('an async iterator that throws rejects with its error', async () => {
    async function* broken(): AsyncGenerator<number> {
      yield 1;
      throw new Error('async iterator broke');
    }
    await assert.rejects(
      map(broken(), (x) => x, { concurrency: 2 }),
      { message: 'async iterator broke' },
    );
  });

  test('an iterable whose [Symbol.iterator]() throws rejects with its error', async () => {
    const iterable = {
      [Symbol.iterator](): Iterator<number> {
        throw new Error('no iterator');
      },
    };
    await assert.rejects(
      map(iterable, (x) => x),
      { message: 'no iterator' },
    );
  });
});

describe('map() - signal', () => {
  test('an already aborted signal rejects with its reason and calls no mapper', async () => {
    const reason = new Error('enough');
    let calls = 0;
    await assert.rejects(
      map(
        [1, 2],
        () => {
          calls++;
        },
        { signal: AbortSignal.abort(reason) },
      ),
      reason,
    );
    assert.equal(calls, 0);
  });

  test('an abort without a reason rejects with the DOMException the signal carries, as p-map does', async () => {
    const signal = AbortSignal.abort();
    const ours = await map([1], (x) => x, { signal }).catch((e: unknown) => e);
    const theirs = await pMap([1], (x) => x, { signal }).catch((e: unknown) => e);
    assert.ok(ours instanceof DOMException);
    assert.equal(ours.name, 'AbortError');
    assert.equal(ours, theirs);
  });

  test('an abort during the run rejects with its reason and starts no new mapper call', async () => {
    const controller = new AbortController();
    const reason = new Error('stop now');
    const gate = deferred();
    let calls = 0;
    const result = map(
      range(100),
      async (x) => {
        calls++;
        await gate.promise;
        return x;
      },
      { concurrency: 2, signal: controller.signal },
    );
    await flushMicrotasks();
    assert.equal(calls, 2);
    controller.abort(reason);
    await assert.rejects(result, reason);
    gate.resolve();
    await flushMicrotasks();
    assert.equal(calls, 2);
  });

  test('an abort while an element is awaited keeps its mapper from being called', async () => {
    const controller = new AbortController();
    const element = deferred<number>();
    let calls = 0;
    const result = map(
      [element.promise],
      () => {
        calls++;
      },
      { signal: controller.signal },
    );
    controller.abort();
    element.resolve(1);
    await assert.rejects(result, { name: 'AbortError' });
    await flushMicrotasks();
    assert.equal(calls, 0);
  });

  test('an abort closes the source', async () => {
    const controller = new AbortController();
    let closed = false;
    async function* source(): AsyncGenerator<number> {
      try {
        for (let i = 0; ; i++) yield i;
      } finally {
        closed = true;
      }
    }
    const result = map(source(), () => delay(1), { concurrency: 1, signal: controller.signal });
    await delay(5);
    controller.abort();
    await assert.rejects(result, { name: 'AbortError' });
    await delay(5);
    assert.equal(closed, true);
  });

  test('the abort listener is removed once the result settles', async () => {
    const controller = new AbortController();
    await map([1, 2], async (x) => x, { signal: controller.signal });
    // An abort after the end is not an unhandled rejection, and changes nothing.
    controller.abort();
    await flushMicrotasks();
  });
});

describe('map() - async iterable input', () => {
  test('an async iterable is mapped in input order', async () => {
    const result = await map(fromAsync([30, 10, 20]), (ms) => delay(ms, ms * 2), { concurrency: 3 });
    assert.deepEqual(result, [60, 20, 40]);
  });

  test('an async iterable of promises has its elements awaited, with their index', async () => {
    const seen: Array<[number, number]> = [];
    const result = await map(fromAsync([Promise.resolve(1), 2, delay(1, 3)]), (element, index) => {
      seen.push([element, index]);
      return element;
    });
    assert.deepEqual(result, [1, 2, 3]);
    assert.deepEqual(
      seen.sort((a, b) => a[1] - b[1]),
      [
        [1, 0],
        [2, 1],
        [3, 2],
      ],
    );
  });

  test('an async iterable is read only as concurrency allows', async () => {
    let read = 0;
    let finished = 0;
    let maxAhead = 0;
    async function* source(): AsyncGenerator<number> {
      for (let i = 0; i < 30; i++) {
        read++;
        maxAhead = Math.max(maxAhead, read - finished);
        yield i;
      }
    }
    const meter = inFlightMeter();
    const out = await map(
      source(),
      async (x) => {
        await meter.mapper(x);
        finished++;
        return x * 2;
      },
      { concurrency: 3 },
    );
    assert.deepEqual(
      out,
      range(30).map((x) => x * 2),
    );
    assert.ok(maxAhead <= 3, `read ${maxAhead} ahead`);
    assert.equal(meter.peak, 3);
  });

  test('an async iterable is never asked for two elements at once', async () => {
    let pending = 0;
    let maxPending = 0;
    let position = 0;
    const source: AsyncIterable<number> = {
      [Symbol.asyncIterator]: () => ({
        next: async () => {
          pending++;
          maxPending = Math.max(maxPending, pending);
          await delay(1);
          pending--;
          return position < 10 ? { done: false, value: position++ } : { done: true, value: undefined };
        },
      }),
    };
    assert.deepEqual(await map(source, async (x) => x, { concurrency: 4 }), range(10));
    assert.equal(maxPending, 1);
  });

  test('an async iterable with stopOnError: false aggregates the errors in input order', async () => {
    const error = await map(
      fromAsync(range(6)),
      async (x) => {
        await delay(6 - x);
        if (x % 2 === 1) throw new Error(`odd ${x}`);
        return x;
      },
      { concurrency: 3, stopOnError: false },
    ).catch((e: unknown) => e);
    assert.ok(error instanceof AggregateError);
    assert.deepEqual(
      error.errors.map((e: Error) => e.message),
      ['odd 1', 'odd 3', 'odd 5'],
    );
  });

  test('an input with both iterators is read through the async one, as for-await would', async () => {
    const both = {
      *[Symbol.iterator](): Generator<number> {
        yield 1;
      },
      async *[Symbol.asyncIterator](): AsyncGenerator<number> {
        yield 2;
      },
    };
    assert.deepEqual(await map(both, (x) => x), [2]);
  });
});

describe('map() - invalid arguments', () => {
  const identity = (x: unknown): unknown => x;

  for (const concurrency of [0, -1, 1.5, Number.NaN, Number.NEGATIVE_INFINITY]) {
    test(`concurrency ${concurrency} rejects with a TypeError coded SLUICE_ERR_INVALID_ARG_VALUE, as p-map's class`, async () => {
      await assert.rejects(
        map([1], identity, { concurrency }),
        (error: unknown) =>
          error instanceof TypeError &&
          (error as { code?: string }).code === 'SLUICE_ERR_INVALID_ARG_VALUE' &&
          /"concurrency"/.test(error.message) &&
          error.message.includes(String(concurrency)),
      );
    });
  }

  for (const concurrency of ['2', null, 2n]) {
    test(`concurrency ${typeof concurrency} rejects with SLUICE_ERR_INVALID_ARG_TYPE`, async () => {
      await assert.rejects(map([1], identity, { concurrency: concurrency as never }), {
        name: 'InvalidArgTypeError',
        code: 'SLUICE_ERR_INVALID_ARG_TYPE',
        message: /"concurrency"/,
      });
    });
  }

  test('a stopOnError that is not a boolean rejects with SLUICE_ERR_INVALID_ARG_TYPE', async () => {
    await assert.rejects(map([1], identity, { stopOnError: 1 as never }), {
      name: 'InvalidArgTypeError',
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
      message: /"stopOnError".*boolean.*Received 1/,
    });
  });

  test('a signal that is not an AbortSignal rejects with SLUICE_ERR_INVALID_ARG_TYPE', async () => {
    await assert.rejects(map([1], identity, { signal: {} as never }), {
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
      message: /"signal"/,
    });
  });

  test('an unknown option rejects with SLUICE_ERR_UNKNOWN_OPTION', async () => {
    await assert.rejects(map([1], identity, { concurency: 2 } as never), {
      name: 'UnknownOptionError',
      code: 'SLUICE_ERR_UNKNOWN_OPTION',
      message: /concurency/,
    });
  });

  test('options that are not an object reject with SLUICE_ERR_INVALID_ARG_TYPE', async () => {
    await assert.rejects(map([1], identity, 4 as never), { code: 'SLUICE_ERR_INVALID_ARG_TYPE' });
  });

  test('a mapper that is not a function rejects with SLUICE_ERR_INVALID_ARG_TYPE', async () => {
    await assert.rejects(map([1], 'x' as never), {
      name: 'InvalidArgTypeError',
      code: 'SLUICE_ERR_INVALID_ARG_TYPE',
      message: /"mapper".*function.*Received "x"/,
    });
  });

  for (const input of [42, null, undefined, {}]) {
    test(`an input of ${input === null ? 'null' : typeof input} rejects with SLUICE_ERR_INVALID_SOURCE`, async () => {
      await assert.rejects(map(input as never, identity), {
        name: 'InvalidSourceError',
        code: 'SLUICE_ERR_INVALID_SOURCE',
        message: /"input"/,
      });
    });
  }

  test('invalid arguments reject; the call itself does not throw', async () => {
    let result: Promise<unknown> | undefined;
    assert.doesNotThrow(() => {
      result = map(null as never, 'x' as never, { concurrency: 0 });
    });
    await assert.rejects(result as Promise<unknown>, { code: 'SLUICE_ERR_INVALID_SOURCE' });
  });

  test('options left undefined take their defaults', async () => {
    assert.deepEqual(
      await map([1, 2], (x) => x, { concurrency: undefined, stopOnError: undefined, signal: undefined }),
      [1, 2],
    );
  });

  test('an invalid option rejects before the source is touched', async () => {
    let touched = false;
    const iterable = {
      [Symbol.iterator](): Iterator<number> {
        touched = true;
        return [1][Symbol.iterator]();
      },
    };
    await assert.rejects(map(iterable, identity, { concurrency: 0 }), {
      code: 'SLUICE_ERR_INVALID_ARG_VALUE',
    });
    assert.equal(touched, false);
  });
});
