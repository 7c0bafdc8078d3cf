/**
 * A batch of flat records crosses between threads as columns: one array per key, and an
 * Int32Array or a Float64Array where every value of the key is a number. Most users' items are
 * rows (a database's, a CSV file's, an API's page of objects), and a structured clone of an array
 * of small objects writes every key of every object and, on the other side, builds every object a
 * key at a time: 1,000,000 items `{ id, n, tag }` and results `{ id, sum, tag }` spent more CPU
 * crossing (four clones an item) than on their 2 us of work. As columns, the numbers cross as one
 * block of memory, the keys once a batch, and the records are built again by one loop on the
 * receiving side: the calling thread's CPU fell by a third, and the job ran as fast as the plain
 * loop where it ran at 0.84x (bench/RESULTS.md).
 *
 * What comes out is what a structured clone gives: new plain objects with the same own enumerable
 * string keys, in the same order, and the same values (-0, NaN, undefined and bigints included).
 * So only what a clone would copy exactly this way takes the path, checked record by record
 * before anything is sent; any other batch is cloned as before (and a value a clone cannot copy
 * fails as before):
 * - at least one, every one a plain object (its prototype Object.prototype, not a proxy), with
 *   nothing enumerable on Object.prototype itself;
 * - the same keys in the same order in every record, none of them `__proto__`;
 * - every value a primitive other than a symbol, or a Date (a database driver's timestamps): a
 *   nested object could refer to a record of the batch, itself included, which a column would
 *   copy apart from the record it rebuilds, so such a batch keeps the clone. A Date refers to
 *   nothing, and its column is cloned in one piece, so two records sharing one still do.
 * A batch that fails the check part way has had its getters, if its records have any, read once
 * by the check and once more by the clone.
 *
 * Two records of one batch that are the same object become two objects, where a clone keeps them
 * one: items of one batch are separate calls, and which items share a batch is the pool's choice,
 * never the caller's.
 */
import { isDate, isProxy } from 'node:util/types';
import { recordBuilder } from './record-builder.js';

/** A batch of records with the same keys: column `j` holds every record's value for `keys[j]`. */
export interface RecordColumns {
  readonly keys: readonly string[];
  readonly columns: readonly Column[];
  readonly length: number;
  /**
   * Some value is a Date: the one object a column may hold. Crossing a thread clones it with the
   * columns; columns that stay on their thread (the head start's copies) must be cloned for it.
   */
  readonly dates: boolean;
}

/**
 * A column of results the same, record for record, as the column of the same key in the batch's
 * items: the index of that column in the items' columns, which the receiving side still holds
 * (see `toColumns`).
 */
export interface Echo {
  readonly echo: number;
}

export type Column = unknown[] | Int32Array | Float64Array | Echo;

/**
 * Batches of flat records go as columns however small: records built from columns and records a
 * clone built have different hidden classes (see record-builder.ts), and a task handed both kinds,
 * a job's first small batches cloned and the rest built, read its items' fields through
 * polymorphic lookups (bench/RESULTS.md). An empty batch has nothing to send.
 */
export const MIN_RECORDS = 1;

/**
 * `values` as columns, or undefined when they are not flat records of one shape (see above).
 *
 * Given `items`, the columns the values' batch arrived as, a column of values that holds, record
 * for record, the very values of one of the items' columns (the one of the same key, or another:
 * a field renamed) goes back as an `Echo`: a task
 * that enriches a record (`{ ...row, score }`, `{ id: row.id, sum, tag: row.tag }`) hands back
 * most of its fields unchanged, and sending them back copied every string again on both threads,
 * where the calling thread, which sent them, still holds them. A column holding a Date is always
 * sent: the calling thread's are the caller's own objects, and a clone gives new ones.
 */
export function toColumns(values: readonly unknown[], items?: RecordColumns): RecordColumns | undefined {
  const read = readColumns(values);
  if (read === undefined) return undefined;
  const { keys, columns, numeric, int32, dated } = read;
  return {
    keys,
    columns: columns.map(
      (column, j) =>
        (dated[j] === false && echoOf(column, keys[j] as string, items)) ||
        typed(column, numeric[j] === true, int32[j] === true),
    ),
    length: values.length,
    dates: dated.includes(true),
  };
}

