// Zero-copy interop with an application's own WebGPU code: wrap a GPUBuffer as a tensor, and hand
// a tensor's GPUBuffer to the application's render or compute passes.
import { Tensor, numel, type DType } from './tensor.js';
import { Storage } from './runtime/scheduler.js';
import { runtime } from './runtime/runtime.js';
import { ValueError, fmtShape } from './errors.js';
import { checkBufferLimits } from './ops/common.js';

const STORAGE = 0x80;

/**
 * Wraps an existing GPUBuffer (made on webgrad's device, with STORAGE usage; add COPY_SRC to read
 * it back) as a tensor, without copying. The buffer stays yours: webgrad never pools or destroys
 * it, and ops that write a new tensor never write into it (only in-place optimizer updates of a
 * parameter made from it do). Its first `shape`-many float32 (or int32) values are the elements.
 */
export function fromGPUBuffer(buffer: GPUBuffer, shape: readonly number[], options: { dtype?: DType } = {}): Tensor {
  const rt = runtime();
  const n = numel(shape);
  checkBufferLimits(rt, 'fromGPUBuffer', shape);
  if ((buffer.usage & STORAGE) === 0) {
    throw new ValueError(`fromGPUBuffer: the buffer lacks STORAGE usage (usage flags ${buffer.usage}); create it with GPUBufferUsage.STORAGE.`);
  }
  if (buffer.size < n * 4) {
    throw new ValueError(`fromGPUBuffer: a buffer of ${buffer.size} bytes is too small for shape ${fmtShape(shape)} (${n * 4} bytes).`);
  }
  const storage = new Storage(Math.max(4, n * 4));
  storage.buffer = buffer;
  storage.external = true;
  return new Tensor(rt, storage, shape, options.dtype ?? 'float32');
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
    throw new ValueError(`gpuBuffer: the tensor of shape ${fmtShape(t.shape)} is a view (strides [${t.strides.join(', ')}]); use reshape() for a contiguous copy.`);
  }
  if (t.storage.pendingUses > 0 || !t.storage.buffer) t.runtime.scheduler.flush();
  if (!t.storage.buffer) throw new ValueError(`gpuBuffer: the tensor of shape ${fmtShape(t.shape)} has no elements to hold.`);
  return t.storage.buffer;
}
