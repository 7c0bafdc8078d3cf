/**
 * Every error sluice raises carries a stable, literal-typed `code`. The classes are generated from
 * the one table below, so adding an error is one line, and no two classes drift apart.
 *
 * `instanceof SluiceError` is true for every one of them, including the TypeError and RangeError
 * subclasses used for bad options, and it survives two copies of the package in one process: the
 * check reads a brand registered with `Symbol.for`, not the prototype chain. So does `instanceof`
 * each generated class (the brand, its name and its code).
 */

const brand = Symbol.for('sluice.error');

/** Extra fields an error may carry: the stage and item it concerns, attempts made, and so on. */
export interface ErrorDetails {
  cause?: unknown;
  /** The stage the error concerns, by name. */
  stage?: string;
  /** Position of the item in the stage's input, counted from 0. */
  index?: number;
  /** The item itself. */
  item?: unknown;
  /** Attempts made before giving up. */
  attempts?: number;
  [key: string]: unknown;
}

/** The base class of every sluice error. */
export class SluiceError extends Error {
  declare readonly code: ErrorCode;
  declare readonly stage?: string;
  declare readonly index?: number;
  declare readonly item?: unknown;
  declare readonly attempts?: number;

  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    brandError(this, details);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    // `this` is the class on the right of instanceof: the base checks the brand, subclasses the prototype.
    // biome-ignore lint/complexity/noThisInStatic: the receiver is the point here.
    if (this === SluiceError) return isBranded(value);
    // biome-ignore lint/complexity/noThisInStatic: as above.
    return Function.prototype[Symbol.hasInstance].call(this, value);
  }
}

function isBranded(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  try {
    return (value as Record<symbol, unknown>)[brand] === true;
  } catch {
    // A thrown revoked Proxy, or a getter that throws: whatever it is, it is not one of ours.
    return false;
  }
}

function brandError(error: Error, details: ErrorDetails): void {
  Object.defineProperty(error, brand, { value: true });
  for (const [key, value] of Object.entries(details)) {
    if (key === 'cause' || value === undefined) continue;
    // The item can be large or sensitive: reachable, but kept out of JSON and console output.
    Object.defineProperty(error, key, {
      value,
      enumerable: key !== 'item',
      writable: true,
      configurable: true,
    });
  }
}

type Base = 'Error' | 'TypeError' | 'RangeError';

/** The one table: class name, code, and the built-in class it extends. */
const table = {
  InvalidArgTypeError: { code: 'SLUICE_ERR_INVALID_ARG_TYPE', base: 'TypeError' },
  InvalidArgValueError: { code: 'SLUICE_ERR_INVALID_ARG_VALUE', base: 'RangeError' },
  // map()'s concurrency out of range: p-map throws a TypeError there, and code moving from it may catch by class.
  InvalidConcurrencyError: { code: 'SLUICE_ERR_INVALID_ARG_VALUE', base: 'TypeError' },
  UnknownOptionError: { code: 'SLUICE_ERR_UNKNOWN_OPTION', base: 'TypeError' },
  InvalidSourceError: { code: 'SLUICE_ERR_INVALID_SOURCE', base: 'TypeError' },
  SourceConsumedError: { code: 'SLUICE_ERR_SOURCE_CONSUMED', base: 'Error' },
  SourceError: { code: 'SLUICE_ERR_SOURCE', base: 'Error' },
  StageError: { code: 'SLUICE_ERR_STAGE', base: 'Error' },
  TerminalError: { code: 'SLUICE_ERR_TERMINAL', base: 'Error' },
  DeadLetterError: { code: 'SLUICE_ERR_DEAD_LETTER', base: 'Error' },
  TimeoutError: { code: 'SLUICE_ERR_TIMEOUT', base: 'Error' },
  AbortError: { code: 'SLUICE_ERR_ABORTED', base: 'Error' },
  ChannelClosedError: { code: 'SLUICE_ERR_CHANNEL_CLOSED', base: 'Error' },
  SinkStartedError: { code: 'SLUICE_ERR_SINK_STARTED', base: 'Error' },
  TaskNotFoundError: { code: 'SLUICE_ERR_TASK_NOT_FOUND', base: 'Error' },
  TaskModuleError: { code: 'SLUICE_ERR_TASK_MODULE', base: 'Error' },
  TaskSetupError: { code: 'SLUICE_ERR_TASK_SETUP', base: 'Error' },
  WorkerCrashedError: { code: 'SLUICE_ERR_WORKER_CRASHED', base: 'Error' },
  DataCloneError: { code: 'SLUICE_ERR_DATA_CLONE', base: 'Error' },
  PoolClosedError: { code: 'SLUICE_ERR_POOL_CLOSED', base: 'Error' },
  MissingPeerError: { code: 'SLUICE_ERR_MISSING_PEER', base: 'Error' },
  UnreadableValueError: { code: 'SLUICE_ERR_UNREADABLE_VALUE', base: 'Error' },
  RetryPolicyError: { code: 'SLUICE_ERR_RETRY_POLICY', base: 'Error' },
  UnknownTaskError: { code: 'SLUICE_ERR_UNKNOWN_TASK', base: 'Error' },
  PayloadTooLargeError: { code: 'SLUICE_ERR_PAYLOAD_TOO_LARGE', base: 'Error' },
  MaxDeliveriesError: { code: 'SLUICE_ERR_MAX_DELIVERIES', base: 'Error' },
  NoWorkersError: { code: 'SLUICE_ERR_NO_WORKERS', base: 'Error' },
  BrokerError: { code: 'SLUICE_ERR_BROKER', base: 'Error' },
} as const satisfies Record<string, { code: `SLUICE_ERR_${string}`; base: Base }>;

