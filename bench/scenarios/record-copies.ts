/**
 * What the head start's copies of rows cost the calling thread: batches of small records
 * (`{ id, n, tag }`) copied in, the task's work (a sum of i*i below n, a result `{ id, sum, tag }`),
 * the results copied out, as head-start.ts does for every piece it runs. One mode a process, so
 * each starts cold as a job does:
 *   node --import tsx bench/scenarios/record-copies.ts <none|columns|records|clone> [items] [batch]
 * none: no copies (the floor); columns: built as columns and read back (`fromColumns(toColumns())`);
 * records: copied one by one (`copyRecords`); clone: `structuredClone`.
 * Prints one JSON line: { mode, items, batch, usPerItem }.
 */
import { copyRecords, fromColumns, toColumns } from '../../packages/sluice/src/exec/pool/record-columns.js';

const [mode = 'records', itemsArg = '100000', batchArg = '355'] = process.argv.slice(2);
const items = Number(itemsArg);
const batch = Number(batchArg);

const copies: Record<string, (values: readonly unknown[]) => unknown[]> = {
  none: (values) => values as unknown[],
  columns: (values) => {
    const columns = toColumns(values);
    if (columns === undefined) throw new Error('not flat records');
    return fromColumns(columns);
  },
  records: (values) => {
    const copied = copyRecords(values);
    if (copied === undefined) throw new Error('not flat records');
    return copied;
  },
  clone: (values) => structuredClone(values) as unknown[],
};
const copy = copies[mode];
if (copy === undefined) throw new Error(`unknown mode ${mode}; one of ${Object.keys(copies)}`);

interface Row {
  id: number;
  n: number;
  tag: string;
}
const batches: Row[][] = [];
for (let from = 0; from < items; from += batch)
  batches.push(
    Array.from({ length: Math.min(batch, items - from) }, (_, i) => ({
      id: from + i,
      n: 2_000,
      tag: `item-${from + i}`,
    })),
  );

let checksum = 0;
const started = performance.now();
for (const rows of batches) {
  const copied = copy(rows) as Row[];
  const results = new Array<unknown>(copied.length);
  for (let i = 0; i < copied.length; i++) {
    const row = copied[i] as Row;
    let sum = 0;
    for (let k = 0; k < row.n; k++) sum += k * k;
    results[i] = { id: row.id, sum, tag: row.tag };
  }
  checksum += copy(results).length;
}
const ms = performance.now() - started;
if (checksum !== items) throw new Error(`${checksum} results for ${items} items`);
console.log(JSON.stringify({ mode, items, batch, usPerItem: Math.round((ms * 1000 * 1000) / items) / 1000 }));
