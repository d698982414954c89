// How error messages show a value a caller passed: its kind and, when short, the value itself,
// so that `t.mul('2')` reads "got the string '2'" rather than a TypeError from deep inside.

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
