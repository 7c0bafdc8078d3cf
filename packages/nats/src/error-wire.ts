/**
 * Errors as JSON, for results that cross the broker. A sluice error is rebuilt as its own class
 * (looked up by name among sluice's public error classes, checked against its code), so
 * `isSluiceError(e, 'SLUICE_ERR_TIMEOUT')` holds on the coordinator for an item that timed out on a
 * worker; any other error comes back as an Error with the same name, message, code and fields.
 * The `item` a sluice error may hold is not sent: it can be large or sensitive.
 */
import * as sluice from 'sluice';

export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly fields?: Record<string, unknown>;
  readonly cause?: WireError;
}

type ErrorClass = new (message: string, details?: sluice.ErrorDetails) => Error;

/** sluice's error classes by name: every export that is a class whose instances are sluice errors. */
const sluiceClasses = new Map<string, ErrorClass & { code: string }>();
for (const [name, value] of Object.entries(sluice)) {
  if (typeof value !== 'function' || typeof (value as { code?: unknown }).code !== 'string') continue;
  sluiceClasses.set(name, value as unknown as ErrorClass & { code: string });
}

const MAX_CAUSES = 4;
const reserved = new Set(['name', 'message', 'stack', 'code', 'cause', 'item']);

/** Plain data for `JSON.stringify`, from anything thrown. */
export function toWire(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (reserved.has(key)) continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    fields[key] = typeof value === 'bigint' ? String(value) : value;
  }
  const code = (error as { code?: unknown }).code;
  const cause = (error as { cause?: unknown }).cause;
  return {
    name: error.name,
    message: error.message,
    ...(error.stack === undefined ? {} : { stack: error.stack }),
    ...(typeof code === 'string' || typeof code === 'number' ? { code: String(code) } : {}),
    ...(Object.keys(fields).length > 0 ? { fields } : {}),
    ...(cause === undefined || depth >= MAX_CAUSES ? {} : { cause: toWire(cause, depth + 1) }),
  };
}

/** The error `toWire` described, as its own sluice class where it was one. */
export function fromWire(wire: WireError): Error {
  const cause = wire.cause === undefined ? undefined : fromWire(wire.cause);
  const Known = sluiceClasses.get(wire.name);
  let error: Error;
  if (Known !== undefined && (wire.code === undefined || wire.code === Known.code)) {
    error = new Known(wire.message, { ...wire.fields, cause });
  } else {
    error = new Error(wire.message, cause === undefined ? undefined : { cause });
    Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true });
    const extra: Record<string, unknown> = { ...wire.fields };
    if (wire.code !== undefined) extra.code = wire.code;
    for (const [key, value] of Object.entries(extra)) {
      Object.defineProperty(error, key, { value, enumerable: true, writable: true, configurable: true });
    }
  }
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}
