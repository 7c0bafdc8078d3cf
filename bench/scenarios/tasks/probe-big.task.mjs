import { defineTask } from 'sluice/task';
import { threadId } from 'node:worker_threads';
const t0 = performance.timeOrigin;
export default defineTask((n) => {
  const start = performance.timeOrigin + performance.now();
  let s = 0;
  for (let i = 0; i < n; i++) s += i * i;
  const end = performance.timeOrigin + performance.now();
  return [s, threadId, start, end];
});
