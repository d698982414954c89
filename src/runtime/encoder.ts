// Encoding recorded dispatches into a compute pass for a flush: the pipeline, a uniform buffer for
// the parameters (cached by content), and a bind group (cached by pipeline, parameters and exact
// buffers, so a training loop that gets the same pooled buffers every step builds none after its
// first steps).
import type { BufferPool } from './buffers.js';
import { bindingSize, type Dispatch } from './dispatch.js';
import { fillDispatch } from './kernels.js';
import type { PipelineCache } from './pipelines.js';
import type { Storage } from './storage.js';

/** Distinct parameter blocks kept as uniform buffers before the cache is emptied. */
const MAX_PARAM_BUFFERS = 4096;

/** A uniform buffer holding `words` (padded to 16 bytes), written at creation. */
export function createUniform(device: GPUDevice, words: Uint32Array): GPUBuffer {
  const b = device.createBuffer({
    size: Math.max(16, Math.ceil(words.byteLength / 16) * 16),
    usage: 0x40 | 0x08, // UNIFORM | COPY_DST
    mappedAtCreation: true,
  });
  new Uint32Array(b.getMappedRange()).set(words);
  b.unmap();
  return b;
}

export class DispatchEncoder {
  private paramBuffers = new Map<string, GPUBuffer>();
  /** Compute dispatches encoded so far. */
  dispatches = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: PipelineCache,
    private readonly pool: BufferPool,
  ) {}

  /**
   * Called before a flush encodes anything: a loop whose parameters never repeat must not grow the
   * cache for ever, and trimming is only safe before any bind group of the flush refers to them.
   */
  trim(): void {
    if (this.paramBuffers.size <= MAX_PARAM_BUFFERS) return;
    for (const b of this.paramBuffers.values()) b.destroy();
    this.paramBuffers = new Map();
    this.pipelines.clearBindGroups();
  }

  private paramBuffer(words: Uint32Array): GPUBuffer {
    const key = words.join(',');
    let b = this.paramBuffers.get(key);
    if (!b) {
      b = createUniform(this.device, words);
      this.paramBuffers.set(key, b);
    }
    return b;
  }

  encode(pass: GPUComputePassEncoder, d: Dispatch, buffers: readonly GPUBuffer[]): void {
    const pipeline = this.pipelines.pipeline(d.kernel, d.constants);
    const paramBuffer = this.paramBuffer(d.params);
    // Parameter buffers are cached by content, so the buffer's identity stands for its values.
    let key = `${pipeline.label}|${this.pool.idOf(paramBuffer)}`;
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: paramBuffer } }];
    for (let b = 0; b < d.storages.length; b++) {
      const size = bindingSize(d.storages[b]!.byteLength);
      key += `|${this.pool.idOf(buffers[b]!)}:${size}`;
      entries.push({ binding: b + 1, resource: { buffer: buffers[b]!, offset: 0, size } });
    }
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, this.pipelines.bindGroup(pipeline, key, entries));
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    this.dispatches++;
  }

  /** Fills a storage's buffer with one 32-bit pattern (NaN in debug mode) inside the pass, before its first writer. */
  fill(pass: GPUComputePassEncoder, storage: Storage, buffer: GPUBuffer, pattern: number): void {
    // Not counted: a debugging aid, not work the program asked for.
    this.encode(pass, fillDispatch(storage, bindingSize(storage.byteLength) / 4, pattern), [buffer]);
    this.dispatches--;
  }
}
