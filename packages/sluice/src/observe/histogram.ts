/**
 * A histogram of durations in milliseconds. The first RAW_LIMIT values are kept as they are, with
 * the weight of each (how many values it stands for), and their percentiles are exact; past that
 * they move into buckets 2% wide on a log scale, from a microsecond to about three hours, so a
 * percentile is within 1% of a value that was recorded.
 *
 * Why not `perf_hooks.createHistogram()`: a native histogram with its default range allocates
 * hundreds of kilobytes outside the JavaScript heap, and a run made three. A three-item flow took
 * 1.9 ms, most of it in histogram constructors, and a loop of five thousand short flows peaked at
 * 2.1 GB of RSS before the collector noticed the native memory.
 */

const RAW_LIMIT = 128;
const LOWEST_MS = 0.001;
const HIGHEST_MS = 1e7;
const GROWTH = 1.02;
const LOG_GROWTH = Math.log(GROWTH);
const BUCKETS = Math.ceil(Math.log(HIGHEST_MS / LOWEST_MS) / LOG_GROWTH) + 1;

export class Histogram {
  #raw: number[] | undefined = [];
  /** Each raw value's weight, at the same place; undefined while every one is 1. */
  #rawWeights: number[] | undefined;
  /**
   * Kept between percentiles until the next record (a report reads three): the raw values sorted,
   * or, once some weigh more than one, their places in value order.
   */
  #sorted: Float64Array | undefined;
  #order: number[] | undefined;
  #counts: Float64Array | undefined;
  /** Values recorded, each counted as many times as its weight. */
  count = 0;
  min = Number.POSITIVE_INFINITY;
  max = 0;

  /**
   * Records `ms`, standing for `weight` values: a sampled call stands for the calls since the
   * last one sampled (see StageMetrics).
   */
  record(ms: number, weight = 1): void {
    const value = ms > 0 ? ms : 0;
    this.count += weight;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    const raw = this.#raw;
    if (raw === undefined) {
      this.#bucket(value, weight);
      return;
    }
    this.#sorted = undefined;
    this.#order = undefined;
    if (weight !== 1) this.#rawWeights ??= raw.map(() => 1);
    this.#rawWeights?.push(weight);
    raw.push(value);
    if (raw.length <= RAW_LIMIT) return;
    this.#counts = new Float64Array(BUCKETS);
    for (let i = 0; i < raw.length; i++) this.#bucket(raw[i] as number, this.#rawWeights?.[i] ?? 1);
    this.#raw = undefined;
    this.#rawWeights = undefined;
  }

  #bucket(value: number, weight: number): void {
    const counts = this.#counts as Float64Array;
    const index =
      value <= LOWEST_MS ? 0 : Math.min(BUCKETS - 1, Math.floor(Math.log(value / LOWEST_MS) / LOG_GROWTH));
    counts[index] = (counts[index] as number) + weight;
  }

  /** The value below which `p` percent of the recorded values fall; 0 when none was recorded. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    if (rank >= this.count) return this.max;
    const raw = this.#raw;
    if (raw !== undefined) {
      const weights = this.#rawWeights;
      if (weights === undefined) {
        this.#sorted ??= Float64Array.from(raw).sort();
        return this.#sorted[rank - 1] as number;
      }
      this.#order ??= raw.map((_, i) => i).sort((x, y) => (raw[x] as number) - (raw[y] as number));
      let seen = 0;
      for (const i of this.#order) {
        seen += weights[i] as number;
        if (seen >= rank) return raw[i] as number;
      }
      return this.max;
    }
    const counts = this.#counts as Float64Array;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += counts[i] as number;
      if (seen < rank) continue;
      // The first bucket holds everything under a microsecond: its smallest value stands for it.
      if (i === 0) return this.min;
      // The bucket's geometric middle, kept inside what was seen.
      return Math.min(this.max, Math.max(this.min, LOWEST_MS * GROWTH ** (i + 0.5)));
    }
    return this.max;
  }
}
