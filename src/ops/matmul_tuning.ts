// Which matmul kernel and workgroup shape a device gets. Two kernels: 'register' (matmul.wgsl:
// operands read straight from the buffers, a 4×4 block per invocation, no barriers — what software
// adapters run fastest) and 'tiled' (matmul_tiled.wgsl: tiles of A and B in workgroup memory —
// what real GPUs reward). The shape of the workgroup is an override constant of either.
// The device profile (runtime/profile.ts) picks one at init(); tuneMatmul() times the candidates
// here on the device and keeps the fastest.

import type { Kernel } from '../runtime/pipelines.js';
import type { MatmulVariant } from '../runtime/profile.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor.js';
import { MATMUL_PARAMS, matmulBiasKernel, matmulKernel, matmulTiledBiasKernel, matmulTiledKernel } from './kernels.js';
import { MATMUL_BLOCK, MATMUL_TILED_MAX, MATMUL_TILED_WORKGROUP_BYTES } from './shader_constants.js';

export type { MatmulVariant } from '../runtime/profile.js';

/** What tuneMatmul() tries. Every candidate is tested for correctness on every shape class. */
export const MATMUL_CANDIDATES: readonly MatmulVariant[] = [
  { kernel: 'register', WG_X: 8, WG_Y: 8 },
  { kernel: 'register', WG_X: 16, WG_Y: 4 },
  { kernel: 'register', WG_X: 4, WG_Y: 16 },
  { kernel: 'register', WG_X: 16, WG_Y: 16 },
  { kernel: 'tiled', WG_X: 8, WG_Y: 8, TILE_K: 16 },
  { kernel: 'tiled', WG_X: 16, WG_Y: 16, TILE_K: 16 },
  { kernel: 'tiled', WG_X: 16, WG_Y: 16, TILE_K: 32 },
];

/** A tiled variant's K slice (16 where it names none). */
const tileK = (v: MatmulVariant): number => v.TILE_K ?? 16;

export function describeVariant(v: MatmulVariant): string {
  return `${v.kernel} ${v.WG_X}×${v.WG_Y}${v.TILE_K ? ` K-slice ${v.TILE_K}` : ''}`;
}

/** The kernel, constants and grid of a matmul of an [M, K]·[K, N] product on this runtime. */
export function matmulLaunch(
  rt: Runtime,
  M: number,
  N: number,
  epilogue: { bias: boolean; relu?: boolean },
): { kernel: Kernel; constants: Record<string, number>; workgroups: [number, number, number] } {
  const v = rt.profile.matmul;
  const tiled = v.kernel === 'tiled';
  const kernel = epilogue.bias ? (tiled ? matmulTiledBiasKernel : matmulBiasKernel) : tiled ? matmulTiledKernel : matmulKernel;
  const constants: Record<string, number> = { WG_X: v.WG_X, WG_Y: v.WG_Y };
  if (tiled) constants.TILE_K = tileK(v);
  if (epilogue.bias) constants.RELU = epilogue.relu ? 1 : 0;
  return { kernel, constants, workgroups: [Math.ceil(N / (MATMUL_BLOCK * v.WG_X)), Math.ceil(M / (MATMUL_BLOCK * v.WG_Y)), 1] };
}

/** The uniform parameters of the product a·b of 2-D tensors (either may be a strided view). */
export function matmulParams(a: Tensor, b: Tensor): Uint32Array<ArrayBuffer> {
  return MATMUL_PARAMS.pack({
    M: a.shape[0]!,
    N: b.shape[1]!,
    K: a.shape[1]!,
    a_off: a.offset,
    a_rs: a.strides[0]!,
    a_cs: a.strides[1]!,
    b_off: b.offset,
    b_rs: b.strides[0]!,
    b_cs: b.strides[1]!,
  });
}

/** Whether this device can run a variant (workgroup size and workgroup memory limits). */
export function variantFits(rt: Runtime, v: MatmulVariant): boolean {
  const { maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupStorageSize } = rt.ctx.limits;
  if (v.WG_X * v.WG_Y > maxComputeInvocationsPerWorkgroup) return false;
  if (v.kernel !== 'tiled') return true;
  const { workgroupSide } = MATMUL_TILED_MAX;
  if (v.WG_X > workgroupSide || v.WG_Y > workgroupSide || tileK(v) > MATMUL_TILED_MAX.tileK) return false;
  if (MATMUL_TILED_WORKGROUP_BYTES > maxComputeWorkgroupStorageSize) return false;
  return true;
}
