// Tensor: a shape, a dtype, strides into a storage (views share storage), and its autograd
// links. Methods are thin calls into the op table through autograd's apply().

import { describeValue, int32Values } from './arguments.js';
import { apply, backward, type GradNode } from './autograd.js';
import { DisposedError, DTypeError, fmtShape, ShapeError, ValueError } from './errors.js';
import { checkHostWritable, gpuBufferOf } from './interop.js';
import { filled } from './ops/common.js';
import { checkBmm } from './ops/matmul.js';
import type { Runtime } from './runtime/runtime.js';
import type { Storage } from './runtime/scheduler.js';
import { flattenedShape, squeezedShape, unsqueezedShape } from './shapes.js';

/**
 * Element type of a tensor: 32-bit floats, 32-bit signed integers (labels, argmax results), or bool
 * (comparison results; stored as one 32-bit word, 0 or 1, per element, and read back by data() as an Int32Array).
 */
export type DType = 'float32' | 'int32' | 'bool';

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

// The safety net for tensors dropped without dispose(): when one is garbage-collected its handle
// on the storage is given back. The plan is explicit release (step scopes, tidy, dispose); this
// only catches what slips through.
const finalizer = new FinalizationRegistry<{ storage: Storage; rt: Runtime }>(({ storage, rt }) => {
  storage.handles--;
  rt.liveTensors--;
  rt.scheduler.maybeRelease(storage);
});

let nextTensorId = 1;

/** @internal The id the next tensor made will get (ids only grow). */
export function peekTensorId(): number {
  return nextTensorId;
}

/**
 * An n-dimensional array on the GPU with autograd. Ops are recorded and run lazily; read values
 * with data(), toArray() or item(). Make tensors with tensor(), zeros(), randn(), ... — not `new`.
 */
export class Tensor {
  /** Size of each dimension; `[]` for a scalar. */
  readonly shape: readonly number[];
  /** Step in the storage, in elements, per dimension (0 along broadcast axes of an expanded view). */
  readonly strides: readonly number[];
  /** Offset of element [0, …, 0] in the storage, in elements. */
  readonly offset: number;
  /** Element type. */
  readonly dtype: DType;
  /** @internal */
  readonly storage: Storage;
  /** @internal */
  readonly runtime: Runtime;
  /** @internal Creation order: a tensor with a smaller id was made earlier. */
  readonly id = nextTensorId++;
  /** @internal The op that made this tensor, while the graph is alive. */
  gradFn: GradNode | null = null;
  /** @internal For int32 tensors made from host values: their [min, max], for cheap label checks. */
  get hostRange(): readonly [number, number] | null {
    const r = this.storage.hostRange;
    return r && r.version === this.storage.version ? [r.min, r.max] : null;
  }

  /** @internal Records the range of the values just written (null: unknown). Views share it: it belongs to the storage. */
  set hostRange(range: readonly [number, number] | null) {
    this.storage.hostRange = range && { min: range[0], max: range[1], version: this.storage.version };
  }
  private _requiresGrad = false;
  private _grad: Tensor | null = null;
  private disposed = false;
  private pinned = false;

