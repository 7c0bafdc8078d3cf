/**
 * How items and results travel: JSON, many to a message, split so that no message passes the
 * server's max payload. Each value is encoded on its own first, so a value too big for any message
 * (or one JSON cannot encode) fails alone, with a coded error, instead of failing or stalling the
 * batch it came in.
 */
import { DataCloneError, fromWire, PayloadTooLargeError, toWire, type WireError } from 'sluice';

/** Bytes kept free in every message for headers and the JSON around the values. */
export const HEADER_ROOM = 2048;

/** A run of consecutive values encoded into one message body. */
export interface Piece {
  /** Position of the first value in the array that was split. */
  readonly offset: number;
  readonly count: number;
  /** The values' JSON texts, in order (null where the value failed to encode). */
  readonly parts: string[];
}

/** What `split` made: the pieces, and the values that could not be sent, by position. */
export interface Split {
  readonly pieces: Piece[];
  readonly failed: Map<number, Error>;
}

/**
 * Encodes `values` and cuts them into pieces of at most `maxCount` values and `maxBytes` bytes of
 * JSON each. A value that alone passes `maxBytes`, or that JSON cannot encode, goes into `failed`
 * with SLUICE_ERR_PAYLOAD_TOO_LARGE or SLUICE_ERR_DATA_CLONE; the pieces skip it.
 */
export function split(values: readonly unknown[], maxCount: number, maxBytes: number, what: string): Split {
  const pieces: Piece[] = [];
  const failed = new Map<number, Error>();
  let parts: string[] = [];
  let offset = 0;
  let bytes = 0;
  const cut = (next: number): void => {
    if (parts.length > 0) pieces.push({ offset, count: parts.length, parts });
    parts = [];
    bytes = 0;
    offset = next;
  };
  for (let i = 0; i < values.length; i++) {
    let text: string;
    try {
      text = JSON.stringify(values[i]) ?? 'null';
    } catch (error) {
      cut(i + 1);
      failed.set(
        i,
        new DataCloneError(`${what} ${i} cannot be sent as JSON: ${String(error)}`, { cause: error }),
      );
      continue;
    }
    // UTF-8 takes at most 3 bytes per UTF-16 unit: count exactly only when that bound is too loose.
    const size = text.length * 3 + 1 <= maxBytes - bytes ? text.length : Buffer.byteLength(text) + 1;
    if (size > maxBytes) {
      cut(i + 1);
      failed.set(
        i,
        new PayloadTooLargeError(
          `${what} ${i} takes ${size} bytes as JSON, more than the ${maxBytes} one message can carry`,
          { bytes: size, limit: maxBytes },
        ),
      );
      continue;
    }
    if (parts.length >= maxCount || bytes + size > maxBytes) cut(i);
    parts.push(text);
    bytes += size;
  }
  cut(values.length);
  return { pieces, failed };
}

/** The body of a work message: the items of a piece as a JSON array. */
export function workBody(piece: Piece): string {
  return `[${piece.parts.join(',')}]`;
}

/** The body of a result message: values (null where the item failed) and the errors by position. */
export function resultBody(piece: Piece, errors: ReadonlyArray<readonly [number, WireError]>): string {
  return `{"v":[${piece.parts.join(',')}],"e":${JSON.stringify(errors)}}`;
}

/** A decoded result message. */
export interface ResultBatch {
  readonly values: unknown[];
  /** Errors by position within `values`. */
  readonly errors: ReadonlyArray<readonly [number, Error]>;
}

/** Reads a result message body; throws when it is not one. */
export function readResultBody(text: string): ResultBatch {
  const body = JSON.parse(text) as { v?: unknown; e?: unknown };
  if (!Array.isArray(body.v) || !Array.isArray(body.e)) throw new TypeError('not a sluice result message');
  const errors = (body.e as [number, WireError][]).map(([at, wire]) => [at, fromWire(wire)] as const);
  return { values: body.v, errors };
}

/** Errors for the wire, from an outcome's sparse errors array, offsets relative to `from`. */
export function wireErrors(errors: readonly unknown[] | undefined, from: number, count: number) {
  const out: [number, WireError][] = [];
  if (errors === undefined) return out;
  for (let i = 0; i < count; i++) {
    const error = errors[from + i];
    if (error !== undefined) out.push([i, toWire(error)]);
  }
  return out;
}
