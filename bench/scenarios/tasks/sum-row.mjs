// The CPU benchmark's task over rows, for the worker pools that take a plain function (piscina,
// tinypool): { id, n, tag } in, { id, sum, tag } out, the same work as sum.mjs.
import sum from './sum.mjs';

export default function sumRow(row) {
  return { id: row.id, sum: sum(row.n), tag: row.tag };
}
