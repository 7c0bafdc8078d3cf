/**
 * Reading a file as chunks of whole lines. Each chunk is a view on an ArrayBuffer of its own, so
 * it can be moved to a worker (move()) without detaching anything another chunk uses; the part of
 * a line cut off at the end of one read is copied to the front of the next chunk, so no line is
 * ever split between two chunks (or counted twice, or missed).
 */
import { open } from 'node:fs/promises';

const newline = 0x0a;

export async function* lineChunks(
  path: string,
  chunkBytes: number,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r');
  try {
    let carry: Uint8Array = new Uint8Array(0);
    for (;;) {
      signal.throwIfAborted();
      // A line longer than a chunk grows the next buffer rather than being split.
      const buffer = new Uint8Array(Math.max(chunkBytes, carry.length * 2));
      buffer.set(carry);
      const { bytesRead } = await file.read(buffer, carry.length, buffer.length - carry.length, null);
      const filled = carry.length + bytesRead;
      if (bytesRead === 0) {
        if (filled > 0) yield buffer.subarray(0, filled); // a last line without a newline
        return;
      }
      const end = buffer.lastIndexOf(newline, filled - 1) + 1;
      if (end === 0) {
        carry = buffer.subarray(0, filled);
        continue;
      }
      carry = buffer.slice(end, filled);
      yield buffer.subarray(0, end);
    }
  } finally {
    await file.close();
  }
}
