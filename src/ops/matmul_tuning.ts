// Which matmul kernel and workgroup shape a device gets. Two kernels: 'register' (matmul.wgsl:
// operands read straight from the buffers, a 4×4 block per invocation, no barriers — what software
// adapters run fastest; matmul_vec4.wgsl is its vectorised form, used wherever the operands are
// aligned for it, see vec4Layout, with blocks of up to 16×16 per invocation, see blockSide) and
// 'tiled' (matmul_tiled.wgsl: tiles of A and B in workgroup memory — what real GPUs reward). The
// shape of the workgroup is an override constant of either.
// docs/matmul.md compares them with what jax-js generates.
// The device profile (runtime/profile.ts) picks one at init(); tuneMatmul() times the candidates
// here on the device and keeps the fastest.

import { DeviceLimitError } from '../errors.js';
import type { Kernel } from '../runtime/pipelines.js';
import { largestRegisterBlock, type MatmulVariant } from '../runtime/profile.js';
import type { Runtime } from '../runtime/runtime.js';
import type { Tensor } from '../tensor.js';
import { MATMUL_PARAMS, matmulBiasKernel, matmulKernel, matmulTiledBiasKernel, matmulTiledKernel, matmulVec4Kernel } from './kernels.js';
import { VEC4_BLOCK_SIDES, type Vec4BlockSide, type Vec4Layout } from './matmul_vec4_kernels.js';
import { MATMUL_BLOCK, MATMUL_TILED_MAX, MATMUL_TILED_WORKGROUP_BYTES } from './shader_constants.js';

export type { MatmulVariant } from '../runtime/profile.js';

/** What tuneMatmul() tries. Every candidate is tested for correctness on every shape class. */
export const MATMUL_CANDIDATES: readonly MatmulVariant[] = [
  { kernel: 'register', WG_X: 8, WG_Y: 8 },
  { kernel: 'register', WG_X: 16, WG_Y: 4 },
  { kernel: 'register', WG_X: 4, WG_Y: 16 },
  { kernel: 'register', WG_X: 16, WG_Y: 16 },
  { kernel: 'register', WG_X: 8, WG_Y: 8, BLOCK_M: 4, BLOCK_N: 8 },
  { kernel: 'register', WG_X: 16, WG_Y: 4, BLOCK_M: 4, BLOCK_N: 8 },
  { kernel: 'register', WG_X: 8, WG_Y: 8, BLOCK_M: 8, BLOCK_N: 8 },
  { kernel: 'register', WG_X: 8, WG_Y: 8, BLOCK_M: 16, BLOCK_N: 16 },
  { kernel: 'register', WG_X: 8, WG_Y: 4, BLOCK_M: 16, BLOCK_N: 16 },
  { kernel: 'register', WG_X: 16, WG_Y: 4, BLOCK_M: 16, BLOCK_N: 16 },
  { kernel: 'tiled', WG_X: 8, WG_Y: 8, TILE_K: 16 },
  { kernel: 'tiled', WG_X: 16, WG_Y: 16, TILE_K: 16 },
  { kernel: 'tiled', WG_X: 16, WG_Y: 16, TILE_K: 32 },
];

/** A tiled variant's K slice (16 where it names none). */
const tileK = (v: MatmulVariant): number => v.TILE_K ?? 16;

export function describeVariant(v: MatmulVariant): string {
  const block = v.kernel === 'register' && (v.BLOCK_M ?? 4) * (v.BLOCK_N ?? 4) > 16 ? ` blocks ≤ ${v.BLOCK_M ?? 4}×${v.BLOCK_N ?? 4}` : '';
  return `${v.kernel} ${v.WG_X}×${v.WG_Y}${v.TILE_K ? ` K-slice ${v.TILE_K}` : ''}${block}`;
}

/** Lanes a register kernel's workgroup keeps at least, when narrowed (CPU adapters run 4–8 at a time in SIMD). */
const MIN_LANES = 16;
/** Workgroups a product is spread over at least, where lanes allow: a software adapter runs each on one CPU core. */
const MIN_WORKGROUPS = 2;

/**
 * The register kernels' workgroup for an M×N product (`count` of them) in blocks of rows × cols:
 * the variant's, narrowed (to a power of two) along an axis where one workgroup would cover the
 * whole product with room to spare; then halved (the wider side first, down to MIN_LANES) while
 * the products would be one workgroup. Invocations past the product's edge are not free: CPU
 * adapters run a workgroup's invocations in SIMD lanes, and a lane past the edge still steps
 * through the K loop masked — attention's 16×16 products in 4×4 blocks kept 16 of an 8×8
 * workgroup's 64 lanes busy, a batch-1 product one row of eight (bench/RESULTS.md, session 9).
 */
