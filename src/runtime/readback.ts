// Copying device memory back to the host: one staging buffer per read, mapped asynchronously.
// A map that fails because the device was lost becomes the device-lost error, not a bare rejection.
import { ValueError } from '../errors.js';
import { bindingSize } from './dispatch.js';

// Numeric flags: an application may hand in a device from a Node binding without installing its globals.
const MAP_READ = 0x0001;
const COPY_DST = 0x0008;
const MAP_MODE_READ = 0x0001;

/** Copies `byteLength` bytes of `buffer` from `offset` to the host (one submit) and resolves with them. */
export async function readBuffer(
  device: GPUDevice,
  { buffer, offset }: { buffer: GPUBuffer; offset: number },
  byteLength: number,
  /** Throws the device-lost error when the device is gone (checked again if the map fails). */
  assertAlive: () => void,
): Promise<ArrayBuffer> {
  const size = bindingSize(byteLength);
  const staging = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset, staging, 0, size);
  device.queue.submit([encoder.finish()]);
  try {
    await staging.mapAsync(MAP_MODE_READ);
    return staging.getMappedRange(0, byteLength).slice(0);
  } catch (err) {
    assertAlive();
    // The lost promise may settle just after the failed map: give it that moment.
    await Promise.race([device.lost, new Promise((r) => setTimeout(r, 50))]);
    assertAlive();
    throw err;
  } finally {
    staging.destroy();
  }
}

/**
 * Runs `prepare` (which flushes the work a read needs and returns where to read) and reads
 * the buffer, inside one validation error scope. WebGPU reports misuse of a buffer — one the
 * application destroyed, above all — as a validation error, not an exception, and the read would
 * give zeros; here it becomes a ValueError naming `what` was read.
 */
export async function readChecked(
  device: GPUDevice,
  byteLength: number,
  what: string,
  assertAlive: () => void,
  prepare: () => { buffer: GPUBuffer; offset: number },
): Promise<ArrayBuffer> {
  device.pushErrorScope('validation');
  let reading: Promise<ArrayBuffer>;
  let validation: Promise<GPUError | null>;
  try {
    reading = readBuffer(device, prepare(), byteLength, assertAlive);
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
