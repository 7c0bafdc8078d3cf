import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import fc from 'fast-check';
import {
  copyRecords,
  fromColumns,
  isEcho,
  MIN_RECORDS,
  toColumns,
} from '../../src/exec/pool/record-columns.js';
import { cpu, flow, isSluiceError, WorkerPool } from '../../src/index.js';
import type { FaultRow } from '../fixtures/tasks/row-fault.task.js';

const SEED = 20_261_130;
const echo = new URL('../fixtures/tasks/echo.task.js', import.meta.url);
const rowFault = new URL('../fixtures/tasks/row-fault.task.js', import.meta.url);
const withoutCodegen = fileURLToPath(new URL('../fixtures/rows-without-codegen.ts', import.meta.url));

/** A plain object with these own enumerable keys, `__proto__` included, in this order. */
function record(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries)
    Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

/** Asserts that `actual` is what a structured clone of `expected` gives: plain objects, same keys in order, same values. */
function assertClones(actual: readonly unknown[], expected: readonly unknown[]): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    const got = actual[i] as Record<string, unknown>;
    const want = expected[i] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(got), Object.prototype, `record ${i} is not a plain object`);
    assert.deepEqual(Reflect.ownKeys(got), Reflect.ownKeys(want), `record ${i}: keys or their order`);
    for (const key of Reflect.ownKeys(want) as string[]) {
      const [value, wanted] = [got[key], want[key]];
      if (wanted instanceof Date) {
        assert.ok(
          value instanceof Date && Object.is(value.getTime(), wanted.getTime()),
          `record ${i}, ${key}`,
        );
      } else
        assert.ok(Object.is(value, wanted), `record ${i}, ${key}: ${String(value)} for ${String(wanted)}`);
    }
  }
}

const primitive = fc.oneof(
  fc.double(), // -0, NaN and the infinities included
  fc.integer(),
  fc.string(),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.bigInt(),
  fc.date({ noInvalidDate: false }),
);
const key = fc.oneof(
  fc.constantFrom('id', 'n', 'tag', '0', '7', '10', 'constructor', '__proto__'),
  fc.string(),
);

