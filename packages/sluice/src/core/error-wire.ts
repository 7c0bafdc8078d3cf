/**
 * Errors as they cross a boundary: a worker thread, a child process, a message broker. Structured
 * clone keeps an Error's message and stack but drops its class, its `code` and its own fields, and
 * a broker carries JSON, which keeps nothing of an Error at all. So every executor sends errors as
 * plain data made by `toWire` and rebuilds them with `fromWire`: one format, one implementation.
 *
 * What survives: the class of every sluice error (by name, checked against its code), the name,
 * message and stack of any other error, its `code`, its own enumerable fields (`stage`, `index`,
 * `attempts`, `path`, ...) and a run's `report`, and the whole `cause` chain. What does not: the
 * `item` a sluice error may hold (it can be large or sensitive, and it is not enumerable for the
 * same reason), functions, and anything JSON cannot say, which is turned into a string.
 */
import { errorClassNamed, errorMessage } from './errors.js';

/** An error as plain data: safe for structured clone and for `JSON.stringify`. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  /** Own enumerable fields of the error besides the above, JSON-safe. */
  readonly fields?: Record<string, unknown>;
  /** A failed run's report, which its error holds as a hidden property. */
  readonly report?: unknown;
  readonly cause?: WireError;
  /** Set when what was thrown is not an Error: the thrown value, JSON-safe. */
  readonly thrown?: unknown;
}

/** Causes deeper than this are cut: a cycle or a pathological chain must not crash the sender. */
const MAX_CAUSES = 8;
/** Nesting kept inside one field; deeper values become strings. */
const MAX_DEPTH = 16;
/** Fields every Error has, carried by the wire's own keys. */
const reserved = new Set(['name', 'message', 'stack', 'code', 'cause']);

/**
 * Turns anything thrown into plain data that structured clone and JSON both carry.
 * @example port.postMessage({ error: toWire(error) })
 */
export function toWire(error: unknown): WireError {
  return wireOf(error, 0);
}

function wireOf(error: unknown, depth: number): WireError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: errorMessage(error), thrown: jsonSafe(error, 0, new Set()) };
  }
  const fields: Record<string, unknown> = {};
  let hasFields = false;
  for (const key of Object.keys(error)) {
    if (reserved.has(key)) continue;
    const value = jsonSafe((error as unknown as Record<string, unknown>)[key], 0, new Set());
    if (value === undefined) continue;
    fields[key] = value;
    hasFields = true;
  }
  const report = (error as { report?: unknown }).report;
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: unknown }).cause;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    ...(hasFields ? { fields } : {}),
    ...(report === undefined || 'report' in fields ? {} : { report: jsonSafe(report, 0, new Set()) }),
    ...(cause === undefined || depth >= MAX_CAUSES ? {} : { cause: wireOf(cause, depth + 1) }),
  };
}

/**
 * Rebuilds an error sent with `toWire`: a sluice error as its own class (so `instanceof` and
 * `isSluiceError` work on this side), any other as an Error with the same name, code and fields.
 */
export function fromWire(wire: WireError): Error {
  const cause = wire.cause === undefined ? undefined : fromWire(wire.cause);
  const Known = errorClassNamed(wire.name);
  let error: Error;
  if (Known !== undefined && (wire.code === undefined || wire.code === Known.code)) {
    error = new Known(wire.message, { ...wire.fields, cause });
  } else {
    error = new Error(wire.message, cause === undefined ? undefined : { cause });
    Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true });
    if (wire.code !== undefined) defineField(error, 'code', wire.code);
    for (const [key, value] of Object.entries(wire.fields ?? {})) defineField(error, key, value);
  }
  // Hidden, as on the sender's side, so that logging the error stays short.
  if (wire.report !== undefined) {
    Object.defineProperty(error, 'report', { value: wire.report, writable: true, configurable: true });
  }
  if ('thrown' in wire) defineField(error, 'thrown', wire.thrown);
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

function defineField(error: Error, key: string, value: unknown): void {
  Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A copy of `value` that JSON keeps as it is; undefined for what it cannot say at all. */
function jsonSafe(value: unknown, depth: number, seen: Set<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return String(value);
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  if (object instanceof Error) return wireOf(object, MAX_CAUSES);
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  if (depth >= MAX_DEPTH || seen.has(object)) return String(object);
  seen.add(object);
  try {
    if (Array.isArray(object)) return object.map((entry) => jsonSafe(entry, depth + 1, seen) ?? null);
    const prototype = Object.getPrototypeOf(object);
    if (prototype !== Object.prototype && prototype !== null) return String(object);
    const copy: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(object)) {
      const safe = jsonSafe(entry, depth + 1, seen);
      if (safe !== undefined) copy[key] = safe;
    }
    return copy;
  } finally {
    seen.delete(object);
  }
}
