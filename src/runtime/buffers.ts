// A size-class pool of storage memory. Training loops allocate the same sizes every step, so a
// released region is kept for the next request of its class instead of being destroyed.
// Small tensors are slots of shared buffers ("arenas", 64 KiB each): eager code makes many small
// tensors, and a GPU buffer of its own for each costs a buffer creation (with its memory mapped
// and an error scope) every time the pool runs short; an arena makes one for many slots. A slot
// is bound at its offset, and its bind group is kept with it (see pipelines.ts). Larger tensors
// get a buffer of their own.
// The counters feed memory() and the leak tests: a region handed out counts as a buffer in use.
// An allocation the device refuses empties the pool and is tried once more before it becomes an
// error that says how much was asked and held.
import { DeviceLimitError } from '../errors.js';

const USAGE_STORAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

/** Buffers from this size on are created mapped, so that running out of memory throws at once (see allocate). */
const MAPPED_CREATION_BYTES = 16 << 20;

/** Bytes of one shared buffer of small tensors' slots. */
const ARENA_BYTES = 1 << 16;
/** The largest size class given slots of a shared buffer (at least four per buffer). */
const ARENA_MAX_CLASS = ARENA_BYTES / 4;
/** Slot starts are multiples of this: the largest minStorageBufferOffsetAlignment WebGPU allows. */
const SLOT_ALIGN = 256;

/** Bytes of one buffer that packs (results of one fused kernel that only tensors hold, see fusion.ts) are cut from. */
const PACK_ARENA_BYTES = 1 << 20;

/** A shared buffer of equal slots, or (`next` not null) one that packs are cut from in turn. */
interface Arena {
  buffer: GPUBuffer;
  /** Slots handed out and not yet released. */
  used: number;
  /** Emptied out of the pool (trim): its free slots are no longer handed out, and it is destroyed once none is used. */
  retired: boolean;
  /**
   * For packs: where the next one starts. Packs are cut in order and the whole buffer is reused
   * once every pack cut from it is released (eager intermediates go when the garbage collector
   * finalises their tensors, many at a time), so a chain of eager ops costs no buffer creation.
   */
  next: number | null;
}

/** Where a storage's bytes live: a buffer of its own (offset 0), or a slot of a shared one. */
export interface Region {
  readonly buffer: GPUBuffer;
  /** Byte offset of the first element in `buffer` (a multiple of 256). */
  readonly offset: number;
  /** The size class: bytes reserved, at least the storage's length. */
  readonly size: number;
  /** The shared buffer it is a slot of, or null. */
  readonly arena: Arena | null;
}

/** A whole buffer as a region (an application's buffer, a program's own). */
export function wholeBuffer(buffer: GPUBuffer): Region {
  return { buffer, offset: 0, size: buffer.size, arena: null };
}

/** Rounds a byte size up to its class: quarter steps between powers of two, at least 256 bytes. */
export function sizeClass(bytes: number): number {
  const n = Math.max(256, Math.ceil(bytes / 4) * 4);
  const pow = 2 ** Math.floor(Math.log2(n));
  if (pow === n) return n;
  const quarter = pow / 4;
  return Math.ceil(n / quarter) * quarter;
}

export class BufferPool {
  private readonly free = new Map<number, Region[]>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  /** Regions handed out and not yet released. */
  liveBuffers = 0;
  /** Bytes of the regions handed out (by size class). */
  bytesInUse = 0;
  /** Bytes kept in the pool for reuse (released regions and slots not yet handed out). */
  bytesPooled = 0;
  /** GPU buffers created so far (shared ones count once). */
  buffersCreated = 0;
  /** Called when a buffer is destroyed, so caches keyed by it can drop their entries. */
  onDestroy: (() => void) | null = null;

  constructor(private readonly device: GPUDevice) {}