describe('record columns: flat records cross between threads as columns', () => {
  test('toColumns/fromColumns - a batch of flat records comes back as its structured clone; any other batch is left to the clone', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { maxLength: 6 }),
        fc.integer({ min: 0, max: 100 }),
        fc.array(primitive, { minLength: 240, maxLength: 240 }),
        fc.option(fc.constantFrom('nested', 'reordered', 'class', 'null-prototype', 'symbol'), {
          nil: undefined,
        }),
        (keys, count, pool, twist) => {
          const records: unknown[] = Array.from({ length: count }, (_, i) =>
            record(keys.map((k, j) => [k, pool[(i * keys.length + j) % pool.length]] as const)),
          );
          const at = Math.floor(count / 2);
          if (twist !== undefined && count > 0) {
            const entries = keys.map((k, j) => [k, pool[j % pool.length]] as const);
            // A value no column may hold, under a key every record has (or one more key, when there are none).
            const withValue = (value: unknown) =>
              keys.length > 0
                ? record(entries.map(([k], j) => [k, j === 0 ? value : entries[j]?.[1]] as const))
                : record([['x', value]]);
            if (twist === 'nested') records[at] = withValue({ deep: 1 });
            if (twist === 'reordered') records[at] = record([...entries].reverse());
            if (twist === 'class') records[at] = Object.assign(new (class Row {})(), record(entries));
            if (twist === 'null-prototype') records[at] = Object.assign(Object.create(null), record(entries));
            if (twist === 'symbol') records[at] = withValue(Symbol('s'));
          }
          const columns = toColumns(records);
          // Reordered keys change nothing where the objects enumerate them alike (integer keys come first).
          const reordered =
            count > 0 &&
            Reflect.ownKeys(records[at] as object).join('\0') !==
              Reflect.ownKeys(records[0] as object).join('\0');
          const twisted = twist !== undefined && count > 0 && (twist !== 'reordered' || reordered);
          const eligible = count >= MIN_RECORDS && !keys.includes('__proto__') && !twisted;
          assert.equal(
            columns !== undefined,
            eligible,
            `columns for ${count} records, keys ${keys}, ${twist}`,
          );
          if (columns !== undefined)
            assertClones(fromColumns(structuredClone(columns)), structuredClone(records));
          // The head start's one-pass copy takes the same batches and gives the same records, new ones.
          const copies = copyRecords(records);
          assert.equal(copies !== undefined, eligible, `copies for ${count} records, keys ${keys}, ${twist}`);
          if (copies !== undefined) {
            assertClones(copies, structuredClone(records));
            copies.forEach((copy, i) => {
              assert.notEqual(copy, records[i], `record ${i} was not copied`);
              for (const [k, value] of Object.entries(copy as object))
                if (value instanceof Date)
                  assert.notEqual(
                    value,
                    (records[i] as Record<string, unknown>)[k],
                    `record ${i}'s Date ${k}`,
                  );
            });
          }
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  test("toColumns/fromColumns - results that carry their item's values over echo its columns, and still come back as their clone", () => {
    const carried = fc.constantFrom('carried', 'carried-but-one', 'renamed', 'new');
    fc.assert(
      fc.property(
        fc.uniqueArray(key, { maxLength: 5 }),
        fc.uniqueArray(fc.tuple(key, carried), { maxLength: 6, selector: ([k]) => k }),
        fc.integer({ min: MIN_RECORDS, max: 100 }),
        fc.array(primitive, { minLength: 240, maxLength: 240 }),
        (itemKeys, resultPlan, count, pool) => {
          const items = Array.from({ length: count }, (_, i) =>
            record(itemKeys.map((k, j) => [k, pool[(i * 7 + j) % pool.length]] as const)),
          );
          // As the pool moves them: the calling thread sends columns, a worker rebuilds the items,
          // the task answers, the worker sends the answers' columns, the calling thread rebuilds them.
          const sent = toColumns(items);
          if (sent === undefined) return;
          const received = structuredClone(sent);
          const workerItems = fromColumns(received) as Record<string, unknown>[];
          const results = workerItems.map((item, i) =>
            record(
              resultPlan.map(([k, how], j) => {
                // Renamed: the value of the items' first key, under another key.
                const from = how === 'renamed' ? itemKeys[0] : k;
                const own =
                  from !== undefined &&
                  Object.hasOwn(item, from) &&
                  how !== 'new' &&
                  !(how === 'carried-but-one' && i === 3);
                return [k, own ? item[from as string] : pool[(i * 11 + j + 100) % pool.length]] as const;
              }),
            ),
          );
          const answered = toColumns(results, received);
          if (answered === undefined) return;
          const out = fromColumns(structuredClone(answered), sent);
          assertClones(out, structuredClone(results));
          for (const [k, how] of resultPlan) {
            // Integer-like keys come first in a record, whatever order they were set in.
            const column = answered.columns[answered.keys.indexOf(k)];
            const echoed = column !== undefined && isEcho(column);
            const dated = results.some((r) => r[k] instanceof Date);
            const source = how === 'renamed' ? itemKeys[0] : k;
            if (
              (how === 'carried' || how === 'renamed') &&
              source !== undefined &&
              itemKeys.includes(source) &&
              !dated
            )
              assert.ok(echoed, `column ${k} (${how} from ${source}) was sent again`);
            // A column echoed by mistake would show above as the item's values in place of the answer's.
            if (dated) assert.ok(!echoed, `column ${k} holds Dates and was echoed`);
          }
          out.forEach((record, i) => {
            for (const [k, value] of Object.entries(record as object))
              if (value instanceof Date)
                assert.ok(
                  !items.some((item) => Object.values(item).includes(value)),
                  `record ${i}'s Date ${k} is the caller's own object`,
                );
          });
        },
      ),
      { seed: SEED, numRuns: 500 },
    );
  });

  test('fromColumns - a process that refuses generated code still gets its rows back, built without it', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--disallow-code-generation-from-strings', ...process.execArgv, withoutCodegen],
      // A hang guard, not a timing assertion.
      { timeout: 30_000, killSignal: 'SIGKILL', env: process.env },
    );
    assert.deepEqual(JSON.parse(stdout), { generating: false, rows: 500, asSent: true });
  });

  test('toColumns - whole numbers travel as an Int32Array, other numbers as a Float64Array, keys once', () => {
    const rows = Array.from({ length: 8 }, (_, i) => ({
      id: i - 3,
      score: i / 3,
      negativeZero: i === 2 ? -0 : i,
      wide: 2 ** 31 + i,
      name: `row-${i}`,
    }));
    const columns = toColumns(rows);
    assert.ok(columns !== undefined);
    assert.deepEqual(columns.keys, ['id', 'score', 'negativeZero', 'wide', 'name']);
    assert.ok(columns.columns[0] instanceof Int32Array);
    for (const j of [1, 2, 3]) assert.ok(columns.columns[j] instanceof Float64Array, columns.keys[j]);
    assert.deepEqual(
      columns.columns[4],
      rows.map((r) => r.name),
    );
    assertClones(fromColumns(structuredClone(columns)), rows);
  });

  test('toColumns - a proxy, a key enumerable on Object.prototype: the structured clone decides, as before', () => {
    const rows = Array.from({ length: 8 }, (_, i) => ({ id: i }));
    assert.equal(toColumns([...rows, new Proxy({ id: 1 }, {})]), undefined);
    Object.defineProperty(Object.prototype, 'polluted', { value: 1, enumerable: true, configurable: true });
    try {
      assert.equal(toColumns(rows), undefined);
    } finally {
      delete (Object.prototype as Record<string, unknown>).polluted;
    }
    assert.ok(toColumns(rows) !== undefined);
  });

  test('fromColumns, copyRecords - a key Object.prototype has is defined on the record, as a clone defines it, never assigned', () => {
    const set: unknown[] = [];
    Object.defineProperty(Object.prototype, 'trap', {
      set(value) {
        set.push(value);
      },
      configurable: true,
    });
    try {
      const rows = Array.from({ length: 8 }, (_, i) =>
        record([
          ['trap', i],
          ['toString', `s${i}`],
        ]),
      );
      const columns = toColumns(rows);
      assert.ok(columns !== undefined);
      assertClones(fromColumns(columns), rows);
      assertClones(copyRecords(rows) ?? [], rows);
      assert.deepEqual(set, [], 'an inherited setter was called');
    } finally {
      delete (Object.prototype as Record<string, unknown>).trap;
    }
  });

  test('copyRecords - records sharing a Date share its one copy, as in a clone of the batch', () => {
    const when = new Date('2026-11-30T02:00:00Z');
    const rows = Array.from({ length: 8 }, (_, i) => ({ id: i, at: when, own: new Date(i) }));
    const copies = copyRecords(rows) as { at: Date; own: Date }[];
    assertClones(copies, structuredClone(rows));
    assert.ok(copies.every((copy) => copy.at === copies[0]?.at && copy.at !== when));
    assert.equal(new Set(copies.map((copy) => copy.own)).size, 8);
  });

  test("rows with Dates run on the calling thread as copies, as on a worker: a Date the task gets is not the caller's", async () => {
    const when = new Date('2026-11-29T23:00:00Z');
    const rows = Array.from({ length: 16 }, (_, i) => ({
      id: i,
      at: when,
      updated: new Date(i),
    }));
    const pool = new WorkerPool<unknown, { id: number; at: Date; updated: Date }>(echo, { workers: 1 });
    try {
      const out = await pool.runMany(rows);
      assert.equal(pool.size, 0, 'a worker ran the rows: this test is about the calling thread');
      assertClones(out, structuredClone(rows));
      assert.ok(
        out.every((row) => row.at !== when),
        "a task got the caller's own Date",
      );
    } finally {
      await pool.close();
    }
  });

  for (const isolation of ['thread', 'process'] as const) {
    test(`a ${isolation} worker receives and answers rows as their clones: keys in order, -0, NaN, undefined, bigints`, async () => {
      const rows = Array.from({ length: 3_000 }, (_, i) =>
        record([
          ['7', i],
          ['id', i === 0 ? -0 : i],
          ['ratio', i % 5 === 0 ? Number.NaN : i / 7],
          ['name', `row-${i}`],
          ['missing', undefined],
          ['big', BigInt(i) * 10n ** 20n],
          ['flag', i % 2 === 0],
          ['none', null],
          ['at', new Date(i * 1_000)],
        ]),
      );
      const pool = new WorkerPool<unknown, unknown>(echo, { workers: 1, isolation, headStart: false });
      try {
        const out = await flow(rows).map(cpu(echo, { pool })).collect();
        assertClones(out, structuredClone(rows));
        // Every column but the Dates echoes the rows' own (see toColumns): a Date is still a new one.
        assert.ok(
          out.every((row, i) => (row as { at: Date }).at !== rows[i]?.at),
          "an answer holds the caller's own Date",
        );
        // The same record twice in one batch comes back as two objects: each item is its own call.
        const shared = { id: 1, name: 'shared' };
        const twice = await pool.runMany(Array.from({ length: 16 }, () => shared));
        assert.notEqual(twice[0], twice[1]);
        assert.deepEqual(twice[0], shared);
      } finally {
        await pool.close();
      }
    });
  }

  test('rows through workers that crash and items that throw: every row ends once, a new row or a dead letter', async () => {
    const jobs = fc.sample(
      fc.tuple(
        fc.array(fc.integer({ min: 0, max: 5_000 }), { minLength: 200, maxLength: 3_000, size: 'max' }),
        fc.boolean(), // head start
        fc.integer({ min: 1, max: 2 }), // workers
      ),
      { seed: SEED, numRuns: 6 },
    );
    for (const [xs, headStart, workers] of jobs) {
      const rows: FaultRow[] = xs.map((x, i) => ({ x, tag: `r${x}`, at: new Date(x), id: `row-${i}` }));
      const dead: number[] = [];
      const pool = new WorkerPool<FaultRow, FaultRow>(rowFault, { workers, headStart, maxCrashRetries: 0 });
      try {
        const out = await flow(rows)
          .map(cpu<FaultRow, FaultRow>(rowFault, { pool }), {
            onError: (row) => {
              dead.push(row.x);
            },
          })
          .collect();
        const label = `seed ${SEED}, ${rows.length} rows, headStart ${headStart}, ${workers} workers`;
        const fails = (x: number) => x % 1009 === 997 || x % 89 === 0;
        assert.deepEqual(
          out.map((row) => row.x - 1),
          xs.filter((x) => !fails(x)),
          label,
        );
        assert.deepEqual(
          [...dead].sort((a, b) => a - b),
          xs.filter(fails).sort((a, b) => a - b),
          label,
        );
        // Each answer's id is its own row's, whichever piece, re-sent after a crash or not, it crossed in.
        const ids = rows.filter((row) => !fails(row.x)).map((row) => row.id);
        assert.deepEqual(
          out.map((row) => row.id),
          ids,
          label,
        );
        for (const row of out) {
          assert.equal(row.tag, `r${row.x - 1}!`, label);
          assert.equal(row.at.getTime(), row.x, label);
        }
      } finally {
        await pool.close();
      }
    }
  });

  test('a proxy among rows fails alone with SLUICE_ERR_DATA_CLONE, as any value a clone cannot copy', async () => {
    const rows: unknown[] = Array.from({ length: 32 }, (_, i) => ({ id: i }));
    rows[5] = new Proxy({ id: 5 }, {});
    const pool = new WorkerPool<unknown, unknown>(echo, { workers: 1, headStart: false });
    try {
      const settled = await Promise.allSettled(rows.map((row) => pool.run(row)));
      settled.forEach((outcome, i) => {
        if (i === 5)
          assert.ok(outcome.status === 'rejected' && isSluiceError(outcome.reason, 'SLUICE_ERR_DATA_CLONE'));
        else assert.deepEqual(outcome.status === 'fulfilled' && outcome.value, { id: i });
      });
    } finally {
      await pool.close();
    }
  });
});