/** A batch read into one array per key, and what each key's values are. */
interface ReadColumns {
  readonly keys: string[];
  readonly columns: unknown[][];
  /** Per key: every value is a number. */
  readonly numeric: boolean[];
  /** Per key: every value is a whole number that fits 32 bits, and none is -0. */
  readonly int32: boolean[];
  /** Per key: some value is a Date. */
  readonly dated: boolean[];
}

/**
 * `values` read key by key into columns, each record checked as it is read (see above);
 * undefined when they are not flat records of one shape.
 */
function readColumns(values: readonly unknown[]): ReadColumns | undefined {
  const keys = keysOfBatch(values);
  if (keys === undefined) return undefined;
  const length = values.length;
  const width = keys.length;
  const columns: unknown[][] = [];
  const numeric: boolean[] = [];
  const int32: boolean[] = [];
  const dated: boolean[] = [];
  for (let j = 0; j < width; j++) {
    columns.push(new Array(length));
    numeric.push(true);
    int32.push(true);
    dated.push(false);
  }
  for (let i = 0; i < length; i++) {
    const record = values[i] as Record<string, unknown>;
    if (i > 0 && !isRecord(record)) return undefined;
    let j = 0;
    for (const key in record) {
      if (j === width || key !== keys[j]) return undefined;
      const value = record[key];
      const kind = kindOf(value);
      if (kind === REFUSED) return undefined;
      if (kind === DATE) dated[j] = true;
      if (typeof value !== 'number') numeric[j] = false;
      else if (int32[j] && ((value | 0) !== value || (value === 0 && 1 / value < 0))) int32[j] = false;
      (columns[j] as unknown[])[i] = value;
      j++;
    }
    if (j !== width) return undefined;
  }
  return { keys, columns, numeric, int32, dated };
}

/**
 * An items' column whose values `column` holds exactly, as an Echo: the one of the same key, else
 * any other (a task that renames a field, `{ customerId: row.customer_id }`); else undefined. A
 * column that is no echo mostly differs at its first value, so looking costs little.
 */
function echoOf(column: readonly unknown[], key: string, items: RecordColumns | undefined): Echo | undefined {
  if (items === undefined || column.length > items.length) return undefined;
  const same = items.keys.indexOf(key);
  if (same !== -1 && holdsAll(column, items.columns[same] as Column)) return { echo: same };
  for (let k = 0; k < items.columns.length; k++)
    if (k !== same && holdsAll(column, items.columns[k] as Column)) return { echo: k };
  return undefined;
}

/** True when `column` holds `sent`'s values, record for record (Object.is: -0 and NaN as they are). */
function holdsAll(column: readonly unknown[], sent: Column): boolean {
  if (isEcho(sent)) return false;
  for (let i = 0; i < column.length; i++) if (!Object.is(column[i], sent[i])) return false;
  return true;
}

export function isEcho(column: Column): column is Echo {
  return !Array.isArray(column) && !ArrayBuffer.isView(column);
}

/**
 * What `fromColumns(toColumns(values))` gives, with Dates cloned as a crossing clones them: the
 * copies the head start makes never leave the calling thread, so its columns are read and built
 * into records again at once, numbers as they are and no column echoed. Undefined exactly when
 * `toColumns` is.
 */
export function copyRecords(values: readonly unknown[]): unknown[] | undefined {
  const read = readColumns(values);
  if (read === undefined) return undefined;
  const { keys, columns, dated } = read;
  if (dated.includes(true)) {
    // One copy a Date, however many records share it, as a clone of the batch keeps them shared.
    const copies = new Map<Date, Date>();
    const copyOf = (value: unknown): unknown => {
      if (!isDate(value)) return value;
      let copy = copies.get(value);
      if (copy === undefined) {
        copy = new Date(getTime.call(value));
        copies.set(value, copy);
      }
      return copy;
    };
    for (let j = 0; j < keys.length; j++) if (dated[j]) columns[j] = (columns[j] as unknown[]).map(copyOf);
  }
  return buildRecords(keys, columns, values.length);
}

