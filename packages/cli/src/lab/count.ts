/**
 * Counting one user's lines. A line of the common log format names its user once, between the
 * ident field and the bracketed date (`10.1.2.3 - alice [23/Nov/...`), so counting the lines of
 * a user is counting occurrences of ` - alice [` in whole lines: no per-line split, no regular
 * expression, and the same count `grep -cF` gives.
 */

/** The text that marks one line of `user` in a common-log-format file. */
export function userNeedle(user: string): string {
  return ` - ${user} [`;
}

/** Occurrences of `needle` in `chunk`; never overlapping, so one per matching line. */
export function countOccurrences(chunk: Uint8Array, needle: string): number {
  const buffer = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  const pattern = Buffer.from(needle);
  let count = 0;
  for (let at = buffer.indexOf(pattern); at !== -1; at = buffer.indexOf(pattern, at + pattern.length))
    count++;
  return count;
}
