/** Counts the lines of one chunk of a log (whole lines only) that contain the needle. */
import { defineTask } from 'sluice/task';
import { countOccurrences } from '../count.js';

export interface CountItem {
  chunk: Uint8Array;
  needle: string;
}

export default defineTask((item: CountItem): number => countOccurrences(item.chunk, item.needle));