export function registerWorkgroup(M: number, N: number, rows: number, cols: number, v: MatmulVariant, count = 1): [number, number] {
  const narrowed = (blocks: number, side: number): number => Math.min(side, 2 ** Math.ceil(Math.log2(Math.max(1, blocks))));
  let x = narrowed(Math.ceil(N / cols), v.WG_X);
  let y = narrowed(Math.ceil(M / rows), v.WG_Y);
  const groups = () => Math.ceil(M / (rows * y)) * Math.ceil(N / (cols * x)) * count;
  while (groups() < MIN_WORKGROUPS && x * y > MIN_LANES) {
    if (x >= y) x /= 2;
    else y /= 2;
  }
  return [x, y];
}

/**
 * The vectorised kernel's block for an M×N product: blockSide on each axis, halved (the longer
 * side first) while the product has fewer blocks than MIN_LANES — a 16×16 product in one 16×16
 * block is one busy invocation (attention's per-head products ran the names GPT 27 % slower).
 * Larger blocks do more multiply-adds per load, and registerWorkgroup shapes the workgroups
 * around them: the MLP's 64×784·784×128 in two workgroups of 16×16 blocks took 2.6–3.1 ms on
 * SwiftShader against 3.7–4.0 for the 8×8 or 8×16 blocks that filled a fixed workgroup
 * (bench/RESULTS.md, session 10).
 */
export function vec4Block(M: number, N: number, v: MatmulVariant): [Vec4BlockSide, Vec4BlockSide] {
  let rows = blockSide(M, v.BLOCK_M ?? 4);
  let cols = blockSide(N, v.BLOCK_N ?? 4);
  while (Math.ceil(M / rows) * Math.ceil(N / cols) < MIN_LANES && (rows > 4 || cols > 4)) {
    if (rows >= cols && rows > 4) rows = (rows / 2) as Vec4BlockSide;
    else cols = (cols / 2) as Vec4BlockSide;
  }
  return [rows, cols];
}

/**
 * The side of the vectorised kernel's block along an axis of `size` outputs, at most `largest`:
 * the largest side that pads the axis no more than a side of 4 does (ceil(size / side) · side),
 * so a narrow product (one row, ten classes) is not computed sixteen times over.
 */
export function blockSide(size: number, largest: Vec4BlockSide): Vec4BlockSide {
  const padded = (side: number) => Math.ceil(size / side) * side;
  let best: Vec4BlockSide = 4;
  for (const side of VEC4_BLOCK_SIDES) if (side <= largest && padded(side) <= padded(4)) best = side;
  return best;
}

/**
 * How the products of a batched matmul are laid out: `count` products indexed by up to two batch
 * dimensions (the inner one of size `inner`), with each operand's stride along those two (0 where
 * the operand is broadcast). A plain 2-D product is one batch.
 */
export interface MatmulBatch {
  count: number;
  inner: number;
  a: readonly [number, number];
  b: readonly [number, number];
}

export const SINGLE_PRODUCT: MatmulBatch = { count: 1, inner: 1, a: [0, 0], b: [0, 0] };

/** Strides and sizes in floats: all multiples of 4, so an operand reads as whole aligned vec4s. */
const aligned = (...values: number[]): boolean => values.every((v) => v % 4 === 0);

/**
 * How matmul_vec4.wgsl can read a·b four floats at a time, or null when it cannot (then the
 * scalar register kernel runs): each operand along its contiguous axis, with K, the offsets, the
 * other strides and the batch strides multiples of 4, and M (or N) too where A (or B) is read
 * along rows (columns) — so no vec4 straddles an edge, a row of another batch, or the buffer's end.
 */
export function vec4Layout(a: Tensor, b: Tensor, batch: MatmulBatch): Vec4Layout | null {
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape.at(-1)!;
  // The stride along an axis of size 1 is never used (the index is always 0).
  const [ars, acs] = [M === 1 ? 0 : a.strides.at(-2)!, a.strides.at(-1)!];
  const [brs, bcs] = [b.strides.at(-2)!, N === 1 ? 0 : b.strides.at(-1)!];
  if (!aligned(K, a.offset, b.offset, ...batch.a, ...batch.b)) return null;
  const aAlongK = acs === 1 && aligned(ars);
  const aAlongM = ars === 1 && aligned(acs, M);
  const bAlongN = bcs === 1 && aligned(brs, N);
  const bAlongK = brs === 1 && aligned(bcs);
  if (!(aAlongK || aAlongM) || !(bAlongN || bAlongK)) return null;
  return { aAlongK, bAlongN };
}

