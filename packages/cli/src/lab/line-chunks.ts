/**
 * Reading a file as chunks of whole lines. Each chunk is a view on an ArrayBuffer of its own, so
 * it can be moved to a worker (move()) without detaching anything another chunk uses; the part of
 * a line cut off at the end of one read is copied to the front of the next chunk, so no line is
 * ever split between two chunks (or counted twice, or missed).
 *
 * A byte range reads the lines that start inside it: a line belongs to the range its first byte
 * falls in. Ranges that tile a file therefore read every line exactly once, which lets workers
 * each read a part of one file.
 */
import { type FileHandle, open } from 'node:fs/promises';

const newline = 0x0a;

export interface ByteRange {
  start: number;
  end: number;
}

export async function* lineChunks(
  path: string,
  chunkBytes: number,
  signal: AbortSignal,
  range?: ByteRange,
): AsyncGenerator<Uint8Array> {
  const file = await open(path, 'r');
  try {
    const size = (await file.stat()).size;
    let position = range === undefined ? 0 : await lineStart(file, range.start, size);
    const stop = range === undefined ? size : await lineStart(file, range.end, size);
    let carry: Uint8Array = new Uint8Array(0);
    for (;;) {
      signal.throwIfAborted();
      // A line longer than a chunk grows the next buffer rather than being split.
      const buffer = new Uint8Array(Math.max(chunkBytes, carry.length * 2));
      buffer.set(carry);
      const want = Math.min(buffer.length - carry.length, stop - position);
      const { bytesRead } =
        want > 0 ? await file.read(buffer, carry.length, want, position) : { bytesRead: 0 };
      position += bytesRead;
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

/** The first line start at or after `offset`: 0, the byte after a newline, or the file's size. */
async function lineStart(file: FileHandle, offset: number, size: number): Promise<number> {
  if (offset <= 0) return 0;
  const probe = Buffer.allocUnsafe(64 * 1024);
  for (let at = offset - 1; at < size; at += probe.length) {
    const { bytesRead } = await file.read(probe, 0, probe.length, at);
    const found = probe.subarray(0, bytesRead).indexOf(newline);
    if (found !== -1) return at + found + 1;
    if (bytesRead === 0) break;
  }
  return size;
}
