/** The lab's plain-text tables: columns padded to their widest cell, numbers right-aligned. */

export type Align = 'left' | 'right';

export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  align: readonly Align[],
): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, c) =>
        align[c] === 'right' ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number),
      )
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** Seconds with three significant digits: `0.0412 s`, `2.71 s`, `31.4 s`. */
export function formatSeconds(seconds: number): string {
  return `${seconds >= 100 ? seconds.toFixed(0) : seconds.toPrecision(3)} s`;
}

/** A speed-up factor: `1.0x`, `12.4x`, `0.82x`. */
export function formatSpeedup(factor: number): string {
  return `${factor >= 10 ? factor.toFixed(0) : factor >= 1 ? factor.toFixed(1) : factor.toFixed(2)}x`;
}

/** `1 worker`, `2 workers`, `1 child`, `2 children`. */
export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