/**
 * The kernel, constants, grid and uniform parameters of a·b, where a is [..., M, K] and b is
 * [..., K, N] (either may be a strided view: the last two dimensions are read through their strides,
 * the batch ones through `batch`). The output is contiguous [batch.count, M, N].
 */
export function matmulLaunch(
  rt: Runtime,
  a: Tensor,
  b: Tensor,
  epilogue: { bias: boolean; relu?: boolean; biasPerRow?: boolean },
  batch: MatmulBatch = SINGLE_PRODUCT,
): { kernel: Kernel; constants: Record<string, number>; workgroups: [number, number, number]; params: Uint32Array<ArrayBuffer> } {
  const v = rt.profile.matmul;
  const tiled = v.kernel === 'tiled';
  // The register kernel's vectorised form wherever the operands are aligned (same blocks, same grid).
  const vec4 = tiled ? null : vec4Layout(a, b, batch);
  const [M, K] = a.shape.slice(-2) as [number, number];
  const N = b.shape.at(-1)!;
  // Rows and columns per invocation: 4 × 4 but for the vectorised kernel's larger blocks.
  const [rows, cols] = vec4 ? vec4Block(M, N, v) : [MATMUL_BLOCK, MATMUL_BLOCK];
  const kernel = tiled
    ? epilogue.bias
      ? matmulTiledBiasKernel
      : matmulTiledKernel
    : vec4
      ? matmulVec4Kernel(rows as Vec4BlockSide, cols as Vec4BlockSide, vec4, epilogue.bias)
      : epilogue.bias
        ? matmulBiasKernel
        : matmulKernel;
  const [wgX, wgY] = tiled ? [v.WG_X, v.WG_Y] : registerWorkgroup(M, N, rows, cols, v, batch.count);
  const constants: Record<string, number> = { WG_X: wgX, WG_Y: wgY };
  if (tiled) constants.TILE_K = tileK(v);
  if (epilogue.bias) {
    constants.RELU = epilogue.relu ? 1 : 0;
    constants.BIAS_PER_ROW = epilogue.biasPerRow ? 1 : 0;
  }
  const yTiles = Math.ceil(M / (rows * wgY));
  // Batches go in z up to the device's limit; the rest fold into y, y_tiles rows of workgroups each.
  const maxGroups = rt.ctx.limits.maxComputeWorkgroupsPerDimension;
  const z = Math.min(batch.count, maxGroups);
  const folds = Math.ceil(batch.count / z);
  const x = Math.ceil(N / (cols * wgX));
  if (yTiles * folds > maxGroups || x > maxGroups) {
    throw new DeviceLimitError(
      `matmul: ${batch.count} products of ${M}×${K}·${K}×${N} need a grid of ${x}×${yTiles * folds}×${z} workgroups, over the device's maxComputeWorkgroupsPerDimension of ${maxGroups}.`,
    );
  }
  const params = MATMUL_PARAMS.pack({
    M,
    N,
    K,
    a_off: a.offset,
    a_rs: a.strides.at(-2)!,
    a_cs: a.strides.at(-1)!,
    b_off: b.offset,
    b_rs: b.strides.at(-2)!,
    b_cs: b.strides.at(-1)!,
    batch: batch.count,
    batch_inner: batch.inner,
    y_tiles: yTiles,
    a_bs0: batch.a[0],
    a_bs1: batch.a[1],
    b_bs0: batch.b[0],
    b_bs1: batch.b[1],
  });
  return { kernel, constants, workgroups: [x, yTiles * folds, z], params };
}

/** Whether this device can run a variant (workgroup size and workgroup memory limits). */
export function variantFits(rt: Runtime, v: MatmulVariant): boolean {
  const { maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupStorageSize } = rt.ctx.limits;
  if (v.WG_X * v.WG_Y > maxComputeInvocationsPerWorkgroup) return false;
  if (v.kernel !== 'tiled') return Math.max(v.BLOCK_M ?? 4, v.BLOCK_N ?? 4) <= largestRegisterBlock(rt.profile.kind);
  const { workgroupSide } = MATMUL_TILED_MAX;
  if (v.WG_X > workgroupSide || v.WG_Y > workgroupSide || tileK(v) > MATMUL_TILED_MAX.tileK) return false;
  if (MATMUL_TILED_WORKGROUP_BYTES > maxComputeWorkgroupStorageSize) return false;
  return true;
}
