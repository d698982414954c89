// Helpers shared by the op files: output allocation, dispatch sizing, parameter packing, checks.

import { DeviceLimitError, DTypeError, fmtShape, ShapeError } from '../errors.js';
import { fillDispatch, float32Bits } from '../runtime/kernels.js';
import type { Runtime } from '../runtime/runtime.js';
import { Storage } from '../runtime/scheduler.js';
import { type DType, numel, Tensor } from '../tensor.js';
import { WORKGROUP_SIZE } from './shader_constants.js';

/** A new tensor whose storage a recorded dispatch will write. */
export function output(rt: Runtime, shape: readonly number[], dtype: DType = 'float32', op = 'op'): Tensor {
  checkBufferLimits(rt, op, shape);
  return new Tensor(rt, new Storage(Math.max(4, numel(shape) * 4)), shape, dtype);
}

/** Workgroup counts for n invocations at `perGroup` each; past 65535 groups the grid goes 2-D. */
export function grid1d(n: number, perGroup = WORKGROUP_SIZE): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / perGroup));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}

/** Packs uniform parameters: integers as u32, floats as f32, padded to 16-byte rows. */
export class Params {
  private words: number[] = [];
  private readonly f32 = new Float32Array(1);
  private readonly u32 = new Uint32Array(this.f32.buffer);

  u(...values: number[]): this {
    for (const v of values) this.words.push(v >>> 0);
    return this;
  }

  f(...values: number[]): this {
    for (const v of values) {
      this.f32[0] = v;
      this.words.push(this.u32[0]!);
    }
    return this;
  }

  /** The words so far, unpadded (to splice into a larger parameter block). */
  raw(): number[] {
    return [...this.words];
  }

  done(): Uint32Array<ArrayBuffer> {
    while (this.words.length % 4 !== 0) this.words.push(0);
    return Uint32Array.from(this.words);
  }
}

export function requireFloat(op: string, t: Tensor, what: string): void {
  if (t.dtype !== 'float32') {
    throw new DTypeError(`${op}: ${what} must be float32, got ${t.dtype} (shape ${fmtShape(t.shape)}).`);
  }
}

/** Checks a tensor of this shape fits the device's buffer limits; `what` names it in the message. */
export function checkBufferLimits(rt: Runtime, op: string, shape: readonly number[], what = 'a tensor of shape'): void {
  const bytes = numel(shape) * 4;
  const { maxStorageBufferBindingSize, maxBufferSize } = rt.ctx.limits;
  if (bytes > maxBufferSize) {
    throw new DeviceLimitError(`${op}: ${what} ${fmtShape(shape)} needs ${bytes} bytes, over the device's maxBufferSize of ${maxBufferSize} bytes.`);
  }
  if (bytes > maxStorageBufferBindingSize) {
    throw new DeviceLimitError(
      `${op}: ${what} ${fmtShape(shape)} needs ${bytes} bytes, over the device's maxStorageBufferBindingSize of ${maxStorageBufferBindingSize} bytes.`,
    );
  }
}

/** Normalises a possibly negative axis. */
export function normAxis(op: string, axis: number, ndim: number): number {
  const a = axis < 0 ? axis + ndim : axis;
  if (!Number.isInteger(a) || a < 0 || a >= Math.max(ndim, 1)) {
    throw new ShapeError(`${op}: axis ${axis} is out of range for a tensor with ${ndim} dimensions.`);
  }
  return a;
}

/** The most dimensions a tensor may have (the elementwise kernels index through 8, as two vec4). */
export const MAX_RANK = 8;

/** Strides of `t` seen from a broadcast output of shape outShape (leading and size-1 axes get stride 0). */
export function broadcastStrides(t: Tensor, outShape: readonly number[]): number[] {
  const lead = outShape.length - t.shape.length;
  return outShape.map((_, d) => (d < lead || t.shape[d - lead] === 1 ? 0 : t.strides[d - lead]!));
}

/**
 * The same iteration with fewer dimensions: size-1 dimensions dropped, and each dimension merged
 * into the one before it where every input steps through both as one (stride of the outer =
 * stride × size of the inner). A contiguous or plainly broadcast map becomes 1-D or 2-D.
 */
export function coalesce(shape: readonly number[], strides: readonly (readonly number[])[]): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * shape[d]!)) {
      outShape[last] = outShape[last]! * shape[d]!;
      strides.forEach((s, k) => {
        outStrides[k]![last] = s[d]!;
      });
    } else {
      outShape.push(shape[d]!);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** A shape padded on the left with 1s to MAX_RANK. */
export function padShape(shape: readonly number[]): number[] {
  return [...new Array<number>(MAX_RANK - shape.length).fill(1), ...shape];
}

/** Throws a ShapeError when a shape has more than MAX_RANK dimensions. */
export function checkRank(op: string, shape: readonly number[]): void {
  if (shape.length > MAX_RANK) throw new ShapeError(`${op}: tensors of up to ${MAX_RANK} dimensions are supported, got shape ${fmtShape(shape)}.`);
}

/** A new tensor with every element set to value, by one fill dispatch (none when it is empty). */
export function filled(rt: Runtime, shape: readonly number[], value: number, dtype: DType = 'float32', op = 'op'): Tensor {
  const out = output(rt, shape, dtype, op);
  const n = out.size;
  if (n === 0) return out;
  // The fill kernel writes raw 32-bit words: the int32 value, bool's 0 or 1, or the float32 bits (NaN included).
  rt.scheduler.record(fillDispatch(out.storage, n, dtype === 'int32' ? value | 0 : dtype === 'bool' ? Number(value !== 0) : float32Bits(value)));
  return out;
}
