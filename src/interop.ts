// Zero-copy interop with an application's own WebGPU code: wrap a GPUBuffer as a tensor, and hand
// a tensor's GPUBuffer to the application's render or compute passes.

import { describeValue } from './arguments.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from './errors.js';
import { checkBufferLimits } from './ops/common.js';
import { runtime } from './runtime/runtime.js';
import { Storage } from './runtime/scheduler.js';
import { type DType, numel, Tensor } from './tensor.js';

const COPY_DST = 0x08;
const STORAGE = 0x80;

/** Whether a value looks like a GPUBuffer (checked by shape: a buffer may come from another realm). */
function isGPUBuffer(value: unknown): value is GPUBuffer {
  const b = value as Partial<GPUBuffer> | null;
  return (
    typeof b === 'object' &&
    b !== null &&
    typeof b.size === 'number' &&
    typeof b.usage === 'number' &&
    typeof b.destroy === 'function' &&
    typeof b.mapAsync === 'function'
  );
}

/**
 * Wraps an existing GPUBuffer (made on webgrad's device, with STORAGE usage) as a tensor, without
 * copying. The buffer stays yours: webgrad never pools or destroys it, and ops that write a new
 * tensor never write into it (only in-place optimizer updates of a parameter made from it do). Its
 * first `shape`-many float32 (or int32) values are the elements. Reading the values back needs no
 * COPY_SRC usage (without it, a kernel first copies them into one of webgrad's buffers);
 * overwriting them from the host (`write()`, `load()`) needs COPY_DST. Reading a tensor whose
 * buffer you destroyed is a ValueError.
 */
export function fromGPUBuffer(buffer: GPUBuffer, shape: readonly number[], options: { dtype?: DType } = {}): Tensor {
  const rt = runtime();
  if (!isGPUBuffer(buffer)) throw new ValueError(`fromGPUBuffer: expected a GPUBuffer, got ${describeValue(buffer)}.`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new ShapeError(`fromGPUBuffer: invalid shape ${Array.isArray(shape) ? fmtShape(shape) : describeValue(shape)}: sizes must be integers ≥ 0.`);
  }
  const dtype = options.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'int32')
    throw new DTypeError(`fromGPUBuffer: dtype ${JSON.stringify(dtype)} is not supported; use 'float32' or 'int32'.`);
  const n = numel(shape);
  checkBufferLimits(rt, 'fromGPUBuffer', shape);
  if ((buffer.usage & STORAGE) === 0) {
    throw new ValueError(`fromGPUBuffer: the buffer lacks STORAGE usage (usage flags ${buffer.usage}); create it with GPUBufferUsage.STORAGE.`);
  }
  // Kernels bind at least one element, so even an empty tensor needs 4 bytes.
  const bytes = Math.max(4, n * 4);
  if (buffer.size < bytes) {
    throw new ValueError(`fromGPUBuffer: a buffer of ${buffer.size} bytes is too small for shape ${fmtShape(shape)} (${bytes} bytes).`);
  }
  if (buffer.mapState !== undefined && buffer.mapState !== 'unmapped') {
    throw new ValueError(
      `fromGPUBuffer: the buffer is ${buffer.mapState === 'pending' ? 'being mapped' : 'mapped'}; unmap() it first (the GPU cannot use a mapped buffer).`,
    );
  }
  const storage = new Storage(bytes);
  storage.buffer = buffer;
  storage.external = true;
  return new Tensor(rt, storage, shape, dtype);
}

/**
 * @internal Throws unless the host can overwrite the tensor's values (write(), load()): it is live,
 * not a view, and, when it wraps an application's buffer, that buffer has COPY_DST usage.
 */
export function checkHostWritable(t: Tensor, op: string): void {
  t.assertLive(op);
  if (!t.isContiguous || t.offset !== 0) throw new ValueError(`${op}: cannot write into a view of shape ${fmtShape(t.shape)}; write into the tensor it views.`);
  const buffer = t.storage.external ? t.storage.buffer : null;
  if (buffer && (buffer.usage & COPY_DST) === 0) {
    throw new ValueError(
      `${op}: the tensor of shape ${fmtShape(t.shape)} wraps an application buffer without COPY_DST usage (usage flags ${buffer.usage}), so the host cannot write it; create the buffer with GPUBufferUsage.COPY_DST.`,
    );
  }
}

/**
 * The GPUBuffer holding a tensor's elements, after running any work recorded for it. The elements
 * are the first `size` float32/int32 values, row-major (views are refused: reshape() them into a
 * contiguous copy first). Lifetime: valid until the tensor is disposed or released (a parameter's
 * buffer stays the same for its whole life: optimizer steps update it in place); after that the
 * buffer returns to webgrad's pool and holds other data. Work you submit after this call sees every
 * value webgrad computed before it.
 */
export function gpuBufferOf(t: Tensor): GPUBuffer {
  t.assertLive('gpuBuffer');
  if (!t.isContiguous || t.offset !== 0) {
    throw new ValueError(
      `gpuBuffer: the tensor of shape ${fmtShape(t.shape)} is a view (strides [${t.strides.join(', ')}]); use reshape() for a contiguous copy.`,
    );
  }
  t.runtime.scheduler.handOut(t.storage);
  if (!t.storage.buffer) throw new ValueError(`gpuBuffer: the tensor of shape ${fmtShape(t.shape)} has no elements to hold.`);
  // A small tensor may live in a slot of a buffer shared with others: it gets a buffer of its own.
  return t.runtime.scheduler.ownBuffer(t.storage);
}
