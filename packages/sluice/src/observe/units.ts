/** Numbers as progress lines and reports print them. */

/** 1234567 as "1,234,567". */
export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** 850 as "850ms", 12300 as "12.3s", 125000 as "2m05s". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(Math.round(s - m * 60)).padStart(2, '0')}s`;
}

/** Milliseconds with as many decimals as they deserve: "0.42 ms", "3.1 ms", "250 ms". */
export function formatMs(value: number): string {
  return value >= 100
    ? `${value.toFixed(0)} ms`
    : value >= 1
      ? `${value.toFixed(1)} ms`
      : `${value.toFixed(2)} ms`;
}
