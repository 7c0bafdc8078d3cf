/**
 * How latency grows with the load over recent windows: the slope of log(RTT) against log(load),
 * each window one point. By Little's law throughput is load / RTT, so a slope of 1 means more
 * calls only wait longer, 0.5 means doubling the load still gives 41% more throughput, and above
 * 1 throughput falls as the load rises.
 */

/** One window: x = log(load), y = log(mean RTT). */
export interface LogPoint {
  readonly x: number;
  readonly y: number;
}

/**
 * The least-squares slope of y on x, or undefined with fewer than three points or while the
 * loads are spread too little to tell (a variance of x under `minSpread`).
 */
export function elasticity(points: readonly LogPoint[], minSpread: number): number | undefined {
  const n = points.length;
  if (n < 3) return undefined;
  let sx = 0;
  let sy = 0;
  for (const p of points) {
    sx += p.x;
    sy += p.y;
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx / n < minSpread) return undefined;
  return sxy / sxx;
}
