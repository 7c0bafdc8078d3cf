/**
 * Reading a sweep: latency percentiles of a level, and the knee of the throughput curve.
 */

/**
 * The nearest-rank percentile of sorted values: the smallest value with at least `p` of them at
 * or below it. 0 for no values.
 * @example percentile([1, 2, 3, 4], 0.5) // 2
 */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

/**
 * The knee: the smallest concurrency whose throughput reaches `ratio` of the best throughput of
 * the sweep. Past it, more concurrency buys at most the last few percent of throughput, and pays
 * in latency, memory and load on the service; below it, throughput is being left on the table.
 * @returns the knee's concurrency, or undefined when no level completed anything
 */
export function kneeOf(
  levels: readonly { readonly concurrency: number; readonly throughput: number }[],
  ratio: number,
): number | undefined {
  let best = 0;
  for (const level of levels) best = Math.max(best, level.throughput);
  if (best === 0) return undefined;
  const sorted = [...levels].sort((a, b) => a.concurrency - b.concurrency);
  return sorted.find((level) => level.throughput >= ratio * best)?.concurrency;
}
