// Tensor: a shape, a dtype, strides into a storage (views share storage), and its autograd
// links. Methods are thin calls into the op table through autograd's apply().

import { describeValue, int32Values } from './arguments.js';
import { apply, backward, type GradNode } from './autograd.js';
import { DisposedError, DTypeError, fmtShape, ShapeError, ValueError } from './errors.js';
import { checkHostWritable, gpuBufferOf } from './interop.js';
import type { Runtime } from './runtime/runtime.js';
import type { Storage } from './runtime/scheduler.js';

/** Element type of a tensor: 32-bit floats, or 32-bit signed integers (labels, argmax results). */
export type DType = 'float32' | 'int32';

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
  hostRange: readonly [number, number] | null = null;
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
    const values = this.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
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
    if (this.dtype === 'int32') {
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

  /** Matrix product of two 2-D float32 tensors: [M, K] · [K, N] → [M, N]. */
  matmul(other: Tensor): Tensor {
    return apply('matmul', [this, tensorArgument('matmul', 'other', other)], {});
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

  /** Elementwise max(x, 0); the gradient at exactly 0 is 0. */
  relu(): Tensor {
    return apply('relu', [this], {});
  }

  /** Sum of all elements (null), or over one dim or a list of dims. */
  sum(axis: number | readonly number[] | null = null, keepdim = false): Tensor {
    return apply('sum', [this], { axis, keepdim });
  }

  /** Mean of all elements (null), or over one dim or a list of dims. */
  mean(axis: number | readonly number[] | null = null, keepdim = false): Tensor {
    return apply('mean', [this], { axis, keepdim });
  }

  /** Index of the largest value along an axis, the last by default (int32; NaN counts as the largest). */
  argmax(axis = -1): Tensor {
    return apply('argmax', [this], { axis });
  }

  /** Index of the smallest value along an axis, the last by default (int32; NaN counts as the smallest). */
  argmin(axis = -1): Tensor {
    return apply('argmin', [this], { axis });
  }

  /** Largest value of all elements (null), or along one dim; values only (indices: argmax). Gradient to the first max. */
  max(dim: number | null = null, keepdim = false): Tensor {
    return apply('max', [this], { axis: dim, keepdim });
  }

  /** Smallest value of all elements (null), or along one dim; values only (indices: argmin). Gradient to the first min. */
  min(dim: number | null = null, keepdim = false): Tensor {
    return apply('min', [this], { axis: dim, keepdim });
  }

  /** Variance of all elements (null) or along one dim; `correction` 1 (default) is unbiased, 0 divides by N. */
  var(dim: number | null = null, options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return apply('var', [this], { axis: dim, correction: options.correction ?? 1, keepdim: options.keepdim ?? false });
  }

  /** Standard deviation, sqrt(var), with the same `correction` and `keepdim` options. */
  std(dim: number | null = null, options: { correction?: number; keepdim?: boolean } = {}): Tensor {
    return apply('std', [this], { axis: dim, correction: options.correction ?? 1, keepdim: options.keepdim ?? false });
  }

  /** The vector p-norm (p = 2 by default, 1 or Infinity) of all elements (null) or along one dim. */
  norm(p = 2, dim: number | null = null, keepdim = false): Tensor {
    return apply('norm', [this], { p, axis: dim, keepdim });
  }

  /** exp(x) / Σ exp(x) along `dim`, in one stable dispatch (as torch.softmax). */
  softmax(dim: number): Tensor {
    return apply('softmax', [this], { dim });
  }

  /** log(softmax(x)) along `dim`, computed as x − max − log Σ exp(x − max) (as torch.log_softmax). */
  logSoftmax(dim: number): Tensor {
    return apply('logSoftmax', [this], { dim });
  }

  /** log Σ exp(x) along `dim`, stable for huge values (as torch.logsumexp). */
  logsumexp(dim: number, keepdim = false): Tensor {
    return apply('logsumexp', [this], { dim, keepdim });
  }

  /** Swaps two axes (the last two by default). A view: no data is copied. */
  transpose(dim0 = -2, dim1 = -1): Tensor {
    return apply('transpose', [this], { dim0, dim1 });
  }

  /** The 2-D transpose, as a view. */
  get T(): Tensor {
    return this.transpose();
  }

  /** Same elements, new shape (a view when contiguous, else a copy). One dimension may be -1. */
  reshape(shape: readonly number[]): Tensor {
    return apply('reshape', [this], { shape, forceCopy: false });
  }

  /** Broadcasts to a larger shape as a view (stride 0 along new or size-1 axes). */
  expand(shape: readonly number[]): Tensor {
    return apply('expand', [this], { shape });
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

/** The other operand of add, sub and mul: a Tensor or a number (a scalar). */
function operand(op: string, value: unknown): Tensor | number {
  if (typeof value === 'number' || value instanceof Tensor) return value;
  throw new ValueError(`${op}: argument 'other' must be a Tensor or a number, got ${describeValue(value)}.`);
}