type Table = typeof table;
export type ErrorName = keyof Table;
/** Every code sluice can raise. */
export type ErrorCode = Table[ErrorName]['code'];

/** The instance type of a generated class: its base's fields, the details, and its literal code. */
export type SluiceErrorOf<N extends ErrorName> = (Table[N]['base'] extends 'TypeError'
  ? TypeError
  : Table[N]['base'] extends 'RangeError'
    ? RangeError
    : Error) &
  SluiceError & { readonly code: Table[N]['code']; readonly name: N };

export interface SluiceErrorClass<N extends ErrorName> {
  new (message: string, details?: ErrorDetails): SluiceErrorOf<N>;
  readonly code: Table[N]['code'];
  prototype: SluiceErrorOf<N>;
}

const builtIns = { Error: SluiceError, TypeError, RangeError } as const;
/** Every class generate() made, by name: all of the table, since each is made once at load. */
const generated = new Map<ErrorName, SluiceErrorClass<ErrorName>>();

function generate<N extends ErrorName>(name: N): SluiceErrorClass<N> {
  const { code, base } = table[name];
  const Parent = builtIns[base] as typeof Error;
  const branded = base !== 'Error';
  const Generated = class extends Parent {
    static readonly code = code;
    constructor(message: string, details: ErrorDetails = {}) {
      // Error and its built-in subclasses read only `cause` from their second argument.
      super(message, details);
      // SluiceError subclasses were branded by the SluiceError constructor already.
      if (branded) brandError(this, details);
    }
  };
  Object.defineProperty(Generated, 'name', { value: name });
  Object.defineProperty(Generated.prototype, 'name', { value: name, writable: true, configurable: true });
  Object.defineProperty(Generated.prototype, 'code', { value: code, writable: true, configurable: true });
  // As for SluiceError, `instanceof` holds for the same class from another copy of the package in
  // the process (each entry point is bundled on its own, and a user's module may bring its own
  // sluice): the brand, the name and the code, not the prototype. A user's subclass is checked by
  // its prototype.
  Object.defineProperty(Generated, Symbol.hasInstance, {
    value: function hasInstance(this: unknown, value: unknown): boolean {
      if (this !== Generated) return Function.prototype[Symbol.hasInstance].call(this, value);
      return (
        isBranded(value) &&
        (value as { name?: unknown }).name === name &&
        (value as { code?: unknown }).code === code
      );
    },
  });
  generated.set(name, Generated as unknown as SluiceErrorClass<ErrorName>);
  return Generated as unknown as SluiceErrorClass<N>;
}

