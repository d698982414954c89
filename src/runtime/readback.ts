// Copying device memory back to the host: one staging buffer per read, mapped asynchronously.
// A map that fails because the device was lost becomes the device-lost error, not a bare rejection.
import { bindingSize } from './dispatch.js';

// Numeric flags: an application may hand in a device from a Node binding without installing its globals.
const MAP_READ = 0x0001;
const COPY_DST = 0x0008;
const MAP_MODE_READ = 0x0001;

/** Copies the first `byteLength` bytes of `buffer` to the host (one submit) and resolves with them. */
export async function readBuffer(
  device: GPUDevice,
  buffer: GPUBuffer,
  byteLength: number,
  /** Throws the device-lost error when the device is gone (checked again if the map fails). */
  assertAlive: () => void,
): Promise<ArrayBuffer> {
  const size = bindingSize(byteLength);
  const staging = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, 0, staging, 0, size);
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
