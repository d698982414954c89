// Kernel choices that depend on the adapter, other than the matmul's (matmul_tuning.ts), each with
// the measurement that decided it.
import type { AdapterSummary } from '../runtime/device.js';

/**
 * Whether the optimizer updates up to four parameters per dispatch (sgd.wgsl's slots) or one. Measured
 * on the seed network (batch-1 training, or the update alone): lavapipe 700–750 µs per update in
 * one dispatch against 900–970 µs in four; SwiftShader (Chromium) 176 steps/s against 241 — its
 * cost per invocation of the four-slot kernel outweighs the three dispatches saved. Real GPUs
 * (not measured here) pay per dispatch and run the workgroup-uniform slots at full speed: one.
 */
export function prefersOneDispatchUpdate(adapter: AdapterSummary): boolean {
  return !/swiftshader/i.test(`${adapter.vendor} ${adapter.architecture} ${adapter.description}`);
}
