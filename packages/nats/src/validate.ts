/** Option checks at the door, with sluice's coded errors. */
import { InvalidArgTypeError, InvalidArgValueError } from 'sluice';

export function checkString(name: string, value: unknown): asserts value is string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidArgTypeError(`${name} must be a non-empty string; received ${describe(value)}`);
  }
}

export function checkObject(name: string, value: unknown): asserts value is object {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgTypeError(`${name} must be an object; received ${describe(value)}`);
  }
}

export function checkPositiveInteger(name: string, value: unknown, min = 1): asserts value is number {
  if (typeof value !== 'number') {
    throw new InvalidArgTypeError(`${name} must be a number; received ${describe(value)}`);
  }
  if (!Number.isInteger(value) || value < min) {
    throw new InvalidArgValueError(`${name} must be an integer >= ${min}; received ${value}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `'${value}'`;
  return typeof value === 'object' || typeof value === 'function'
    ? `an instance of ${typeof value}`
    : String(value);
}
