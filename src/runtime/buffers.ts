// A size-class pool of storage buffers. Training loops allocate the same sizes every step, so a
// released buffer is kept for the next request of its class instead of being destroyed.
// The counters feed memory() and the leak tests. An allocation the device refuses empties the
// pool and is tried once more before it becomes an error that says how much was asked and held.
import { DeviceLimitError } from '../errors.js';

const USAGE_STORAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST

/** Rounds a byte size up to its class: quarter steps between powers of two, at least 256 bytes. */
export function sizeClass(bytes: number): number {
  const n = Math.max(256, Math.ceil(bytes / 4) * 4);
  const pow = 2 ** Math.floor(Math.log2(n));
  if (pow === n) return n;
  const quarter = pow / 4;
  return Math.ceil(n / quarter) * quarter;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private readonly sizes = new WeakMap<GPUBuffer, number>();
  private readonly ids = new WeakMap<GPUBuffer, number>();
  private nextId = 1;
  /** Buffers handed out and not yet released. */
  liveBuffers = 0;
  /** Bytes of the buffers handed out (by size class). */
  bytesInUse = 0;
  /** Bytes kept in the pool for reuse. */
  bytesPooled = 0;
  /** Called when a buffer is destroyed, so caches keyed by it can drop their entries. */
  onDestroy: (() => void) | null = null;

  constructor(private readonly device: GPUDevice) {}

  /** Creates a device buffer, or throws when the device is out of memory. Replaceable in tests. */
  allocate: (size: number) => GPUBuffer = (size) => {
    // mappedAtCreation makes a failed allocation a synchronous RangeError instead of a later
    // validation error; the error scope catches an out-of-memory report the device sends instead.
    this.device.pushErrorScope('out-of-memory');
    let buffer: GPUBuffer;
    try {
      buffer = this.device.createBuffer({ size, usage: USAGE_STORAGE, mappedAtCreation: true });
      buffer.unmap();
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

  /** The size of a buffer this pool made. */
  sizeOf(buffer: GPUBuffer): number {
    return this.sizes.get(buffer)!;
  }

  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.bytesPooled -= size;
    } else {
      buffer = this.create(size);
      this.sizes.set(buffer, size);
      this.ids.set(buffer, this.nextId++);
    }
    this.liveBuffers++;
    this.bytesInUse += size;
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

  release(buffer: GPUBuffer): void {
    const size = this.sizes.get(buffer)!;
    this.liveBuffers--;
    this.bytesInUse -= size;
    this.bytesPooled += size;
    const list = this.free.get(size);
    if (list) list.push(buffer);
    else this.free.set(size, [buffer]);
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

  /** Destroys every pooled (free) buffer. */
  trim(): void {
    let destroyed = false;
    for (const list of this.free.values()) {
      for (const b of list) {
        b.destroy();
        destroyed = true;
      }
    }
    this.free.clear();
    this.bytesPooled = 0;
    if (destroyed) this.onDestroy?.();
  }
}
