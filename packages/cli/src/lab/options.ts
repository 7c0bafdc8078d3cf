/**
 * Parsers for the lab's option values. Each throws commander's InvalidArgumentError, which the
 * `sluice` command prints as one `sluice: ... (SLUICE_ERR_USAGE)` line and exits 2.
 */
import { InvalidArgumentError } from 'commander';

/** A whole number from `min` to `max`, with optional `_` or `,` separators: `10_000_000`. */
export function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const n = Number(value.replace(/[_,]/g, ''));
    if (!/^\s*\d[\d_,]*\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

const units: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30 };

/** A size in bytes: `1048576`, `64k`, `200MB`, `1.5GiB` (powers of 1024). */
export function byteSize(min: number, max: number): (value: string) => number {
  return (value) => {
    const match = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(value);
    const bytes =
      match === null
        ? Number.NaN
        : Math.round(Number(match[1]) * (units[match[2]?.toLowerCase() ?? ''] ?? 1));
    if (!Number.isFinite(bytes) || bytes < min || bytes > max)
      throw new InvalidArgumentError(
        `Expected a size such as 64MB, 512k or 1GB, from ${formatBytes(min)} to ${formatBytes(max)}.`,
      );
    return bytes;
  };
}

/** One or more of `names`, comma-separated, in the order given. */
export function oneOrMoreOf<T extends string>(names: readonly T[]): (value: string) => T[] {
  return (value) => {
    const picked = value.split(',').map((s) => s.trim());
    const wrong = picked.find((p) => !names.includes(p as T));
    if (wrong !== undefined || picked.length === 0)
      throw new InvalidArgumentError(
        `Expected a comma-separated list of ${names.join(', ')}; "${wrong}" is not one.`,
      );
    return [...new Set(picked as T[])];
  };
}

/** `512 B`, `64.0 MB`, `1.50 GB` (powers of 1024, as the options read them). */
export function formatBytes(bytes: number): string {
  if (bytes >= 2 ** 30) return `${(bytes / 2 ** 30).toFixed(2)} GB`;
  if (bytes >= 2 ** 20) return `${(bytes / 2 ** 20).toFixed(1)} MB`;
  if (bytes >= 2 ** 10) return `${(bytes / 2 ** 10).toFixed(1)} kB`;
  return `${bytes} B`;
}

/** A user name as the common log format writes it: one word, no brackets. */
export function userName(value: string): string {
  if (!/^[^\s[\]]+$/.test(value))
    throw new InvalidArgumentError('Expected one word without spaces or brackets.');
  return value;
}
