// The benchmark's task over object items, as most users' items are: { id, n, tag } in, { id, sum, tag } out.
import { defineTask } from 'sluice/task';

export default defineTask((item) => {
  let s = 0;
  for (let i = 0; i < item.n; i++) s += i * i;
  return { id: item.id, sum: s, tag: item.tag };
});
