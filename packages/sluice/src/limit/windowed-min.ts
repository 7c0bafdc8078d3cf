/**
 * The lowest value seen over a sliding span of time, kept as the lowest per bucket of a tenth of
 * the span: the adaptive limit's baseline RTT, which forgets a minimum once the span has passed it
 * (a service that got slower for good is judged against what it does now).
 */

/** Buckets the span is cut into. */
const BUCKETS = 10;

export class WindowedMin {
  /** Lowest value per time bucket, newest last. */
  readonly #buckets: { start: number; min: number }[] = [];
  readonly #bucketMs: number;

  /** @param spanMs how long a value is remembered, on the caller's clock */
  constructor(spanMs: number) {
    this.#bucketMs = spanMs / BUCKETS;
  }

  /** The lowest value remembered, or undefined before the first. */
  get min(): number | undefined {
    if (this.#buckets.length === 0) return undefined;
    let min = Number.POSITIVE_INFINITY;
    for (const b of this.#buckets) if (b.min < min) min = b.min;
    return min;
  }

  add(now: number, value: number): void {
    const buckets = this.#buckets;
    const last = buckets.at(-1);
    if (last !== undefined && now - last.start < this.#bucketMs) {
      if (value < last.min) last.min = value;
    } else {
      buckets.push({ start: now, min: value });
      if (buckets.length > BUCKETS) buckets.shift();
    }
  }
}