  /** @internal Use tensor(), zeros(), ... or the ops; this wraps a storage. */
  constructor(rt: Runtime, storage: Storage, shape: readonly number[], dtype: DType, strides?: readonly number[], offset = 0) {
    this.runtime = rt;
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
    this.dtype = dtype;
    storage.handles++;
    rt.track(this);
    finalizer.register(this, { storage, rt }, this);
  }

  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }

  /** Number of dimensions (`shape.length`). */
  get ndim(): number {
    return this.shape.length;
  }

  /** True when the elements lie in row-major order with no gaps (not a transposed or expanded view). */
  get isContiguous(): boolean {
    const expected = contiguousStrides(this.shape);
    return this.shape.every((d, i) => d === 1 || this.strides[i] === expected[i]);
  }

  /** Whether backward() computes a gradient for this tensor (false by default). */
  get requiresGrad(): boolean {
    return this._requiresGrad;
  }

  /** Only float32 tensors can require gradients; clearing it on the result of an op throws (use detach()). */
  set requiresGrad(value: boolean) {
    if (!value && this.gradFn) {
      throw new ValueError('requiresGrad can only be cleared on a leaf tensor; use detach() for a result of an op.');
    }
    if (value && this.dtype !== 'float32') {
      throw new ValueError(`only float32 tensors can require gradients (this one is ${this.dtype}).`);
    }
    this._requiresGrad = value;
  }

  /**
   * The gradient accumulated by backward() (leaves only); null until then or after zeroGrad().
   * One you assign must be a live float32 tensor of this tensor's shape on the same device, or
   * null; a view (transposed, expanded) is fine: optimizers read it through its strides.
   */
  get grad(): Tensor | null {
    return this._grad;
  }

  /** Assigns a gradient (validated: a wrong dtype, shape, device or a released tensor throws and changes nothing). */
  set grad(value: Tensor | null) {
    this._grad = this.checkGradient(value);
  }

  /** The assigned gradient, validated: a failed assignment leaves .grad as it was. */
  private checkGradient(value: unknown): Tensor | null {
    if (value === null || value === undefined) return null;
    const of = `grad: the gradient of a tensor of shape ${fmtShape(this.shape)}`;
    if (!(value instanceof Tensor)) throw new ValueError(`${of} must be a Tensor or null, got ${Array.isArray(value) ? 'an array' : typeof value}.`);
    if (value === this) throw new ValueError(`${of} cannot be the tensor itself.`);
    value.assertLive('grad (the tensor assigned)');
    if (value.dtype !== 'float32') throw new DTypeError(`${of} must be float32, got ${value.dtype}.`);
    if (value.shape.join(',') !== this.shape.join(',')) {
      throw new ShapeError(`grad: a gradient of shape ${fmtShape(value.shape)} does not match the tensor's shape ${fmtShape(this.shape)}.`);
    }
    if (value.runtime !== this.runtime) throw new ValueError(`${of} belongs to a different device (tensors from two init() calls cannot be mixed).`);
    return value;
  }

  /**
   * @internal How many in-place writes the storage has had (write(), optimizer updates; views
   * share it). backward() compares it with the version an op saved, as PyTorch's `_version`.
   */
  get _version(): number {
    return this.storage.version;
  }

  /** True once dispose() has run (directly, or through tidy() or the end of a training step). */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Parameters, their gradients, optimizer state and kept tensors are never released by a scope. */
  get isPinned(): boolean {
    return this.pinned;
  }

  /** Keeps this tensor past tidy() scopes and the end of the training step. Returns this. */
  keep(): this {
    this.pinned = true;
    return this;
  }

  /** @internal Marks a tensor owned by a parameter or optimizer. */
  pin(): this {
    this.pinned = true;
    return this;
  }

  /** @internal Hands ownership back to scopes (a gradient returned by grad()). */
  unpin(): this {
    this.pinned = false;
    return this;
  }

  /** Frees the GPU memory now (once no recorded work needs it). Using the tensor afterwards is an error. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    finalizer.unregister(this);
    this.runtime.liveTensors--;
    this.storage.handles--;
    this.runtime.scheduler.maybeRelease(this.storage);
    this.gradFn = null;
    if (this._grad) {
      this._grad.dispose();
      this._grad = null;
    }
  }

  /** @internal Throws a DisposedError naming the op. */
  assertLive(op: string): void {
    if (this.disposed) {
      throw new DisposedError(
        `${op}: a tensor of shape ${fmtShape(this.shape)} was used after it was released (dispose(), ` +
          `tidy(), or the end of the training step after the one that made it; call keep() to hold it longer).`,
      );
    }
  }

  /** Copies the values to the host. Views are made contiguous first; the training loop never waits on this. */
  async data(): Promise<Float32Array | Int32Array> {
    this.assertLive('data');
    let src: Tensor = this;
    if (!this.isContiguous || this.offset !== 0) src = apply('reshape', [this], { shape: this.shape, forceCopy: true });
    const bytes = await this.runtime.scheduler.read(src.storage, src.size * 4, `a tensor of shape ${fmtShape(this.shape)}`);
    if (src !== this) src.dispose();
    const values = this.dtype === 'float32' ? new Float32Array(bytes) : new Int32Array(bytes);
    return values.subarray(0, this.size);
  }

  /** The values as nested arrays. */
  async toArray(): Promise<unknown> {
    const flat = Array.from(await this.data());
    const build = (dim: number, start: number): unknown => {
      if (dim === this.shape.length) return flat[start];
      const step = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, start + i * step));
    };
    return build(0, 0);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ValueError(`item(): tensor of shape ${fmtShape(this.shape)} has ${this.size} elements, not 1.`);
    return (await this.data())[0]!;
  }

  /**
   * Overwrites the values in place from the host (like PyTorch's `p.data.copy_(values)`): for
   * loading weights. The tensor must not be a view; work recorded before this call sees the old values.
   */
  write(values: ArrayLike<number>): this {
    this.assertLive('write');
    checkHostWritable(this, 'write()');
    if (values.length !== this.size) {
      throw new ValueError(`write(): ${values.length} values for a tensor of shape ${fmtShape(this.shape)} (${this.size} elements).`);
    }
    if (!this.isContiguous || this.offset !== 0) throw new ValueError('write(): cannot write into a view; write into the tensor it views.');
    if (this.dtype === 'bool') {
      this.runtime.scheduler.write(
        this.storage,
        Int32Array.from(values, (v) => Number(v !== 0)),
      );
    } else if (this.dtype === 'int32') {
      const { data, range } = int32Values('write()', values);
      this.runtime.scheduler.write(this.storage, data);
      // crossEntropy checks labels against this range: it must describe the values written now.
      this.hostRange = range;
    } else {
      if (!ArrayBuffer.isView(values)) {
        for (let i = 0; i < values.length; i++) {
          if (typeof values[i] !== 'number') throw new ValueError(`write(): value ${i} is ${typeof values[i]}, not a number.`);
        }
      }
      this.runtime.scheduler.write(this.storage, Float32Array.from(values));
    }
    return this;
  }

  /**
   * The GPUBuffer holding the elements (running any recorded work first), for your own render or
   * compute passes: see gpuBufferOf() for the layout and lifetime rules.
   */
  get gpuBuffer(): GPUBuffer {
    return gpuBufferOf(this);
  }

  /** A tensor with the same storage and no autograd history. */
  detach(): Tensor {
    this.assertLive('detach');
    return new Tensor(this.runtime, this.storage, this.shape, this.dtype, this.strides, this.offset);
  }

  /** Reverse-mode AD: accumulates d(this)/d(leaf) into every leaf's .grad. */
  backward(gradient?: Tensor): void {
    backward(this, gradient);
  }

  /** Matrix product as torch.matmul: 1-D (dot, row or column), 2-D, and batched with broadcast batch dimensions. */
  matmul(other: Tensor): Tensor {
    return apply('matmul', [this, tensorArgument('matmul', 'other', other)], {});
  }

  /** Batched matrix product as torch.bmm: [B, M, K] · [B, K, N] → [B, M, N], both 3-D with the same B (no broadcasting). */
  bmm(mat2: Tensor): Tensor {
    return apply('matmul', [this, checkBmm(this, tensorArgument('bmm', 'mat2', mat2))], {});
  }

  /** Elementwise sum, with numpy broadcasting; a number is a scalar. */
  add(other: Tensor | number): Tensor {
    const b = operand('add', other);
    if (typeof b === 'number') return apply('addScalar', [this], { value: b });
    return apply('add', [this, b], {});
  }

  /** Elementwise difference, with numpy broadcasting; a number is a scalar. */
  sub(other: Tensor | number): Tensor {
    const b = operand('sub', other);
    if (typeof b === 'number') return apply('addScalar', [this], { value: -b });
    return apply('sub', [this, b], {});
  }

  /** Elementwise product, with numpy broadcasting; a number scales every element. */
  mul(other: Tensor | number): Tensor {
    const b = operand('mul', other);
    if (typeof b === 'number') return apply('scale', [this], { factor: b });
    return apply('mul', [this, b], {});
  }

  /** Elementwise negation. */
  neg(): Tensor {
    return apply('scale', [this], { factor: -1 });
  }

  /** Elementwise quotient, with numpy broadcasting; a number divides every element. */
  div(other: Tensor | number): Tensor {
    const b = operand('div', other);
    return typeof b === 'number' ? apply('divScalar', [this], { value: b }) : apply('div', [this, b], {});
  }

  /** Elementwise power (a tensor exponent broadcasts); as PyTorch, x^0 = 1 with a zero gradient, a negative base needs an integer exponent. */
  pow(exponent: Tensor | number): Tensor {
    const e = operand('pow', exponent, 'exponent');
    return typeof e === 'number' ? apply('powScalar', [this], { exponent: e }) : apply('pow', [this, e], {});
  }

  /** Elementwise larger value with broadcasting; NaN wins; at ties each input gets half the gradient. */
  maximum(other: Tensor): Tensor {
    return apply('maximum', [this, tensorArgument('maximum', 'other', other)], {});
  }

  /** Elementwise smaller value with broadcasting; NaN wins; at ties each input gets half the gradient. */
  minimum(other: Tensor): Tensor {
    return apply('minimum', [this, tensorArgument('minimum', 'other', other)], {});
  }

  /** Elementwise |x|; the gradient at 0 is 0. */
  abs(): Tensor {
    return apply('abs', [this], {});
  }

  /** Elementwise eˣ. */
  exp(): Tensor {
    return apply('exp', [this], {});
  }

  /** Elementwise natural logarithm (NaN below 0, −inf at 0). */
  log(): Tensor {
    return apply('log', [this], {});
  }

  /** Elementwise ln(1 + x), accurate for small x. */
  log1p(): Tensor {
    return apply('log1p', [this], {});
  }

  /** Elementwise square root. */
  sqrt(): Tensor {
    return apply('sqrt', [this], {});
  }

  /** Elementwise 1 / √x. */
  rsqrt(): Tensor {
    return apply('rsqrt', [this], {});
  }

  /** Elementwise x². */
  square(): Tensor {
    return apply('square', [this], {});
  }

  /** Elementwise sine. */
  sin(): Tensor {
    return apply('sin', [this], {});
  }

  /** Elementwise cosine. */
  cos(): Tensor {
    return apply('cos', [this], {});
  }

  /** Elementwise hyperbolic tangent (±1 for large |x|, never NaN from overflow). */
  tanh(): Tensor {
    return apply('tanh', [this], {});
  }

  /** Elementwise 1 / (1 + e⁻ˣ), computed without overflow. */
  sigmoid(): Tensor {
    return apply('sigmoid', [this], {});
  }

  /** Elementwise min(max(x, min), max); either bound may be omitted (null), not both. NaN stays NaN. */
  clamp(min?: number | null, max?: number | null): Tensor {
    return apply('clamp', [this], clampBounds(min, max));
  }

  /** Elementwise max(x, 0); the gradient at exactly 0 is 0. */
  relu(): Tensor {
    return apply('relu', [this], {});
  }

  /** Sum of all elements, or along one axis. */
  sum(axis: number | null = null, keepdim = false): Tensor {
    return apply('sum', [this], { axis, keepdim });
  }

  /** Mean of all elements, or along one axis. */
  mean(axis: number | null = null, keepdim = false): Tensor {
    return apply('mean', [this], { axis, keepdim });
  }

  /** Index of the largest value along an axis, the last by default (int32; NaN counts as the largest). */
  argmax(axis = -1): Tensor {
    return apply('argmax', [this], { axis });
  }

  /** Swaps two axes (the last two by default). A view: no data is copied. */
  transpose(dim0 = -2, dim1 = -1): Tensor {
    return apply('transpose', [this], { dim0, dim1 });
  }

  /** The 2-D transpose, as a view. */
  get T(): Tensor {
    return this.transpose();
  }

  /** Same elements, new shape: a view when the strides allow it (as PyTorch), else a copy. One dimension may be -1. */
  reshape(shape: readonly number[]): Tensor {
    return apply('reshape', [this], { shape, forceCopy: false });
  }

  /** Same elements, new shape, always a view; throws a ShapeError when that would need a copy (use reshape). */
  view(shape: readonly number[]): Tensor {
    return apply('reshape', [this], { shape, forceCopy: false, viewOnly: true });
  }

  /** The elements in row-major order in storage of their own; this tensor itself when it already is contiguous. */
  contiguous(): Tensor {
    return this.isContiguous ? this : apply('reshape', [this], { shape: this.shape, forceCopy: true, op: 'contiguous' });
  }

  /** Reorders the dimensions: output dimension i is input dimension dims[i]. A view. */
  permute(dims: readonly number[]): Tensor {
    return apply('permute', [this], { dims });
  }

  /** Inserts a dimension of size 1 at `dim` (-ndim-1 ≤ dim ≤ ndim). A view. */
  unsqueeze(dim: number): Tensor {
    return apply('reshape', [this], { shape: unsqueezedShape(this.shape, dim), forceCopy: false, op: 'unsqueeze' });
  }

  /** Removes dimensions of size 1: all of them, or only `dim` (left as is when its size is not 1). A view. */
  squeeze(dim?: number): Tensor {
    return apply('reshape', [this], { shape: squeezedShape(this.shape, dim), forceCopy: false, op: 'squeeze' });
  }

  /** Merges dimensions startDim..endDim (inclusive) into one; a view when the strides allow it, else a copy. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return apply('reshape', [this], { shape: flattenedShape(this.shape, startDim, endDim), forceCopy: false, op: 'flatten' });
  }

  /** The slice start..start+length of dimension dim (a negative start counts from the end). A view. */
  narrow(dim: number, start: number, length: number): Tensor {
    return apply('narrow', [this], { dim, start, length });
  }

  /** Broadcasts to a larger shape as a view (stride 0 along new or size-1 axes). */
  expand(shape: readonly number[]): Tensor {
    return apply('expand', [this], { shape });
  }

  /** This tensor converted to dtype (float → int truncates toward zero, NaN → 0; non-zero → true); a view of it when it already has it. */
  to(dtype: DType): Tensor {
    return apply('to', [this], { dtype });
  }

  /** to('float32'). */
  float(): Tensor {
    return this.to('float32');
  }

  /** to('int32'). */
  int(): Tensor {
    return this.to('int32');
  }

  /** to('bool'). */
  bool(): Tensor {
    return this.to('bool');
  }

  /** Elementwise this == other (bool, broadcasting; no gradient). */
  eq(other: Tensor | number): Tensor {
    return compareWith('eq', this, other);
  }

  /** Elementwise this != other (bool, broadcasting; no gradient). */
  ne(other: Tensor | number): Tensor {
    return compareWith('ne', this, other);
  }

  /** Elementwise this < other (bool, broadcasting; no gradient). */
  lt(other: Tensor | number): Tensor {
    return compareWith('lt', this, other);
  }

  /** Elementwise this <= other (bool, broadcasting; no gradient). */
  le(other: Tensor | number): Tensor {
    return compareWith('le', this, other);
  }

  /** Elementwise this > other (bool, broadcasting; no gradient). */
  gt(other: Tensor | number): Tensor {
    return compareWith('gt', this, other);
  }

  /** Elementwise this >= other (bool, broadcasting; no gradient). */
  ge(other: Tensor | number): Tensor {
    return compareWith('ge', this, other);
  }

  /** where(condition, this, other), as PyTorch's Tensor.where. */
  where(condition: Tensor, other: Tensor | number): Tensor {
    return where(condition, this, other);
  }

  /** A short description (shape, dtype, requiresGrad) — not the values; use data() for those. */
  toString(): string {
    return `Tensor(shape=${fmtShape(this.shape)}, dtype=${this.dtype}${this._requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/**
 * @internal Returns value when it is a Tensor; otherwise throws a ValueError naming the function
 * and the argument (`crossEntropy: argument 'labels' must be a Tensor, got an array.`).
 */
export function tensorArgument(fn: string, name: string, value: unknown): Tensor {
  if (value instanceof Tensor) return value;
  throw new ValueError(`${fn}: argument '${name}' must be a Tensor, got ${describeValue(value)}.`);
}

/** The other operand of add, sub, mul, div and pow: a Tensor or a number (a scalar). */
function operand(op: string, value: unknown, name = 'other'): Tensor | number {
  if (typeof value === 'number' || value instanceof Tensor) return value;
  throw new ValueError(`${op}: argument '${name}' must be a Tensor or a number, got ${describeValue(value)}.`);
}

/** clamp's bounds, checked: numbers or null/undefined, at least one given (PyTorch's rule). */
function clampBounds(min: unknown, max: unknown): { min: number | null; max: number | null } {
  const bound = (v: unknown, name: string): number | null => {
    if (v === undefined || v === null) return null;
    if (typeof v === 'number') return v;
    throw new ValueError(`clamp: argument '${name}' must be a number or null, got ${describeValue(v)}.`);
  };
  const bounds = { min: bound(min, 'min'), max: bound(max, 'max') };
  if (bounds.min === null && bounds.max === null) throw new ValueError("clamp: at least one of 'min' and 'max' must be given, got neither.");
  return bounds;
}

/** Elementwise comparison against a tensor or a number. */
function compareWith(op: 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge', a: Tensor, other: unknown): Tensor {
  const b = operand(op, other);
  return typeof b === 'number' ? apply('compareScalar', [a], { op, value: b }) : apply('compare', [a, b], { op });
}

/**
 * input where condition (a bool tensor) is true, else other; the three broadcast together. A number
 * for input or other is a 0-d tensor. The gradient reaches input and other through the mask.
 */
export function where(condition: Tensor, input: Tensor | number, other: Tensor | number): Tensor {
  const c = tensorArgument('where', 'condition', condition);
  const side = (name: string, v: unknown): Tensor => {
    if (typeof v === 'number') return filled(c.runtime, [], v, 'float32', 'where');
    return tensorArgument('where', name, v);
  };
  return apply('where', [c, side('input', input), side('other', other)], {});
}
