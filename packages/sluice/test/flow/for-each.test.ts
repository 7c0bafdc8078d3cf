/**
 * A forEach after another stage runs in that stage's turn (see src/flow/inline-for-each.ts): these
 * tests hold it to what a forEach stage promises whatever runs it: every item handled once or met
 * by the error policy, never more calls in flight than its concurrency, counts that match, and a
 * turn for the event loop while it works.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cpu, flow, inProcess } from '../../src/index.js';

const SEED = 20261129;

/** What one item's forEach call does. */
type Behaviour = 'sync' | 'microtask' | 'macrotask' | 'throw' | 'reject';

const settleAfter = (behaviour: Behaviour): Promise<void> | undefined => {
  switch (behaviour) {
    case 'microtask':
      return Promise.resolve();
    case 'macrotask':
      return new Promise((resolve) => setImmediate(resolve));
    case 'reject':
      return new Promise((_, reject) => setImmediate(() => reject(new Error('rejected'))));
    case 'throw':
      throw new Error('thrown');
    default:
      return undefined;
  }
};

describe('forEach after another stage', () => {
  test('every item is handled once or met by the error policy, within its concurrency, and the report counts each', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Behaviour>('sync', 'microtask', 'macrotask', 'throw', 'reject'), {
          maxLength: 120,
        }),
        fc.integer({ min: 1, max: 6 }),
        fc.constantFrom('skip', 'dead-letter'),
        fc.boolean(),
        async (behaviours, concurrency, policy, asyncBefore) => {
          const handled: number[] = [];
          const deadLettered: number[] = [];
          let inFlight = 0;
          let peak = 0;
          const report = await flow(behaviours.map((behaviour, i) => ({ behaviour, i })))
            .map((item) => (asyncBefore ? Promise.resolve(item) : item), { concurrency: 3 })
            .forEach(
              async ({ behaviour, i }) => {
                inFlight++;
                peak = Math.max(peak, inFlight);
                try {
                  await settleAfter(behaviour);
                  handled.push(i);
                } finally {
                  inFlight--;
                }
              },
              {
                concurrency,
                onError:
                  policy === 'skip'
                    ? 'skip'
                    : (item) => {
                        deadLettered.push(item.i);
                      },
              },
            );
          const failing = behaviours.flatMap((b, i) => (b === 'throw' || b === 'reject' ? [i] : []));
          const succeeding = behaviours.flatMap((b, i) => (b === 'throw' || b === 'reject' ? [] : [i]));
          assert.deepEqual(
            [...handled].sort((a, b) => a - b),
            succeeding,
          );
          assert.ok(peak <= concurrency, `${peak} calls in flight at concurrency ${concurrency}`);
          const stage = report.stages[1];
          assert.equal(stage?.entered, behaviours.length);
          assert.equal(stage?.emitted, succeeding.length);
          if (policy === 'skip') assert.equal(stage?.skipped, failing.length);
          else {
            assert.equal(stage?.deadLettered, failing.length);
            assert.deepEqual(
              [...deadLettered].sort((a, b) => a - b),
              failing,
            );
          }
          assert.equal(report.status, 'completed');
        },
      ),
      { seed: SEED, numRuns: 150, verbose: true },
    );
  });

  test('a synchronous forEach that throws fails the run with the stage and item named, and counts what it took', async () => {
    const seen: number[] = [];
    const failed = await flow([1, 2, 3, 4, 5])
      .map(async (x) => x)
      .forEach((x) => {
        if (x === 3) throw new Error('bad row');
        seen.push(x);
      })
      .then(
        () => assert.fail('the run should fail'),
        (error: unknown) =>
          error as {
            code: string;
            message: string;
            report: { stages: { entered: number; failed: number }[] };
          },
      );
    assert.equal(failed.code, 'SLUICE_ERR_STAGE');
    assert.match(failed.message, /forEach#1.*item 2.*bad row/);
    assert.deepEqual(seen, [1, 2]);
    const stage = failed.report.stages[1];
    assert.equal(stage?.failed, 1);
  });

  test('a forEach waiting on its calls holds the stage before back: no more results are made than it can take', async () => {
    let made = 0;
    const releases: (() => void)[] = [];
    const run = flow(Array.from({ length: 1000 }, (_, i) => i))
      .map(
        (x) => {
          made++;
          return x;
        },
        { buffer: 8 },
      )
      .forEach(() => new Promise<void>((resolve) => releases.push(resolve)), { concurrency: 2 })
      .run();
    // Let the flow run until it is stuck on the two calls in flight.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(releases.length, 2);
    // Two in flight, eight queued, and what the map stage's lane and window hold beyond that.
    assert.ok(made <= 2 + 8 + 32, `the map stage made ${made} results for a forEach holding two`);
    let released = 0;
    while (released < 1000) {
      const release = releases.shift();
      if (release === undefined) {
        await new Promise((resolve) => setImmediate(resolve));
        continue;
      }
      release();
      released++;
    }
    const report = await run;
    assert.equal(report.stages[1]?.emitted, 1000);
  });

  test('a slow synchronous forEach behind a stage that hands over results by the batch gives the event loop turns', async () => {
    // Each call takes a millisecond of this clock: the stage sees how long it has kept the loop
    // to itself without the test depending on how fast this machine is.
    let now = 0;
    const clock = {
      now: () => now,
      setTimeout,
      clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
    };
    const task = new URL('../fixtures/tasks/square.task.js', import.meta.url);
    const items = 20_000;
    let processed = 0;
    const atTurns: number[] = [];
    const probe = (): void => {
      atTurns.push(processed);
      if (processed < items) setImmediate(probe);
    };
    setImmediate(probe);
    const report = await flow(Array.from({ length: items }, (_, i) => i))
      .map(cpu<number, number>(task, { executor: inProcess() }))
      .forEach(() => {
        now++;
        processed++;
      })
      .run({ clock });
    assert.equal(report.stages[1]?.emitted, items);
    atTurns.push(processed);
    const longest = Math.max(...atTurns.map((at, i) => at - (atTurns[i - 1] ?? 0)));
    assert.ok(atTurns.length > 5, `the event loop had ${atTurns.length} turns during ${items} calls`);
    // Ten milliseconds of calls between turns, and a few more before the stage looks at the clock.
    assert.ok(
      longest <= 100,
      `${longest} calls of a millisecond each ran between two turns of the event loop`,
    );
  });
});
