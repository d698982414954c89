// What ops record: a Dispatch names its kernel, its uniform parameters and the storages it binds.
// The scheduler realises dispatches later (flush) or turns them into a captured program.
import type { Kernel } from './pipelines.js';
import type { Storage } from './storage.js';

export interface Dispatch {
  kernel: Kernel;
  constants?: Record<string, number>;
  /** Uniform parameters (binding 0), as 32-bit words. */
  params: Uint32Array<ArrayBuffer>;
  /** Storages for bindings 1..n, in the kernel's binding order. */
  storages: Storage[];
  workgroups: readonly [number, number, number];
  /**
   * For parameters that change between steps without the recorded work changing (the learning
   * rate, Adam's step count): a captured program calls it once per replay for this step's words.
   */
  refresh?: () => Uint32Array<ArrayBuffer>;
  /**
   * False once the settings this dispatch was recorded under changed in a way a replay cannot
   * follow (momentum switched on or off): the captured program is then recorded again.
   */
  valid?: () => boolean;
  /** While parked (runtime/parking.ts): its place in recording order among parked dispatches. */
  parkedSeq?: number;
}

/** What the runtime has done, for tests and benchmarks to assert on. */
export interface Counters {
  /** Queue submits of any kind: one per flush plus one per readback. */
  submits: number;
  /** Compute dispatches encoded (recorded ops whose results were needed). */
  dispatches: number;
  /** Copies from the GPU back to the host: data(), item() and the like, and anomaly checks. */
  readbacks: number;
  /** Host-to-GPU writes (creating a tensor from host data, overwriting one). */
  uploads: number;
  /** Bind groups created: a dispatch reuses those of the buffers it binds, so repeated work creates none. */
  bindGroups: number;
  /** GPU buffers created for tensors (small tensors are slots of shared buffers; released ones are reused). */
  buffers: number;
}

/** Binding sizes must be multiples of 4 bytes; so must copy sizes. */
export const bindingSize = (byteLength: number): number => Math.ceil(byteLength / 4) * 4;

/**
 * Invocations per workgroup of the one-dimensional kernels. Declared only here: kernels get it as
 * a generated `const WORKGROUP_SIZE` header, and dispatches are sized from it.
 */
export const WORKGROUP_SIZE = 256;

/** The WGSL header that declares WORKGROUP_SIZE for a kernel source. */
export const WORKGROUP_SIZE_HEADER = `const WORKGROUP_SIZE: u32 = ${WORKGROUP_SIZE}u;`;

/**
 * Elements each invocation of an elementwise map (shaders/elementwise.wgsl, the fused kernels)
 * handles, one grid's width apart so neighbouring invocations still touch neighbouring elements.
 * A quarter of the workgroups: CPU adapters pay per workgroup and per invocation (relu of 8,192
 * elements 0.62 → 0.23 ms on SwiftShader, 1.7× on lavapipe; bench/RESULTS.md, session 7), and
 * GPUs lose nothing on maps this size.
 */
export const ELEMENTS_PER_INVOCATION = 4;

/** Workgroups of a 1-D dispatch of n invocations, `perGroup` each, going 2-D past 65535 groups. */
export function grid(n: number, perGroup = WORKGROUP_SIZE): [number, number, number] {
  const groups = Math.max(1, Math.ceil(n / perGroup));
  const x = Math.min(groups, 65535);
  return [x, Math.ceil(groups / x), 1];
}

/** The grid of a 1-D map over n elements: ⌈n / kernel.perInvocation⌉ invocations. */
export function mapGrid(kernel: Kernel, n: number): [number, number, number] {
  return grid(Math.ceil(n / (kernel.perInvocation ?? 1)));
}

/** Whether a dispatch binds the same memory more than once (x.mul(x), a matrix and its transpose, two wraps of one application buffer). */
export function bindsTwice(d: Dispatch): boolean {
  const storages = d.storages;
  for (let i = 1; i < storages.length; i++) {
    const a = storages[i]!;
    for (let j = 0; j < i; j++) {
      const b = storages[j]!;
      if (a === b || (a.external && b.external && a.buffer === b.buffer)) return true;
    }
  }
  return false;
}
