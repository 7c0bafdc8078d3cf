// Every public export of sluice, by name.

export type { ChannelOptions } from './core/channel.js';
export { Channel, EMPTY } from './core/channel.js';
export type { Clock, TimerHandle } from './core/clock.js';
export { sleep, systemClock } from './core/clock.js';
export { withDeadline } from './core/deadline.js';
export type { ErrorCode, ErrorDetails, ErrorName, SluiceErrorClass, SluiceErrorOf } from './core/errors.js';
export {
  AbortError,
  ChannelClosedError,
  DeadLetterError,
  InvalidArgTypeError,
  InvalidArgValueError,
  InvalidSourceError,
  isSluiceError,
  SinkStartedError,
  SluiceError,
  SourceConsumedError,
  SourceError,
  StageError,
  TerminalError,
  TimeoutError,
  UnknownOptionError,
} from './core/errors.js';
export type { RateLimiterOptions } from './core/rate-limiter.js';
export { RateLimiter } from './core/rate-limiter.js';
export type { RetryCallOptions, RetryOptions } from './core/retry.js';
export { parseRetryAfter, retry, retryAfterMs } from './core/retry.js';
export { Semaphore } from './core/semaphore.js';
export { Flow, flow, Sink } from './flow/flow.js';
export type { RunReport, RunStatus, StageReport } from './flow/report.js';
export type { RunOptions } from './flow/run.js';
export type { Source } from './flow/source.js';
export type { StageKind } from './flow/stage-spec.js';
export type {
  BatchOptions,
  DeadLetterHandler,
  ErrorPolicy,
  StageContext,
  StageOptions,
  StageRateLimit,
} from './flow/types.js';
export type { MapOptions } from './map.js';
export { map, mapSkip } from './map.js';
