/** Fetches one URL from the lab's delay server; with `compute`, then runs the sum of squares it names. */
import { Agent } from 'node:http';
import { defineTask } from 'sluice/task';
import { httpGet } from '../http-get.js';
import { sumOfSquares } from '../sum-of-squares.js';

export interface FetchItem {
  url: string;
  compute: boolean;
}

export default defineTask(
  async (item: FetchItem, ctx): Promise<number> => {
    const n = Number(await httpGet(item.url, ctx.state.agent));
    return item.compute ? sumOfSquares(n) : n;
  },
  { setup: () => ({ agent: new Agent({ keepAlive: true, maxSockets: 1 }) }) },
);
