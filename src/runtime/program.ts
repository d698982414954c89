// A captured step as the GPU runs it: every dispatch with its pipeline and bind group built once,
// over buffers the program owns, so a replay is input copies, the dispatches and output copies in
// one encoder and one submit — no recording, no planning, no allocation, no cache lookups.
// The scheduler builds programs (Scheduler.endCapture) and replays them (Scheduler.replay).
import type { Region } from './buffers.js';
import { bindingSize } from './dispatch.js';
import type { Storage } from './storage.js';

/** One dispatch of a program. */
export interface ProgramStep {
  pipeline: GPUComputePipeline;
  /** Its bind groups, in group order. */
  bindGroups: readonly GPUBindGroup[];
  workgroups: readonly [number, number, number];
  /** The uniform buffer bound at binding 0 (the program's own). */
  uniform: GPUBuffer;
  /** The words it holds now. */
  words: Uint32Array<ArrayBuffer>;
  /** Recomputes the words before each replay (learning rate, Adam's step count); see Dispatch.refresh. */
  refresh?: () => Uint32Array<ArrayBuffer>;
  /** False when the program must be recorded again; see Dispatch.valid. */
  valid?: () => boolean;
}

/** A buffer region the program reads its inputs into or its results from. */
export interface ProgramSlot {
  region: Region;
  byteLength: number;
}

export class Program {
  disposed = false;
  /** Where each held storage was when the program was built. */
  private readonly heldRegions: Map<Storage, Region | null>;

  constructor(
    readonly steps: readonly ProgramStep[],
    readonly inputs: readonly ProgramSlot[],
    readonly outputs: readonly ProgramSlot[],
    /** Regions from the pool that only this program uses: they go back when it is disposed. */
    readonly ownedBuffers: readonly Region[],
    /** Uniform buffers created for it: destroyed with it. */
    readonly uniforms: readonly GPUBuffer[],
    /** Storages made during the capture (their buffers are the program's while it lives). */
    readonly madeStorages: ReadonlySet<Storage>,
    /** Storages from before the capture that it binds (parameters, optimizer state): it holds a handle on each. */
    readonly heldStorages: ReadonlySet<Storage>,
    /** Those of them it writes in place (parameters, optimizer state): each replay is an in-place write. */
    readonly updatedStorages: readonly Storage[],
  ) {
    this.heldRegions = new Map([...heldStorages].map((s) => [s, s.region]));
  }

  /**
   * Why the program can no longer stand for the step, or null while it can: a dispatch was
   * recorded under settings that no longer hold (momentum switched on or off), or a tensor made
   * before the capture that the program binds (a parameter, optimizer state, a tensor of the
   * closure) was released by everyone but the program — it was replaced, so a replay would read
   * or update the old one.
   */
  staleReason(): string | null {
    if (this.steps.some((step) => step.valid !== undefined && !step.valid())) return 'optimizer settings changed';
    for (const s of this.heldStorages) {
      if (s.handles - s.programHolds < 1) return `a tensor it reads or updates (${s.byteLength} bytes) was disposed or replaced`;
      // gpuBuffer gives a small tensor a buffer of its own: the program binds the old place.
      if (s.region !== this.heldRegions.get(s)) return `a tensor it reads or updates (${s.byteLength} bytes) moved to a buffer of its own`;
    }
    return null;
  }

  /**
   * Gives the program's buffers back: those no live tensor still uses (a gradient, the loss keep
   * theirs) return to the pool, and the storages it held from before its capture are let go.
   */
  release(pool: { release(region: Region): void }, maybeRelease: (s: Storage) => void): void {
    if (this.disposed) return;
    this.disposed = true;
    const stillUsed = new Set<Region>();
    for (const s of this.madeStorages) {
      s.programOwned = false;
      if (!s.released && s.region) stillUsed.add(s.region);
    }
    for (const b of this.ownedBuffers) if (!stillUsed.has(b)) pool.release(b);
    for (const s of this.heldStorages) {
      s.handles--;
      s.programHolds--;
      maybeRelease(s);
    }
    for (const u of this.uniforms) u.destroy();
  }

  /** Brings refreshable parameters up to date: one queue write per changed uniform. */
  refresh(queue: GPUQueue): void {
    for (const step of this.steps) {
      if (!step.refresh) continue;
      const words = step.refresh();
      if (sameWords(words, step.words)) continue;
      queue.writeBuffer(step.uniform, 0, words);
      step.words = words;
    }
  }

  /** Encodes one run: inputs copied in (unless already there), every dispatch in one pass, results copied out. */
  encode(encoder: GPUCommandEncoder, sources: readonly { buffer: GPUBuffer; byteOffset: number }[] | null, results: readonly Region[]): void {
    this.inputs.forEach((slot, i) => {
      const src = sources?.[i];
      if (src) encoder.copyBufferToBuffer(src.buffer, src.byteOffset, slot.region.buffer, slot.region.offset, bindingSize(slot.byteLength));
    });
    const pass = encoder.beginComputePass();
    for (const step of this.steps) {
      pass.setPipeline(step.pipeline);
      for (let g = 0; g < step.bindGroups.length; g++) pass.setBindGroup(g, step.bindGroups[g]!);
      pass.dispatchWorkgroups(step.workgroups[0], step.workgroups[1], step.workgroups[2]);
    }
    pass.end();
    this.outputs.forEach((slot, i) =>
      encoder.copyBufferToBuffer(slot.region.buffer, slot.region.offset, results[i]!.buffer, results[i]!.offset, bindingSize(slot.byteLength)),
    );
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
