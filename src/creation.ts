// Making tensors: from host values (nested arrays or typed arrays), constants, and seeded noise.

import { describeValue, int32Values } from './arguments.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from './errors.js';
import { checkBufferLimits, filled } from './ops/common.js';
import { generatorFor } from './random.js';
import { runtime } from './runtime/runtime.js';
import { type DType, numel, Tensor } from './tensor.js';

/** Options for tensor() and the constant constructors. */
export interface TensorOptions {
  /** The shape; defaults to the nested arrays' shape, or `[length]` for a flat array. */
  shape?: readonly number[];
  /** Element type; defaults to `'int32'` for an Int32Array, else `'float32'`. */
  dtype?: DType;
  /** Make the tensor a leaf that backward() computes a gradient for (float32 only). */
  requiresGrad?: boolean;
}

type Nested = number | readonly Nested[];

function inferShape(values: Nested): number[] {
  const shape: number[] = [];
  let v: Nested = values;
  while (Array.isArray(v)) {
    shape.push(v.length);
    v = (v as readonly Nested[])[0] as Nested;
    if (v === undefined) break;
  }
  return shape;
}

function flatten(values: Nested, shape: readonly number[], out: number[], dim = 0, path = ''): void {
  if (dim === shape.length) {
    if (typeof values !== 'number') throw new ShapeError(`tensor(): ragged nested array at ${path || 'the top'}: expected a number.`);
    out.push(values);
    return;
  }
  if (!Array.isArray(values) || values.length !== shape[dim]) {
    throw new ShapeError(
      `tensor(): ragged nested array at ${path || 'the top'}: expected ${shape[dim]} entries (shape ${fmtShape(shape)}), found ${Array.isArray(values) ? values.length : 'a number'}.`,
    );
  }
  values.forEach((v: Nested, i: number) => flatten(v, shape, out, dim + 1, `${path}[${i}]`));
}

const DTYPES: readonly unknown[] = ['float32', 'int32', 'bool'] satisfies DType[];

/** Refuses a dtype webgrad has no kernels for ('float64', 'uint8', ...) instead of storing it under a false name. */
function checkDType(fn: string, dtype: unknown): void {
  if (dtype === undefined || DTYPES.includes(dtype)) return;
  const shown = typeof dtype === 'string' ? `'${dtype}'` : describeValue(dtype);
  throw new DTypeError(`${fn}: unknown dtype ${shown} (webgrad has 'float32', 'int32' and 'bool').`);
}

function validShape(shape: readonly number[], fn: string): void {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new ShapeError(`${fn}: invalid shape ${fmtShape(shape)}: sizes must be integers ≥ 0.`);
  }
}

/**
 * A tensor from nested arrays or a typed array, e.g. tensor([[1, 2], [3, 4]]) or tensor(f32, { shape: [2, 2] }).
 * The values are copied to the GPU now.
 *
 * ```ts
 * const x = tensor([[1, 2], [3, 4]]);                      // float32, shape [2, 2]
 * const w = tensor(new Float32Array(6), { shape: [2, 3], requiresGrad: true });
 * const y = tensor(Int32Array.from([0, 2, 1]));            // int32 labels
 * ```
 */
