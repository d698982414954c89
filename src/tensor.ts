// Tensor: a shape, a dtype, strides into a storage (views share storage), its gradient and autograd
// links, and its life cycle (dispose, keep, reads and writes). The op methods live in tensor_methods.ts.

import { describeValue, int32Values } from './arguments.js';
import { apply, backward, type GradNode } from './autograd.js';
import { DisposedError, DTypeError, fmtShape, ShapeError, ValueError } from './errors.js';
import { checkHostWritable, gpuBufferOf } from './interop.js';
import { filled } from './ops/common.js';
import type { Runtime } from './runtime/runtime.js';
import type { Storage } from './runtime/scheduler.js';
import { TensorMethods } from './tensor_methods.js';

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

/** Whether `strides` are the contiguous ones of `shape` (dims of size 1 may have any stride: they are never stepped). */
export function hasContiguousStrides(shape: readonly number[], strides: readonly number[]): boolean {
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] !== 1 && strides[d] !== expected) return false;
    expected *= shape[d]!;
  }
  return true;
}

// Contiguous strides per frozen shape array, shared by the tensors that share the shape.
const stridesOfShape = new WeakMap<readonly number[], readonly number[]>();
function frozenContiguousStrides(shape: readonly number[]): readonly number[] {
  let strides = stridesOfShape.get(shape);
  if (!strides) {
    strides = Object.freeze(contiguousStrides(shape));
    stridesOfShape.set(shape, strides);
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
export class Tensor extends TensorMethods {
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
  /**
   * @internal For int32 tensors made from host values: their [min, max], for cheap label checks.
   * The range is the storage's, so a view of part of it (narrow, split) has none: its own values
   * may all lie inside a range its storage's other values widen.
   */
  get hostRange(): readonly [number, number] | null {
    const r = this.storage.hostRange;
    if (!r || r.version !== this.storage.version) return null;
    // No elements: the empty range, [+inf, −inf], whatever the storage holds.
    if (this.size === 0) return [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY];
    return this.coversStorage ? [r.min, r.max] : null;
  }

  /**
   * @internal True when this tensor's elements are every element of its storage (itself, a
   * reshape, transpose or expansion of the whole): then what is known of the storage's values is
   * known of this tensor's, and a captured step's check of an argument checks exactly these values.
   */
  get coversStorage(): boolean {
    if (this.offset !== 0) return false;
    // Views never overlap themselves, so `distinct` offsets from 0 up to `last` = distinct − 1 are all of them.
    let distinct = 1;
    let last = 0;
    this.shape.forEach((n, d) => {
      const stride = this.strides[d]!;
      if (stride === 0) return;
      distinct *= n;
      last += (n - 1) * stride;
    });
    return distinct > 0 && distinct * 4 === this.storage.byteLength && last === distinct - 1;
  }

  /** @internal Records the range of the values just written (null: unknown). Views share it: it belongs to the storage. */
  set hostRange(range: readonly [number, number] | null) {
    this.storage.hostRange = range && { min: range[0], max: range[1], version: this.storage.version };
  }
  private _requiresGrad = false;
  private _grad: Tensor | null = null;
  private disposed = false;
  private pinned = false;
  /** keep() was called: the caller holds this tensor, so replacing it as a gradient does not release it. */
  private kept = false;

  /** @internal Use tensor(), zeros(), ... or the ops; this wraps a storage. */
  constructor(rt: Runtime, storage: Storage, shape: readonly number[], dtype: DType, strides?: readonly number[], offset = 0) {
    super();
    this.runtime = rt;
    this.storage = storage;
    // Frozen arrays are shared rather than copied: an op's result usually has its input's shape.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.strides = strides ? (Object.isFrozen(strides) ? strides : Object.freeze([...strides])) : frozenContiguousStrides(this.shape);
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
    return hasContiguousStrides(this.shape, this.strides);
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
   * null; a view (transposed, expanded) is fine: optimizers read it through its strides. The
   * tensor owns its gradient: it is released with the tensor, and when replaced (`t.grad = null`
   * or another tensor), unless you called keep() on it.
   */
  get grad(): Tensor | null {
    return this._grad;
  }

  /** Assigns a gradient (validated: a wrong dtype, shape, device or a released tensor throws and changes nothing); the one replaced is released. */
  set grad(value: Tensor | null) {
    const replaced = this.swapGrad(value);
    if (replaced && replaced !== this._grad && !replaced.kept) replaced.dispose();
  }

  /** @internal Sets .grad (validated) without releasing the one it replaces, and returns that one: the caller now holds it. */
  swapGrad(value: Tensor | null): Tensor | null {
    const replaced = this._grad;
    this._grad = this.checkGradient(value);
    return replaced;
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
    this.kept = true;
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

  /** The 2-D transpose, as a view. */
  get T(): Tensor {
    return this.transpose();
  }

  /** A short description (shape, dtype, requiresGrad) — not the values; use data() for those. */
  override toString(): string {
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