  /** Creates a device buffer, or throws when the device is out of memory. Replaceable in tests. */
  allocate: (size: number) => GPUBuffer = (size) => {
    // For large buffers, mappedAtCreation makes a failed allocation a synchronous RangeError
    // instead of a later report; it costs a staging copy (Dawn: about 4 ms per MiB on lavapipe),
    // so smaller buffers, where running out is unlikely, are created plainly. The error scope
    // catches the out-of-memory report the device sends instead (seen by the next allocation).
    this.device.pushErrorScope('out-of-memory');
    let buffer: GPUBuffer;
    try {
      const mapped = size >= MAPPED_CREATION_BYTES;
      buffer = this.device.createBuffer({ size, usage: USAGE_STORAGE, mappedAtCreation: mapped });
      if (mapped) buffer.unmap();
    } finally {
      void this.device.popErrorScope().then((error) => {
        if (error) this.asyncOutOfMemory = `the device reported: ${error.message} (allocating ${size} bytes)`;
      });
    }
    return buffer;
  };

  /** An out-of-memory error the device reported after the fact (seen by the next acquire). */
  asyncOutOfMemory: string | null = null;

  /** The size class a request of `bytes` gets. */
  classOf(bytes: number): number {
    return sizeClass(bytes);
  }

  /** The size class of a region this pool made. */
  sizeOf(region: Region): number {
    return region.size;
  }

  /** A region of at least `bytes`: a released one of its class, a new slot, or a new buffer (`own`: never a slot; `pack`: cut from a pack buffer). */
  acquire(bytes: number, own = false, pack = false): Region {
    if (own) return this.acquireOwn(bytes);
    if (pack && bytes <= PACK_ARENA_BYTES / 4) return this.acquirePack(bytes);
    const size = sizeClass(bytes);
    let region = this.free.get(size)?.pop();
    if (region) this.bytesPooled -= size;
    else region = size <= ARENA_MAX_CLASS ? this.newArena(size) : { buffer: this.newBuffer(size), offset: 0, size, arena: null };
    if (region.arena) region.arena.used++;
    this.liveBuffers++;
    this.bytesInUse += size;
    return region;
  }

  /** A buffer of its own (offset 0), never a slot: for a tensor whose GPUBuffer the application asks for. */
  acquireOwn(bytes: number): Region {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    const i = list ? list.findIndex((r) => r.arena === null) : -1;
    let region: Region;
    if (i >= 0) {
      region = list!.splice(i, 1)[0]!;
      this.bytesPooled -= size;
    } else {
      region = { buffer: this.newBuffer(size), offset: 0, size, arena: null };
    }
    this.liveBuffers++;
    this.bytesInUse += size;
    return region;
  }

  /** The pool as a captured program's plan sees it: buffers of their own, never slots. */
  readonly ownSource = {
    classOf: (bytes: number): number => sizeClass(bytes),
    sizeOf: (region: Region): number => region.size,
    acquire: (bytes: number): Region => this.acquireOwn(bytes),
    release: (region: Region): void => this.release(region),
  };

  /** Copies a region's first `byteLength` bytes into a buffer of its own (one submit), releases the region (unless told not to) and returns the new one. */
  moveToOwn(region: Region, byteLength: number, release = true): Region {
    const own = this.acquireOwn(byteLength);
    const encoder = this.device.createCommandEncoder();
    encoder.copyBufferToBuffer(region.buffer, region.offset, own.buffer, 0, Math.ceil(byteLength / 4) * 4);
    this.device.queue.submit([encoder.finish()]);
    if (release) this.release(region);
    return own;
  }

  private packArenas: Arena[] = [];

  /** A pack's region, cut from the newest pack buffer with room, else from one whose packs are all released, else from a new one. */
  private acquirePack(bytes: number): Region {
    const size = Math.ceil(bytes / SLOT_ALIGN) * SLOT_ALIGN;
    let arena = this.packArenas.at(-1);
    if (!arena || arena.next! + size > PACK_ARENA_BYTES) {
      const empty = this.packArenas.findIndex((a) => a.used === 0);
      if (empty >= 0) {
        arena = this.packArenas.splice(empty, 1)[0]!;
        arena.next = 0;
      } else {
        arena = { buffer: this.newBuffer(PACK_ARENA_BYTES), used: 0, retired: false, next: 0 };
        this.bytesPooled += PACK_ARENA_BYTES;
      }
      this.packArenas.push(arena);
    }
    const region = { buffer: arena.buffer, offset: arena.next!, size, arena };
    arena.next! += size;
    arena.used++;
    this.liveBuffers++;
    this.bytesInUse += size;
    this.bytesPooled -= size;
    return region;
  }