export function tensor(values: Nested | ArrayLike<number>, options: TensorOptions = {}): Tensor {
  const rt = runtime();
  let flat: ArrayLike<number>;
  let shape: number[];
  if (ArrayBuffer.isView(values) || (typeof values === 'object' && !Array.isArray(values))) {
    flat = values as ArrayLike<number>;
    shape = options.shape ? [...options.shape] : [flat.length];
  } else {
    shape = inferShape(values as Nested);
    const out: number[] = [];
    flatten(values as Nested, shape, out);
    flat = out;
    if (options.shape) shape = [...options.shape];
  }
  validShape(shape, 'tensor()');
  if (numel(shape) !== flat.length) {
    throw new ShapeError(`tensor(): ${flat.length} values cannot have shape ${fmtShape(shape)} (${numel(shape)} elements).`);
  }
  checkDType('tensor()', options.dtype);
  const dtype: DType = options.dtype ?? (values instanceof Int32Array ? 'int32' : 'float32');
  checkBufferLimits(rt, 'tensor()', shape);
  const ints = dtype === 'int32' ? int32Values('tensor()', flat) : null;
  // bool: any non-zero value is true (stored as 1).
  const words = ints ? ints.data : dtype === 'bool' ? Int32Array.from(flat, (v) => Number(v !== 0)) : Float32Array.from(flat);
  const t = new Tensor(rt, rt.scheduler.upload(words), shape, dtype);
  if (ints) t.hostRange = ints.range;
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor with every element set to value (filled on the GPU). */
export function full(shape: readonly number[], value: number, options: Omit<TensorOptions, 'shape'> = {}): Tensor {
  const rt = runtime();
  validShape(shape, 'full()');
  checkDType('full()', options.dtype);
  const dtype = options.dtype ?? 'float32';
  if (typeof value !== 'number') throw new ValueError(`full(): the fill value must be a number, got ${typeof value}.`);
  if (dtype === 'int32' && !(Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31)) {
    throw new ValueError(`full(): an int32 tensor cannot be filled with ${value} (not an integer in int32's range).`);
  }
  const t = filled(rt, shape, value, dtype, 'full()');
  if (dtype === 'int32') t.hostRange = [value, value];
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

/** A tensor of zeros (float32 unless options.dtype says otherwise). */
export function zeros(shape: readonly number[], options: Omit<TensorOptions, 'shape'> = {}): Tensor {
  checkDType('zeros()', options.dtype);
  return full(shape, 0, options);
}

/** A tensor of ones (float32 unless options.dtype says otherwise). */
export function ones(shape: readonly number[], options: Omit<TensorOptions, 'shape'> = {}): Tensor {
  checkDType('ones()', options.dtype);
  return full(shape, 1, options);
}

/** Ones with the shape and dtype of t (no gradient). */
export function onesLike(t: Tensor): Tensor {
  return full(t.shape, 1, { dtype: t.dtype });
}

/** Zeros with the shape and dtype of t (no gradient). */
export function zerosLike(t: Tensor): Tensor {
  return full(t.shape, 0, { dtype: t.dtype });
}

/** Options for rand() and randn(): float32 only. */
export interface RandomOptions extends Omit<TensorOptions, 'shape' | 'dtype'> {
  /** Seed for this call; without it the global generator (manualSeed) is used. */
  seed?: number;
}

/** Uniform in [low, high), drawn on the host from a seeded generator (same values everywhere). */
export function rand(shape: readonly number[], options: RandomOptions & { low?: number; high?: number } = {}): Tensor {
  const gen = generatorFor(options.seed);
  const low = options.low ?? 0;
  const high = options.high ?? 1;
  const values = new Float32Array(numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = low + (high - low) * gen.uniform();
  return tensor(values, { shape, requiresGrad: options.requiresGrad ?? false });
}

/** Standard normal values, drawn on the host from a seeded generator (same values everywhere). */
export function randn(shape: readonly number[], options: RandomOptions = {}): Tensor {
  const gen = generatorFor(options.seed);
  const values = new Float32Array(numel(shape));
  for (let i = 0; i < values.length; i++) values[i] = gen.normal();
  return tensor(values, { shape, requiresGrad: options.requiresGrad ?? false });
}

/**
 * Values from start (inclusive) to end (exclusive) in steps of step, as torch.arange: arange(5) is
 * 0…4. int32 when start, end and step are all integers, else float32 (options.dtype overrides).
 * Computed on the host in float64 (start + i·step) and rounded once to the dtype.
 */
export function arange(start: number, end?: number, step = 1, options: Omit<TensorOptions, 'shape'> = {}): Tensor {
  const [from, to] = end === undefined ? [0, start] : [start, end];
  for (const [name, v] of [
    ['start', from],
    ['end', to],
    ['step', step],
  ] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValueError(`arange(): ${name} must be a finite number, got ${describeValue(v)}.`);
  }
  if (step === 0) throw new ValueError('arange(): step must be nonzero.');
  if ((to - from) * step < 0) {
    throw new ValueError(`arange(): the range [${from}, ${to}) and step ${step} go in opposite directions.`);
  }
  checkDType('arange()', options.dtype);
  const integral = Number.isInteger(from) && Number.isInteger(to) && Number.isInteger(step);
  const dtype = options.dtype ?? (integral ? 'int32' : 'float32');
  if (dtype !== 'float32' && !integral) {
    throw new DTypeError(`arange(): a ${dtype} range needs integer start, end and step, got ${from}, ${to}, ${step}.`);
  }
  const n = Math.ceil((to - from) / step);
  if (n > 2 ** 31 - 1) throw new ValueError(`arange(): ${n} elements is too many (start ${from}, end ${to}, step ${step}).`);
  const values = Array.from({ length: n }, (_, i) => from + i * step);
  return tensor(values, { shape: [n], dtype, requiresGrad: options.requiresGrad ?? false });
}