export const InvalidArgTypeError = generate('InvalidArgTypeError');
export type InvalidArgTypeError = SluiceErrorOf<'InvalidArgTypeError'>;
export const InvalidArgValueError = generate('InvalidArgValueError');
export type InvalidArgValueError = SluiceErrorOf<'InvalidArgValueError'>;
export const InvalidConcurrencyError = generate('InvalidConcurrencyError');
export type InvalidConcurrencyError = SluiceErrorOf<'InvalidConcurrencyError'>;
export const UnknownOptionError = generate('UnknownOptionError');
export type UnknownOptionError = SluiceErrorOf<'UnknownOptionError'>;
export const InvalidSourceError = generate('InvalidSourceError');
export type InvalidSourceError = SluiceErrorOf<'InvalidSourceError'>;
export const SourceConsumedError = generate('SourceConsumedError');
export type SourceConsumedError = SluiceErrorOf<'SourceConsumedError'>;
export const SourceError = generate('SourceError');
export type SourceError = SluiceErrorOf<'SourceError'>;
export const StageError = generate('StageError');
export type StageError = SluiceErrorOf<'StageError'>;
export const TerminalError = generate('TerminalError');
export type TerminalError = SluiceErrorOf<'TerminalError'>;
export const DeadLetterError = generate('DeadLetterError');
export type DeadLetterError = SluiceErrorOf<'DeadLetterError'>;
export const TimeoutError = generate('TimeoutError');
export type TimeoutError = SluiceErrorOf<'TimeoutError'>;
export const AbortError = generate('AbortError');
export type AbortError = SluiceErrorOf<'AbortError'>;
export const ChannelClosedError = generate('ChannelClosedError');
export type ChannelClosedError = SluiceErrorOf<'ChannelClosedError'>;
export const SinkStartedError = generate('SinkStartedError');
export type SinkStartedError = SluiceErrorOf<'SinkStartedError'>;
export const TaskNotFoundError = generate('TaskNotFoundError');
export type TaskNotFoundError = SluiceErrorOf<'TaskNotFoundError'>;
export const TaskModuleError = generate('TaskModuleError');
export type TaskModuleError = SluiceErrorOf<'TaskModuleError'>;
export const TaskSetupError = generate('TaskSetupError');
export type TaskSetupError = SluiceErrorOf<'TaskSetupError'>;
export const WorkerCrashedError = generate('WorkerCrashedError');
export type WorkerCrashedError = SluiceErrorOf<'WorkerCrashedError'>;
export const DataCloneError = generate('DataCloneError');
export type DataCloneError = SluiceErrorOf<'DataCloneError'>;
export const PoolClosedError = generate('PoolClosedError');
export type PoolClosedError = SluiceErrorOf<'PoolClosedError'>;
/** An optional peer dependency a feature needs (pino for `sluice/log`, tsx for TypeScript tasks) is not installed. */
export const MissingPeerError = generate('MissingPeerError');
export type MissingPeerError = SluiceErrorOf<'MissingPeerError'>;
/** A remote worker was sent a task module it does not serve (another name, or another version of the file). */
export const UnknownTaskError = generate('UnknownTaskError');
export type UnknownTaskError = SluiceErrorOf<'UnknownTaskError'>;
/** An item or a result is too big for one message of the broker. */
export const PayloadTooLargeError = generate('PayloadTooLargeError');
export type PayloadTooLargeError = SluiceErrorOf<'PayloadTooLargeError'>;
/** A remote item was delivered as many times as allowed and never answered: it crashed or stalled its worker each time. */
export const MaxDeliveriesError = generate('MaxDeliveriesError');
export type MaxDeliveriesError = SluiceErrorOf<'MaxDeliveriesError'>;
/** No remote worker serving the task announced itself in time. */
export const NoWorkersError = generate('NoWorkersError');
export type NoWorkersError = SluiceErrorOf<'NoWorkersError'>;
/** The message broker refused or failed a request that sluice cannot retry. */
export const BrokerError = generate('BrokerError');
export type BrokerError = SluiceErrorOf<'BrokerError'>;

/** A function threw something that cannot be read (a revoked Proxy, a throwing getter); it stands in for it. */
export const UnreadableValueError = generate('UnreadableValueError');
export type UnreadableValueError = SluiceErrorOf<'UnreadableValueError'>;
/** A retry policy's own function (`retryable`) threw; the item's error is its `cause`. */
export const RetryPolicyError = generate('RetryPolicyError');
export type RetryPolicyError = SluiceErrorOf<'RetryPolicyError'>;

/** Every class name in the table. */
export const errorNames = Object.keys(table) as ErrorName[];

/**
 * The generated class called `name`, or undefined for any other name: how an error that crossed
 * a thread, a process or a broker is rebuilt as its own class (see `error-wire.ts`).
 */
export function errorClassNamed(name: string): SluiceErrorClass<ErrorName> | undefined {
  return Object.hasOwn(table, name) ? generated.get(name as ErrorName) : undefined;
}

/** True when `value` is a sluice error, optionally with the given code. */
export function isSluiceError<C extends ErrorCode>(
  value: unknown,
  code?: C,
): value is SluiceError & { code: C } {
  return isBranded(value) && (code === undefined || (value as { code: unknown }).code === code);
}

/** Turns whatever an AbortSignal was aborted with into a coded error. */
export function abortReason(signal: { readonly reason: unknown }): Error {
  const reason: unknown = signal.reason;
  if (isBranded(reason)) return reason as Error;
  return new AbortError('The operation was aborted', { cause: reason });
}

/** The message of an error, or the thrown value as a string when it is not an Error. Never throws. */
export function errorMessage(error: unknown): string {
  try {
    return error instanceof Error ? String(error.message) : String(error);
  } catch {
    return 'a thrown value that cannot be read';
  }
}

/**
 * What a function threw, as the error policy may read it: the value itself, or, when reading it
 * throws (a revoked Proxy, a getter that throws), an UnreadableValueError in its place, so a
 * contrived throwable is counted and reported like any other failure instead of escaping.
 */
export function readableThrown(thrown: unknown): unknown {
  if ((typeof thrown !== 'object' && typeof thrown !== 'function') || thrown === null) return thrown;
  try {
    Reflect.getPrototypeOf(thrown);
    for (const key of ['name', 'message', 'code', brand]) void (thrown as Record<PropertyKey, unknown>)[key];
    return thrown;
  } catch (error) {
    return new UnreadableValueError(
      `The function threw a value that cannot be read (reading it threw: ${errorMessage(error)})`,
      { cause: error },
    );
  }
}
