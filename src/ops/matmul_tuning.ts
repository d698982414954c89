// Which matmul kernel and workgroup shape a device gets. Two kernels: 'register' (matmul.wgsl:
// operands read straight from the buffers, a 4×4 block per invocation, no barriers — what software
// adapters run fastest) and 'tiled' (matmul_tiled.wgsl: tiles of A and B in workgroup memory —
// what real GPUs reward). The shape of the workgroup is an override constant of either.
// A table picks by adapter at init(); tuneMatmul() times the candidates on this device and keeps
// the fastest (cached per adapter, in localStorage where there is one).
import type { Runtime } from '../runtime/runtime.js';
import type { AdapterSummary } from '../runtime/device.js';
import type { Kernel } from '../runtime/pipelines.js';
import type { Tensor } from '../tensor.js';
import { MATMUL_PARAMS, matmulBiasKernel, matmulKernel, matmulTiledBiasKernel, matmulTiledKernel } from './kernels.js';
import { MATMUL_BLOCK, MATMUL_TILED_MAX, MATMUL_TILED_WORKGROUP_BYTES } from './shader_constants.js';

/** A matmul kernel and its override constants. */
export interface MatmulVariant {
  /** 'register' (matmul.wgsl, no workgroup memory) or 'tiled' (matmul_tiled.wgsl, shared tiles). */
  kernel: 'register' | 'tiled';
  /** Workgroup width: a workgroup covers 4·WG_X columns of the output (4: MATMUL_BLOCK). */
  WG_X: number;
  /** Workgroup height: a workgroup covers 4·WG_Y rows of the output. */
  WG_Y: number;
  /** 'tiled' only: the slice of K loaded into workgroup memory per step (≤ 32). */
  TILE_K?: number;
}

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

/**
 * The table, used until a device is tuned: software adapters get the register kernel in 8×8
 * workgroups (on lavapipe tuneMatmul() timed it best or within noise of the best on the seed
 * network's products, and every tiled variant 2–8× slower: barriers are expensive there); real
 * GPUs get the shared-memory tiles with 256-invocation workgroups (not measured: no GPU here).
 */
export function defaultMatmulVariant(adapter: AdapterSummary): MatmulVariant {
  return adapter.isFallback ? { kernel: 'register', WG_X: 8, WG_Y: 8 } : { kernel: 'tiled', WG_X: 16, WG_Y: 16, TILE_K: 16 };
}

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
  const v = rt.matmulVariant;
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
    M: a.shape[0]!, N: b.shape[1]!, K: a.shape[1]!,
    a_off: a.offset, a_rs: a.strides[0]!, a_cs: a.strides[1]!,
    b_off: b.offset, b_rs: b.strides[0]!, b_cs: b.strides[1]!,
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

/** Tuned variants by adapter, for this page or process (and localStorage across visits). */
const tuned = new Map<string, MatmulVariant>();
const storageKey = (adapter: AdapterSummary): string => `webgrad.matmul.v1.${JSON.stringify(adapter)}`;

/** The variant tuned earlier for this adapter (this page or process, or localStorage), if any. */
export function rememberedMatmulVariant(adapter: AdapterSummary): MatmulVariant | null {
  const known = tuned.get(storageKey(adapter));
  if (known) return known;
  try {
    const stored = globalThis.localStorage?.getItem(storageKey(adapter));
    if (stored) {
      const v = JSON.parse(stored) as MatmulVariant;
      const match = MATMUL_CANDIDATES.find((c) => describeVariant(c) === describeVariant(v));
      if (match) return match;
    }
  } catch {
    // No storage (Node, a sandboxed frame): nothing remembered.
  }
  return null;
}

/** The variant a new runtime starts with: a tuned one for this adapter if known, else the table's. */
export function initialMatmulVariant(adapter: AdapterSummary): MatmulVariant {
  return rememberedMatmulVariant(adapter) ?? defaultMatmulVariant(adapter);
}

export function rememberMatmulVariant(adapter: AdapterSummary, v: MatmulVariant): void {
  tuned.set(storageKey(adapter), v);
  try {
    globalThis.localStorage?.setItem(storageKey(adapter), JSON.stringify(v));
  } catch {
    // Not persisted: this page or process still uses it.
  }
}
