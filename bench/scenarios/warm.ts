/**
 * Warms a pool before the timer starts, the same way for every contender: enough concurrent calls
 * of a couple of milliseconds that every worker gets some (so each has started and loaded the
 * task), then a burst at the benchmark's own size so the JIT has seen it.
 */
export async function warm(
  runOne: (n: number) => Promise<number>,
  workers: number,
  n: number,
): Promise<void> {
  await Promise.all(Array.from({ length: workers * 4 }, () => runOne(2_000_000)));
  await Promise.all(Array.from({ length: workers * 64 }, () => runOne(n)));
}
