import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Frontier, type PageRequest } from '../../src/demo/frontier.js';
import type { Provider } from '../../src/demo/population.js';

function provider(index: number, paging: 'cursor' | 'page'): Provider {
  return {
    index,
    name: `p${index}`,
    format: 0,
    envelope: paging === 'cursor' ? 0 : 1,
    paging,
    window: 1,
    pages: 3,
    latencyMs: 0,
    perSecond: 1,
  };
}

/** Reads a frontier as the flow does, and says what it hands out now without waiting for more. */
function reader(frontier: Frontier) {
  const iterator = frontier[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<PageRequest>> | undefined;
  return {
    async ready(): Promise<PageRequest[]> {
      const taken: PageRequest[] = [];
      for (;;) {
        pending ??= iterator.next();
        const next = await Promise.race([pending, new Promise<'idle'>((r) => setImmediate(() => r('idle')))]);
        if (next === 'idle' || next.done) return taken;
        pending = undefined;
        taken.push(next.value);
      }
    },
    async done(): Promise<boolean> {
      pending ??= iterator.next();
      return (await pending).done === true;
    },
  };
}

test('a page-numbered provider reveals its remaining pages on page one; the listing ends when all are settled', async () => {
  const frontier = new Frontier([provider(0, 'page')]);
  const read = reader(frontier);
  const [first] = await read.ready();
  frontier.fetched(first!, { totalPages: 3 });
  const rest = await read.ready();
  assert.deepEqual(
    rest.map((r) => r.page),
    [1, 2],
  );
  for (const r of rest) frontier.fetched(r, {});
  assert.equal(await read.done(), true);
});

test('a cursor-paged provider goes one page at a time, and a dead page ends its listing', async () => {
  const frontier = new Frontier([provider(0, 'cursor')]);
  const read = reader(frontier);
  const [first] = await read.ready();
  frontier.fetched(first!, { nextCursor: 'c1' });
  const [second, extra] = await read.ready();
  assert.deepEqual([second?.page, second?.cursor, extra], [1, 'c1', undefined]);
  frontier.failed(second!);
  assert.equal(await read.done(), true);
});

test('requests go round-robin, at most perProvider in flight for any one provider', async () => {
  const frontier = new Frontier([provider(0, 'page'), provider(1, 'page')], 2);
  const read = reader(frontier);
  const firsts = await read.ready();
  frontier.fetched(firsts[0]!, { totalPages: 10 });
  frontier.fetched(firsts[1]!, { totalPages: 10 });
  const batch = await read.ready();
  assert.deepEqual(
    batch.map((r) => `${r.provider.name}/${r.page}`),
    ['p0/1', 'p1/1', 'p0/2', 'p1/2'],
  );
  frontier.fetched(batch[0]!, {});
  assert.deepEqual(
    (await read.ready()).map((r) => `${r.provider.name}/${r.page}`),
    ['p0/3'],
  );
});