/**
 * A column of numbers as one block of memory. Whole numbers go as an Int32Array: read back from a
 * Float64Array they are doubles, and a task whose loop runs to `item.n` ran 13% slower on records
 * holding its `n` as a double than on the same records as a clone gives them (bench/RESULTS.md).
 */
function typed(column: unknown[], numeric: boolean, int32: boolean): unknown[] | Int32Array | Float64Array {
  if (!numeric) return column;
  return int32 ? Int32Array.from(column as number[]) : Float64Array.from(column as number[]);
}

/**
 * The records again: new plain objects, keys in order. An Echo column is read from `items`, the
 * columns this side sent the batch's items as.
 */
export function fromColumns(
  { keys, columns: given, length }: RecordColumns,
  items?: RecordColumns,
): unknown[] {
  const columns = given.map((column) => (isEcho(column) ? echoed(column, items) : column));
  return buildRecords(keys, columns, length);
}

/** New plain objects, keys in order: record `i` holds `columns[j][i]` under `keys[j]`. */
function buildRecords(
  keys: readonly string[],
  columns: readonly ArrayLike<unknown>[],
  length: number,
): unknown[] {
  const build = recordBuilder(keys);
  if (build !== undefined) return build(columns, length);
  const width = keys.length;
  const define = needsDefine(keys);
  const records: unknown[] = new Array(length);
  for (let i = 0; i < length; i++) {
    const record: Record<string, unknown> = {};
    for (let j = 0; j < width; j++) {
      const key = keys[j] as string;
      const value = (columns[j] as ArrayLike<unknown>)[i];
      if (define) defineValue(record, key, value);
      else record[key] = value;
    }
    records[i] = record;
  }
  return records;
}

function echoed({ echo }: Echo, items: RecordColumns | undefined): ArrayLike<unknown> {
  const column = items?.columns[echo];
  // Only a worker echoes, and only columns of the batch this side sent it.
  if (column === undefined || isEcho(column))
    throw new Error(`Results echo column ${echo} of items never sent`);
  return column;
}

/** True for the values carried as they are; a `RecordColumns` otherwise. */
export function isColumns(values: unknown[] | RecordColumns): values is RecordColumns {
  return !Array.isArray(values);
}

/**
 * The keys of a batch's first record, when the batch may go as columns as far as that record and
 * the rules for the whole batch tell (see above); undefined otherwise.
 */
function keysOfBatch(values: readonly unknown[]): string[] | undefined {
  if (values.length < MIN_RECORDS || !isRecord(values[0]) || inheritsEnumerable()) return undefined;
  const keys: string[] = [];
  for (const key in values[0] as object) {
    if (key === '__proto__') return undefined;
    keys.push(key);
  }
  return keys;
}

/** What a record's value is to the columns: carried as it is, a Date, or refused. */
const PRIMITIVE = 0;
const DATE = 1;
const REFUSED = 2;

function kindOf(value: unknown): number {
  const type = typeof value;
  if (type === 'object' && value !== null) return isDate(value) ? DATE : REFUSED;
  return type === 'function' || type === 'symbol' ? REFUSED : PRIMITIVE;
}

const getTime = Date.prototype.getTime;

/**
 * A key Object.prototype also has (`toString`, or one a program added) is defined on a rebuilt
 * record, as a clone defines it: assigned, it would call an inherited setter, or throw on a
 * frozen prototype.
 */
function needsDefine(keys: readonly string[]): boolean {
  return keys.some((key) => key in Object.prototype);
}

function defineValue(record: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
}

/** A plain object: a structured clone copies its own enumerable string keys and nothing else. */
function isRecord(value: unknown): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    !isProxy(value) &&
    Object.getPrototypeOf(value) === Object.prototype
  );
}

/** A key added to Object.prototype as enumerable would show in every record's for-in, never in a clone. */
function inheritsEnumerable(): boolean {
  for (const _ in Object.prototype) return true;
  return false;
}
