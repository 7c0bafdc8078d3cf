/** Reads one byte range of a log itself and counts the lines that start in it and contain the needle. */
import { defineTask } from 'sluice/task';
import { countOccurrences } from '../count.js';
import { type ByteRange, lineChunks } from '../line-chunks.js';

export interface RangeItem extends ByteRange {
  path: string;
  needle: string;
  chunkBytes: number;
}

export default defineTask(async (item: RangeItem, ctx): Promise<number> => {
  let count = 0;
  for await (const chunk of lineChunks(item.path, item.chunkBytes, ctx.signal, item))
    count += countOccurrences(chunk, item.needle);
  return count;
});
