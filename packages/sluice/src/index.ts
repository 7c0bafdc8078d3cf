// Every public export of sluice, by name.

export type { ChannelOptions } from './core/channel.js';
export { Channel, EMPTY } from './core/channel.js';
export type { Clock, TimerHandle } from './core/clock.js';
export { sleep, systemClock } from './core/clock.js';
export { withDeadline } from './core/deadline.js';
export type { WireError } from './core/error-wire.js';
export { fromWire, toWire } from './core/error-wire.js';
export type { ErrorCode, ErrorDetails, ErrorName, SluiceErrorClass, SluiceErrorOf } from './core/errors.js';
export {
  AbortError,
  BrokerError,
  ChannelClosedError,
  DataCloneError,
  DeadLetterError,
  InvalidArgTypeError,
  InvalidArgValueError,
  InvalidConcurrencyError,
  InvalidSourceError,
  isSluiceError,
  MaxDeliveriesError,
  MissingPeerError,
  NoWorkersError,
  PayloadTooLargeError,
  PoolClosedError,
  RetryPolicyError,
  SinkStartedError,
  SluiceError,
  SourceConsumedError,
  SourceError,
  StageError,
  TaskModuleError,
  TaskNotFoundError,
  TaskSetupError,
  TerminalError,
  TimeoutError,
  UnknownOptionError,
  UnknownTaskError,
  UnreadableValueError,
  WorkerCrashedError,
} from './core/errors.js';
export type { RateLimiterOptions } from './core/rate-limiter.js';
export { RateLimiter } from './core/rate-limiter.js';
export type { RetryCallOptions, RetryOptions } from './core/retry.js';
export { MAX_RETRY_AFTER_MS, parseRetryAfter, retry, retryAfterMs } from './core/retry.js';
export { Semaphore } from './core/semaphore.js';
export type { CpuOptions, CpuTask } from './exec/cpu.js';
export { cpu } from './exec/cpu.js';
export type {
  BatchOutcome,
  BatchRequest,
  Executor,
  ExecutorContext,
  ExecutorProvider,
  ResolvedTask,
} from './exec/executor.js';
export type { ProcessesOptions, ThreadsOptions } from './exec/local-providers.js';
export { inProcess, processes, threads } from './exec/local-providers.js';
export type { Isolation } from './exec/pool/worker-handle.js';
export type { RunItemOptions, WorkerPoolOptions } from './exec/pool/worker-pool.js';
export { WorkerPool } from './exec/pool/worker-pool.js';
export type { TaskContext, TaskDefinition, TaskFunction, TaskOptions } from './exec/task.js';
export { defineTask, move } from './exec/task.js';
export type { TunableStage } from './flow/flow.js';
export { Flow, flow, Sink, tunableStage } from './flow/flow.js';
export type { RunOptions } from './flow/run.js';
export { withRunSignal } from './flow/run-signal.js';
export type { Source } from './flow/source.js';
export type {
  BatchOptions,
  CpuStageOptions,
  DeadLetterHandler,
  ErrorPolicy,
  StageContext,
  StageOptions,
  StageRateLimit,
} from './flow/types.js';
export type { LimitReport } from './limit/adaptive-limiter.js';
export type { AdaptiveConcurrency, AdaptiveOptions } from './limit/adaptive-options.js';
export { adaptive } from './limit/adaptive-options.js';
export { isOverload } from './limit/overload.js';
export type { MapOptions } from './map.js';
export { map, mapSkip } from './map.js';
export type { Bottleneck, Boundness, Classification } from './observe/classify.js';
export type { EventLoopReport } from './observe/event-loop.js';
export { formatReport } from './observe/format-report.js';
export type { Logger } from './observe/logger.js';
export type { ProgressOptions, ProgressSnapshot, StageSnapshot } from './observe/progress.js';
export { formatProgress } from './observe/progress.js';
export type { InsightWarning, StageInsight } from './observe/run-insight.js';
export type { RunReport, RunStatus, StageKind, StageReport } from './observe/run-report.js';
export type { LatencySummary } from './observe/stage-metrics.js';
export type { TuneLevel, TuneOptions, TuneResult, TuneTarget } from './tune/tune.js';
export { tune } from './tune/tune.js';
