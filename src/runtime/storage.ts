// Storage: the device memory behind one or more tensors (views share it), and the counts that
// decide when its buffer can go back to the pool.
import { type Region, wholeBuffer } from './buffers.js';
import type { Dispatch } from './dispatch.js';

let nextStorageId = 1;

/** Device memory behind one or more tensors (views share it). Its region exists once written. */
export class Storage {
  readonly id = nextStorageId++;
  private own: Region | null = null;
  /**
   * For a result a fused kernel wrote into a pack (runtime/fusion.ts): the pack, whose memory it
   * is a part of, and its byte offset there. The pack lives while any of its parts does.
   */
  pack: Storage | null = null;
  packOffset = 0;
  /** For a pack: its parts not yet released (null for any other storage). */
  parts: Set<Storage> | null = null;
  /** Whether this storage is such a pack (its memory is cut from a pack buffer: see buffers.ts). */
  isPack = false;
  /**
   * Parked work (runtime/parking.ts): the parked dispatch that writes this storage (its value
   * exists nowhere yet), and the parked dispatches that read it.
   */
  parkedBy: Dispatch | null = null;
  parkedReaders: Dispatch[] | null = null;
  /** Live (not disposed) tensors that point at this storage, plus captured programs that bind it. */
  handles = 0;
  /** Of `handles`, those held by captured programs (not by tensors): a program whose storage has no other holder is stale. */
  programHolds = 0;
  /** Recorded, not yet encoded, dispatches that bind this storage. */
  pendingUses = 0;
  released = false;
  /** A buffer the application owns (fromGPUBuffer): never pooled, never destroyed by webgrad. */
  external = false;
  /** Handed to the application (gpuBuffer): it may write the buffer outside webgrad's queue. */
  handedOut = false;
  /**
   * Why it has no value: WebGPU rejected the submit that was to write it (an application's buffer
   * it read was destroyed, say), or it was computed from such a storage. Reads refuse it; a host
   * write gives it a value again.
   */
  rejected: string | null = null;
  /** Made while a step was captured: its buffer belongs to the captured program, not the pool. */
  programOwned = false;
  /**
   * In-place writes so far (host writes, optimizer updates, a replayed step's updates), as
   * PyTorch counts them: autograd saves the versions an op's gradient needs and backward()
   * refuses to run once one of them has changed. Views share it, as they share the storage.
   */
  version = 0;
  /**
   * For int32 storages written from host values: their [min, max] and the version they describe
   * (crossEntropy checks labels against it without a readback). A later in-place write that is
   * not from the host leaves it stale, and a stale range is never used.
   */
  hostRange: { min: number; max: number; version: number } | null = null;
  constructor(readonly byteLength: number) {}

  /** Where its bytes are: a buffer of its own, a slot of a shared one (see buffers.ts), or a part of its pack. */
  get region(): Region | null {
    if (this.own === null && this.pack?.region && !this.released) {
      const p = this.pack.region;
      this.own = { buffer: p.buffer, offset: p.offset + this.packOffset, size: this.byteLength, arena: null };
    }
    return this.own;
  }

  set region(region: Region | null) {
    this.own = region;
  }

  /** The GPU buffer its bytes are in (shared with other storages when small: see `offset`). */
  get buffer(): GPUBuffer | null {
    return this.region?.buffer ?? null;
  }

  /** Makes a whole buffer its memory (an application's buffer). */
  set buffer(buffer: GPUBuffer | null) {
    this.region = buffer ? wholeBuffer(buffer) : null;
  }

  /** Byte offset of its first element in `buffer`. */
  get offset(): number {
    return this.region?.offset ?? 0;
  }
}

/** Parts of a pack start at multiples of this (the largest storage-buffer offset alignment WebGPU allows), so each can be bound alone. */
export const PART_ALIGN = 256;

/** Bytes a storage takes as a part of a pack. */
export const partBytes = (s: Storage): number => Math.ceil(s.byteLength / PART_ALIGN) * PART_ALIGN;

/** The id the next storage will get: storages with a smaller id were made before now. */
export function peekStorageId(): number {
  return nextStorageId;
}
