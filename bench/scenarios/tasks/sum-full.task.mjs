// sum.task.mjs as task modules written before sluice/task import it: from the whole library.
import { defineTask } from 'sluice';

export default defineTask((n) => {
  let s = 0;
  for (let i = 0; i < n; i++) s += i * i;
  return s;
});
