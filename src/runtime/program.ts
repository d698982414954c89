// A captured step as the GPU runs it: every dispatch with its pipeline and bind group built once,
// over buffers the program owns, so a replay is input copies, the dispatches and output copies in
// one encoder and one submit — no recording, no planning, no allocation, no cache lookups. One
// submit may also hold several runs back to back (captureStep's many()), each with its own inputs.
// The scheduler builds programs (Scheduler.endCapture) and replays them (Scheduler.replay).
import { DeviceLimitError } from '../errors.js';
import type { BufferPool, Region } from './buffers.js';
import { bindingSize } from './dispatch.js';
import { Storage } from './storage.js';

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

/** Where a run's inputs come from: run k reads `stride` bytes further than run k − 1. */
export interface RunSource {
  buffer: GPUBuffer;
  byteOffset: number;
  stride: number;
}

/** A run source as a storage: bytes from `byteOffset` into the storage's region. */
export interface StoredRunSource {
  storage: Storage;
  byteOffset: number;
  stride: number;
}

/** Where a run's results go: run k writes `stride` bytes further than run k − 1. */
export interface RunTarget {
  region: Region;
  stride: number;
}

/** A copy of staged uniform words into a dispatch's uniform buffer, between two runs. */
export interface UniformCopy {
  from: GPUBuffer;
  byteOffset: number;
  to: GPUBuffer;
  byteLength: number;
}

export class Program {
  disposed = false;
  /** Holds the uniform words of later runs when one submit runs the program several times. */
  private staging: GPUBuffer | null = null;
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
    this.staging?.destroy();
  }

  /**
   * Brings refreshable parameters up to date for `runs` runs in one submit, calling each refresh
   * once per run in run order (as that many single replays would): the first run's changed words
   * are written to the queue now; words that change for a later run are staged in one buffer, and
   * the copies that put them in place before that run are returned (index k: before run k).
   */
  refresh(device: GPUDevice, runs: number): UniformCopy[][] {
    const refreshed = this.steps.filter((step) => step.refresh);
    // Checked before any refresh: a refresh advances host state (Adam's step count).
    const stagedBytes = (runs - 1) * refreshed.reduce((sum, step) => sum + step.words.byteLength, 0);
    if (stagedBytes > device.limits.maxBufferSize) {
      throw new DeviceLimitError(
        `captureStep.many: ${runs} steps need ${stagedBytes} bytes of per-step parameters, over the device's maxBufferSize of ${device.limits.maxBufferSize} bytes; run fewer steps per call.`,
      );
    }
    const staged: { run: number; step: ProgramStep; words: Uint32Array<ArrayBuffer> }[] = [];
    for (let run = 0; run < runs; run++) {
      for (const step of refreshed) {
        const words = step.refresh!();
        if (sameWords(words, step.words)) continue;
        if (run === 0) device.queue.writeBuffer(step.uniform, 0, words);
        else staged.push({ run, step, words });
        step.words = words;
      }
    }
    if (staged.length === 0) return [];
    const all = new Uint32Array(staged.reduce((sum, s) => sum + s.words.length, 0));
    const staging = this.stagingBuffer(device, all.byteLength);
    const copies: UniformCopy[][] = Array.from({ length: runs }, () => []);
    let at = 0;
    for (const { run, step, words } of staged) {
      all.set(words, at);
      copies[run]!.push({ from: staging, byteOffset: at * 4, to: step.uniform, byteLength: words.byteLength });
      at += words.length;
    }
    device.queue.writeBuffer(staging, 0, all);
    return copies;
  }

  /** A staging buffer of at least `bytes`, kept for later calls (queue order keeps a rewrite after the runs that read it). */
  private stagingBuffer(device: GPUDevice, bytes: number): GPUBuffer {
    if (this.staging && this.staging.size >= bytes) return this.staging;
    this.staging?.destroy();
    this.staging = device.createBuffer({ size: Math.max(256, bytes), usage: 0x04 | 0x08 }); // COPY_SRC | COPY_DST
    return this.staging;
  }

  /**
   * Encodes `runs` runs: before run k, its inputs are copied in from each source at byteOffset +
   * k · stride (when sources are given; otherwise they are already in place) and its staged words
   * into their uniforms; then every dispatch, in one pass; then its results are copied out to
   * k · stride of each result region.
   */
  /**
   * Runs the program `runs` times in one submit, inputs copied in from `sources` (or already in
   * place when null), and returns its results: storages from `pool`, result i of run k at
   * k · strides[i] bytes.
   */
  submit(
    device: GPUDevice,
    pool: BufferPool,
    runs: number,
    sources: readonly RunSource[] | null,
    strides: readonly number[] | undefined,
    copies: readonly UniformCopy[][],
  ): Storage[] {
    const results = this.outputs.map((slot, i) => {
      const s = new Storage(Math.max(4, runs * (strides?.[i] ?? slot.byteLength)));
      s.region = pool.acquire(s.byteLength);
      return s;
    });
    const targets = results.map((s, i) => ({ region: s.region!, stride: strides?.[i] ?? 0 }));
    const encoder = device.createCommandEncoder();
    this.encode(encoder, runs, sources, targets, copies);
    device.queue.submit([encoder.finish()]);
    return results;
  }

  encode(
    encoder: GPUCommandEncoder,
    runs: number,
    sources: readonly RunSource[] | null,
    results: readonly RunTarget[],
    copies: readonly UniformCopy[][],
  ): void {
    for (let run = 0; run < runs; run++) {
      for (const c of copies[run] ?? []) encoder.copyBufferToBuffer(c.from, c.byteOffset, c.to, 0, c.byteLength);
      this.inputs.forEach((slot, i) => {
        const src = sources?.[i];
        if (src)
          encoder.copyBufferToBuffer(src.buffer, src.byteOffset + run * src.stride, slot.region.buffer, slot.region.offset, bindingSize(slot.byteLength));
      });
      const pass = encoder.beginComputePass();
      for (const step of this.steps) {
        pass.setPipeline(step.pipeline);
        for (let g = 0; g < step.bindGroups.length; g++) pass.setBindGroup(g, step.bindGroups[g]!);
        pass.dispatchWorkgroups(step.workgroups[0], step.workgroups[1], step.workgroups[2]);
      }
      pass.end();
      this.outputs.forEach((slot, i) => {
        const to = results[i]!;
        encoder.copyBufferToBuffer(slot.region.buffer, slot.region.offset, to.region.buffer, to.region.offset + run * to.stride, bindingSize(slot.byteLength));
      });
    }
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
