// Checking the values a caller passed, and showing them in error messages: its kind and, when
// short, the value itself, so that `t.mul('2')` reads "got the string '2'" rather than a TypeError.
import { ValueError } from './errors.js';

/** A short description of any value: `the number 3`, `the string '2'`, `null`, `an array`, `a Linear`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return `the number ${value}`;
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  if (typeof value === 'boolean') return `the boolean ${value}`;
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (typeof (value as { then?: unknown }).then === 'function') return 'a Promise (an async result: await it first)';
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name;
    return !name || name === 'Object' ? 'an object' : `a ${name}`;
  }
  return `a ${typeof value}`;
}

/** A setting as messages show it: numbers bare (NaN, -1, Infinity), anything else described. */
export function showSetting(value: unknown): string {
  return typeof value === 'number' ? String(value) : describeValue(value);
}

/** True for a number that is finite and ≥ 0 (false for NaN, Infinity and non-numbers such as '0.1'). */
export function isFiniteNonNegative(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/**
 * @internal Host values for an int32 tensor, refusing any that int32 cannot hold exactly (0.5,
 * NaN, Infinity, 2³¹) with a ValueError naming the index; with their [min, max] for label checks.
 */
export function int32Values(fn: string, values: ArrayLike<number>): { data: Int32Array<ArrayBuffer>; range: [number, number] } {
  const data = new Int32Array(values.length);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!Number.isInteger(v)) throw new ValueError(`${fn}: int32 tensor given a non-integer value ${v} at index ${i}.`);
    if (v < INT32_MIN || v > INT32_MAX)
      throw new ValueError(`${fn}: int32 tensor given ${v} at index ${i}, outside int32's range [${INT32_MIN}, ${INT32_MAX}].`);
    data[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { data, range: [min, max] };
}

/**
 * Throws a ValueError naming an option `what` does not know, as PyTorch refuses an unexpected
 * keyword argument: a misspelt or snake_case setting (`weight_decay`) would otherwise be ignored
 * and train with the default. A snake_case name is answered with its camelCase spelling.
 */
export function checkOptionNames(what: string, options: unknown, known: readonly string[]): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) throw new ValueError(`${what}: options must be an object, got ${describeValue(options)}.`);
  for (const name of Object.keys(options)) {
    if (known.includes(name)) continue;
    const camel = name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    const hint = camel !== name && known.includes(camel) ? ` (did you mean '${camel}'?)` : '';
    throw new ValueError(`${what}: unknown option '${name}'${hint}; the options are ${known.map((k) => `'${k}'`).join(', ')}.`);
  }
}
