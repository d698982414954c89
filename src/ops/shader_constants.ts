// Numbers the TypeScript side and the WGSL kernels must agree on, declared here only: the
// kernels that use them get them as a generated `const` header (see kernels.ts), and the host code
// sizes its dispatches from the same values.

import { ELEMENTS_PER_INVOCATION, WORKGROUP_SIZE } from '../runtime/dispatch.js';
import { wgslConstants } from './wgsl.js';

/** Invocations per workgroup of the one-dimensional kernels (elementwise, fill, SGD): the runtime's. */
export { ELEMENTS_PER_INVOCATION, WORKGROUP_SIZE };

/**
 * Elements of one parameter a workgroup of the SGD update handles: sixteen per invocation. Fewer
 * workgroups: the 784×128 weight's update took 3.7 → 2.3 ms on SwiftShader and 0.54 → 0.35 ms on
 * lavapipe with 16 instead of 4 (bench/RESULTS.md, session 7).
 */
export const SGD_CHUNK = 16 * WORKGROUP_SIZE;

/**
 * Rows and columns of the block of C each invocation of the scalar and tiled matmul kernels
 * computes. They hold a block as four vec4 accumulators, so this is 4 by construction, not a
 * tuning knob (the vectorised kernel's blocks are generated: matmul_vec4_kernels.ts).
 */
export const MATMUL_BLOCK = 4;

/** The largest workgroup side (WG_X, WG_Y) and K slice (TILE_K) the tiled matmul is built for. */
export const MATMUL_TILED_MAX = { workgroupSide: 16, tileK: 32 } as const;

/** Elements of each of the tiled matmul's two workgroup-memory tiles, sized for the largest variant. */
export const MATMUL_TILE_ELEMENTS = MATMUL_BLOCK * MATMUL_TILED_MAX.workgroupSide * MATMUL_TILED_MAX.tileK;

/** Workgroup memory the tiled matmul declares (two float32 tiles). */
export const MATMUL_TILED_WORKGROUP_BYTES = 2 * MATMUL_TILE_ELEMENTS * 4;

/** The WGSL header of the one-dimensional kernels. */
export const WORKGROUP_HEADER = wgslConstants({ WORKGROUP_SIZE });

/** The header of the 1-D maps' kernels (elementwise.wgsl, the indexed and fused maps). */
export const MAP_HEADER = wgslConstants({ WORKGROUP_SIZE, ELEMENTS_PER_INVOCATION });
