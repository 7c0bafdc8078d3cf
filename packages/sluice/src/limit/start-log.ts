/**
 * The calls in flight when each recent call started, by the millisecond. A call's latency tells
 * about the load it was started into: while the limit climbs, the calls in flight when it answers
 * are many more, and a rate read from those (calls in flight over latency, Little's law) would
 * credit the old load's latency to the new one.
 */

/**
 * Milliseconds remembered. A call that took longer is judged against the oldest entry, a load
 * somewhat higher than its own.
 */
const SPAN_MS = 4_096;

export class StartLog {
  /** Whole milliseconds, ascending, from `#head` on; the ones before it are forgotten. */
  readonly #times: number[] = [];
  /** The most calls in flight after a start in the same millisecond. */
  readonly #counts: number[] = [];
  #head = 0;

  /** A call started at `now`; `inflight` counts it. */
  record(now: number, inflight: number): void {
    const t = Math.floor(now);
    const last = this.#times.length - 1;
    if (last >= this.#head && this.#times[last] === t) {
      if (inflight > (this.#counts[last] as number)) this.#counts[last] = inflight;
      return;
    }
    this.#times.push(t);
    this.#counts.push(inflight);
    while ((this.#times[this.#head] as number) < t - SPAN_MS) this.#head++;
    // Compact once the forgotten entries outnumber the kept ones, so pushes stay amortised O(1).
    if (this.#head > 1_024 && this.#head * 2 > this.#times.length) {
      this.#times.splice(0, this.#head);
      this.#counts.splice(0, this.#head);
      this.#head = 0;
    }
  }

  /** The calls in flight just after a call started at `started`; undefined when none is logged. */
  at(started: number): number | undefined {
    const t = Math.floor(started);
    let lo = this.#head;
    let hi = this.#times.length - 1;
    if (hi < lo) return undefined;
    if ((this.#times[lo] as number) > t) return this.#counts[lo];
    // The last entry at or before t.
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.#times[mid] as number) <= t) lo = mid;
      else hi = mid - 1;
    }
    return this.#counts[lo];
  }
}