  /** A shared buffer of slots of class `size`: returns the first slot, the others go to the free list. */
  private newArena(size: number): Region {
    const stride = Math.ceil(size / SLOT_ALIGN) * SLOT_ALIGN;
    const count = Math.floor(ARENA_BYTES / stride);
    const arena: Arena = { buffer: this.newBuffer(stride * count), used: 0, retired: false, next: null };
    const slots: Region[] = [];
    for (let i = count - 1; i >= 1; i--) slots.push({ buffer: arena.buffer, offset: i * stride, size, arena });
    const list = this.free.get(size);
    if (list) list.push(...slots);
    else this.free.set(size, slots);
    this.bytesPooled += size * slots.length;
    return { buffer: arena.buffer, offset: 0, size, arena };
  }

  private newBuffer(bytes: number): GPUBuffer {
    const buffer = this.create(bytes);
    this.ids.set(buffer, this.nextId++);
    this.buffersCreated++;
    return buffer;
  }

  private create(size: number): GPUBuffer {
    if (this.asyncOutOfMemory) {
      // An earlier allocation failed after the fact: free what the pool caches before going on.
      this.asyncOutOfMemory = null;
      this.trim();
    }
    try {
      return this.allocate(size);
    } catch (first) {
      if (!(first instanceof RangeError) && !/memory/i.test(String((first as Error)?.message))) throw first;
      const pooled = this.bytesPooled;
      this.trim();
      try {
        return this.allocate(size);
      } catch {
        throw new DeviceLimitError(
          `out of GPU memory: could not allocate ${size} bytes, with ${this.bytesInUse} bytes in use by ${this.liveBuffers} buffers ` +
            `(the pool's ${pooled} cached bytes were released and the allocation retried once). Dispose tensors you no longer need.`,
        );
      }
    }
  }

  release(region: Region): void {
    const size = region.size;
    this.liveBuffers--;
    this.bytesInUse -= size;
    const arena = region.arena;
    if (arena) {
      arena.used--;
      if (arena.retired) {
        // Emptied out of the pool: its slots are not reused, and the buffer goes once all are back.
        if (arena.used === 0) this.destroy(arena.buffer);
        return;
      }
      if (arena.next !== null) {
        // A pack: its bytes are reused when the whole buffer is (acquirePack).
        this.bytesPooled += size;
        return;
      }
    }
    this.bytesPooled += size;
    const list = this.free.get(size);
    if (list) list.push(region);
    else this.free.set(size, [region]);
  }

  /** A stable number for a pooled buffer, used in bind-group cache keys. */
  idOf(buffer: GPUBuffer): number {
    let id = this.ids.get(buffer);
    if (id === undefined) {
      id = this.nextId++;
      this.ids.set(buffer, id);
    }
    return id;
  }

  /** Destroys every pooled (free) buffer; a shared buffer with slots still in use is retired instead (destroyed when they are released). */
  trim(): void {
    let destroyed = false;
    for (const list of this.free.values()) {
      for (const r of list) {
        if (!r.arena) {
          r.buffer.destroy();
          destroyed = true;
        } else if (!r.arena.retired) {
          r.arena.retired = true;
          if (r.arena.used === 0) {
            r.arena.buffer.destroy();
            destroyed = true;
          }
        }
      }
    }
    this.free.clear();
    for (const a of this.packArenas) {
      a.retired = true;
      if (a.used === 0) {
        a.buffer.destroy();
        destroyed = true;
      }
    }
    this.packArenas = [];
    this.bytesPooled = 0;
    if (destroyed) this.onDestroy?.();
  }

  private destroy(buffer: GPUBuffer): void {
    buffer.destroy();
    this.onDestroy?.();
  }
}
