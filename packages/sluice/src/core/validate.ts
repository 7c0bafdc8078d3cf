/**
 * Option validation at the door. Each check throws a coded TypeError or RangeError whose message
 * names the option, what was expected and what was received, so a typo fails loudly at build time
 * of the flow rather than as a hang at run time.
 */
import { InvalidArgTypeError, InvalidArgValueError, UnknownOptionError } from './errors.js';

/** A short, safe rendering of a received value for error messages. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
    case 'number':
    case 'bigint':
    case 'boolean':
    case 'undefined':
    case 'symbol':
      return String(value);
    case 'function':
      return `function ${value.name || '(anonymous)'}`;
    default:
      if (Array.isArray(value)) return `an array of length ${value.length}`;
      return `an instance of ${(value as object).constructor?.name ?? 'Object'}`;
  }
}

export function invalidType(
  name: string,
  expected: string,
  received: unknown,
): InstanceType<typeof InvalidArgTypeError> {
  return new InvalidArgTypeError(`The "${name}" option must be ${expected}. Received ${describe(received)}`);
}

export function invalidValue(
  name: string,
  expected: string,
  received: unknown,
): InstanceType<typeof InvalidArgValueError> {
  return new InvalidArgValueError(`The "${name}" option must be ${expected}. Received ${describe(received)}`);
}

/** Throws unless `options` is undefined or a plain object whose keys are all in `known`. */
export function checkOptions(name: string, options: unknown, known: readonly string[]): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw invalidType(name, 'an object', options);
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new UnknownOptionError(
        `Unknown option "${name}.${key}". Expected one of: ${known.map((k) => `"${k}"`).join(', ')}`,
      );
    }
  }
}

/** An integer from min to max (or Infinity when allowed). */
export function checkInteger(
  name: string,
  value: unknown,
  {
    min = 0,
    max = Number.POSITIVE_INFINITY,
    allowInfinity = false,
  }: { min?: number; max?: number; allowInfinity?: boolean } = {},
): number {
  const range = max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`;
  const expected = `an integer ${range}${allowInfinity ? ' or Infinity' : ''}`;
  if (typeof value !== 'number') throw invalidType(name, `a number (${expected})`, value);
  if (value === Number.POSITIVE_INFINITY && allowInfinity) return value;
  if (!Number.isInteger(value) || value < min || value > max) throw invalidValue(name, expected, value);
  return value;
}

/** A finite number >= min (and > min when `exclusive`). */
export function checkNumber(
  name: string,
  value: unknown,
  { min = 0, exclusive = false }: { min?: number; exclusive?: boolean } = {},
): number {
  const expected = `a finite number ${exclusive ? '>' : '>='} ${min}`;
  if (typeof value !== 'number') throw invalidType(name, expected, value);
  if (!Number.isFinite(value) || (exclusive ? value <= min : value < min))
    throw invalidValue(name, expected, value);
  return value;
}

export function checkFunction<F extends Function>(name: string, value: F): F {
  if (typeof value !== 'function') throw invalidType(name, 'a function', value);
  return value;
}

export function checkBoolean(name: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalidType(name, 'a boolean', value);
  return value;
}

export function checkSignal(name: string, value: unknown): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (!(value instanceof AbortSignal)) throw invalidType(name, 'an AbortSignal', value);
  return value;
}
