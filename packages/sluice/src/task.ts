// What a task module needs, and nothing else: `sluice/task`. Every worker of a pool imports the
// task module, so what it imports is paid once per worker start; this entry point loads a handful
// of modules where `sluice` loads them all (about 60), which is most of what starting a worker costs.
export type { TaskContext, TaskDefinition, TaskFunction, TaskOptions } from './exec/task.js';
export { defineTask, move } from './exec/task.js';
