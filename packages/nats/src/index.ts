// Every public export of @sluice/nats, by name.

export type { JetStreamOptions, JetStreamProvider } from './jetstream-provider.js';
export { jetstream } from './jetstream-provider.js';
export type { RemoteStageStats, WorkerCounts } from './remote-executor.js';
export type { TaskIdentity } from './task-identity.js';
export { identifyTask } from './task-identity.js';
export type { Worker, WorkerOptions, WorkerStats } from './worker.js';
export { startWorker } from './worker.js';
export type { WorkerInfo } from './worker-info.js';
