// Copying device memory back to the host: a staging buffer per read, mapped asynchronously. The
// copy into it is encoded at the end of the flush that makes the value (one submit for both), and
// small staging buffers are kept for the next read: an eager program that prints its loss every
// step would otherwise create and destroy a mappable buffer, and submit twice, per read.
// A map that fails because the device was lost becomes the device-lost error, not a bare rejection.
import { ValueError } from '../errors.js';
import { sizeClass } from './buffers.js';
import { bindingSize } from './dispatch.js';

// Numeric flags: an application may hand in a device from a Node binding without installing its globals.
const MAP_READ = 0x0001;
const COPY_DST = 0x0008;
const MAP_MODE_READ = 0x0001;

/** Staging buffers up to this size are kept for reuse; larger reads get one of their own. */
const KEPT_MAX_BYTES = 1 << 16;
/** Idle staging buffers kept per size at most (reads in flight at once rarely exceed a few). */
const KEPT_PER_SIZE = 4;

/** Idle mappable buffers by size, for reads of small values. */
export class StagingPool {
  private readonly idle = new Map<number, GPUBuffer[]>();

  constructor(private readonly device: GPUDevice) {}

  /** An unmapped buffer of at least `bytes` (sizes go by the pool's classes, so few sizes are kept). */
  take(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    return this.idle.get(size)?.pop() ?? this.device.createBuffer({ size, usage: MAP_READ | COPY_DST });
  }

  /** Takes back an unmapped buffer after a successful read (destroyed when large or when enough are idle). */
  give(buffer: GPUBuffer): void {
    const list = this.idle.get(buffer.size) ?? [];
    if (buffer.size > KEPT_MAX_BYTES || list.length >= KEPT_PER_SIZE) {
      buffer.destroy();
      return;
    }
    list.push(buffer);
    this.idle.set(buffer.size, list);
  }
}

/** Where a read copies from. */
export interface ReadSource {
  buffer: GPUBuffer;
  offset: number;
}

/**
 * Copies `byteLength` bytes to the host. `prepare` runs the recorded work the value needs and is
 * given `stage`, which it calls (with the flush's encoder, before submitting) once it knows where
 * the value lives; if it does not call it, the copy is submitted alone.
 */
export async function readBuffer(
  device: GPUDevice,
  pool: StagingPool,
  byteLength: number,
  prepare: (stage: (encoder: GPUCommandEncoder, source: ReadSource) => void) => ReadSource,
  /** Throws the device-lost error when the device is gone (checked again if the map fails). */
  assertAlive: () => void,
): Promise<ArrayBuffer> {
  const size = bindingSize(byteLength);
  const staging = pool.take(size);
  let staged = false;
  let source: ReadSource;
  try {
    source = prepare((encoder, from) => {
      encoder.copyBufferToBuffer(from.buffer, from.offset, staging, 0, size);
      staged = true;
    });
  } catch (err) {
    // Nothing was submitted with the staging buffer (a flush that fails throws before it submits).
    if (staged) staging.destroy();
    else pool.give(staging);
    throw err;
  }
  let reusable = false;
  try {
    if (!staged) {
      const encoder = device.createCommandEncoder();
      encoder.copyBufferToBuffer(source.buffer, source.offset, staging, 0, size);
      device.queue.submit([encoder.finish()]);
    }
    await staging.mapAsync(MAP_MODE_READ);
    const bytes = staging.getMappedRange(0, byteLength).slice(0);
    staging.unmap();
    reusable = true;
    return bytes;
  } catch (err) {
    assertAlive();
    // The lost promise may settle just after the failed map: give it that moment.
    await Promise.race([device.lost, new Promise((r) => setTimeout(r, 50))]);
    assertAlive();
    throw err;
  } finally {
    if (reusable) pool.give(staging);
    else staging.destroy();
  }
}

/**
 * Runs readBuffer inside one validation error scope. WebGPU reports misuse of a buffer — one the
 * application destroyed, above all — as a validation error, not an exception, and the read would
 * give zeros; here it becomes a ValueError naming `what` was read.
 */
export async function readChecked(
  device: GPUDevice,
  pool: StagingPool,
  byteLength: number,
  what: string,
  assertAlive: () => void,
  prepare: (stage: (encoder: GPUCommandEncoder, source: ReadSource) => void) => ReadSource,
): Promise<ArrayBuffer> {
  device.pushErrorScope('validation');
  let reading: Promise<ArrayBuffer>;
  let validation: Promise<GPUError | null>;
  try {
    reading = readBuffer(device, pool, byteLength, prepare, assertAlive);
  } finally {
    validation = device.popErrorScope().catch(() => null);
  }
  const [result, error] = await Promise.all([
    reading.then(
      (bytes) => ({ bytes }),
      (err: unknown) => ({ err }),
    ),
    validation,
  ]);
  if (error) {
    throw new ValueError(
      `data: reading ${what} failed: WebGPU rejected the work (${error.message.trim()}). A buffer wrapped with fromGPUBuffer may have been destroyed or used in a way its usage flags do not allow.`,
    );
  }
  if ('err' in result) throw result.err;
  return result.bytes;
}
