// A size-class pool of storage buffers. Training loops allocate the same sizes every step, so a
// released buffer is kept for the next request of its class instead of being destroyed.
// The counters feed memory() and the leak tests.

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

  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    const list = this.free.get(size);
    let buffer = list?.pop();
    if (buffer) {
      this.bytesPooled -= size;
    } else {
      buffer = this.device.createBuffer({ size, usage: USAGE_STORAGE });
      this.sizes.set(buffer, size);
      this.ids.set(buffer, this.nextId++);
    }
    this.liveBuffers++;
    this.bytesInUse += size;
    return buffer;
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
