// The benchmark's task as users of the compiled library write it: plain ESM, no TypeScript loader.
import { defineTask } from 'sluice/task';

export default defineTask((n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += i * i;
  return s;
});
