// Encoding recorded dispatches into a compute pass for a flush: the pipeline, a uniform buffer for
// the parameters (cached by content), and the bind groups (cached; see pipelines.ts), each set only
// when it differs from the one the pass already has in its slot.
import type { BufferPool, Region } from './buffers.js';
import { bindingSize, bindsTwice, type Dispatch } from './dispatch.js';
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

/** What a flush's NaN pre-fill needs: which storages got memory in it, and those already filled. */
export interface NanFill {
  fresh: (s: Storage) => boolean;
  filled: Set<Storage>;
}

export class DispatchEncoder {
  private paramBuffers = new Map<string, GPUBuffer>();
  /** Compute dispatches encoded so far. */
  dispatches = 0;
  /** The pass being encoded, and the pipeline and groups set in it so far. */
  private pass: GPUComputePassEncoder | null = null;
  private pipeline: GPUComputePipeline | null = null;
  private bound: GPUBindGroup[] = [];
  private readonly idOf = (b: GPUBuffer): number => this.pool.idOf(b);

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

  /**
   * Encodes one dispatch. With `nanFill`, each storage it writes that is `fresh` (given memory by
   * this flush) and not yet `filled` is first filled with NaN, so an element it fails to write shows.
   */
  encode(pass: GPUComputePassEncoder, d: Dispatch, regions: readonly Region[], nanFill: NanFill | null = null): void {
    if (nanFill) {
      d.kernel.bindings.forEach((access, b) => {
        const st = d.storages[b]!;
        if (access !== 'rw' || !nanFill.fresh(st) || nanFill.filled.has(st)) return;
        nanFill.filled.add(st);
        this.fill(pass, st, regions[b]!, 0x7fc00000);
      });
    }
    const pipeline = this.pipelines.pipeline(d.kernel, d.constants, bindsTwice(d));
    const paramBuffer = this.paramBuffer(d.params);
    const sizes = d.storages.map((s) => bindingSize(s.byteLength));
    const groups = this.pipelines.groupsFor(pipeline, paramBuffer, regions, sizes, this.idOf);
    if (pass !== this.pass) {
      this.pass = pass;
      this.bound = [];
      this.pipeline = null;
    }
    if (pipeline !== this.pipeline) pass.setPipeline(pipeline);
    this.pipeline = pipeline;
    // A group stays set across pipelines: one already in its slot is not set again.
    for (let g = 0; g < groups.length; g++) {
      if (this.bound[g] === groups[g]) continue;
      pass.setBindGroup(g, groups[g]!);
      this.bound[g] = groups[g]!;
    }
    pass.dispatchWorkgroups(d.workgroups[0], d.workgroups[1], d.workgroups[2]);
    this.dispatches++;
  }

  /** Fills a storage's buffer with one 32-bit pattern (NaN in debug mode) inside the pass, before its first writer. */
  fill(pass: GPUComputePassEncoder, storage: Storage, region: Region, pattern: number): void {
    // Not counted: a debugging aid, not work the program asked for.
    this.encode(pass, fillDispatch(storage, bindingSize(storage.byteLength) / 4, pattern), [region]);
    this.dispatches--;
  }
}
