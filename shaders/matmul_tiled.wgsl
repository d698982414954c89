// matmul_tiled.wgsl — C[M,N] = A[M,K] · B[K,N] (per batch) through workgroup (shared) memory: the variant for
// real GPUs, where a tile of A and of B loaded once serves a whole workgroup. (matmul.wgsl reads
// every operand straight from the buffer — faster on software adapters, which pay dearly for the
// barriers a shared tile needs.) Spliced after matmul_common.wgsl (parameters, bindings, the store
// epilogue) by src/ops/kernels.ts. Operands are loaded zero-padded at the edges, so every shape is
// correct.
//
// Each invocation computes a BLOCK×BLOCK (4×4) block; a workgroup of WG_X × WG_Y invocations covers
// a tile of (BLOCK·WG_Y) rows × (BLOCK·WG_X) columns of one batch's C, stepping through K in slices of TILE_K.
// Entry points main and main_bias, as in matmul.wgsl. Overrides (set by every pipeline:
// src/ops/matmul_tuning.ts): WG_X, WG_Y (≤ 16), TILE_K (≤ 32).
override WG_X: u32;
override WG_Y: u32;
override TILE_K: u32;

// TILE_ELEMENTS (generated) is sized for the largest tiles allowed: BLOCK · 16 rows or columns × 32.
var<workgroup> tile_a: array<f32, TILE_ELEMENTS>; // [BLOCK·WG_Y][TILE_K]
var<workgroup> tile_b: array<f32, TILE_ELEMENTS>; // [TILE_K][BLOCK·WG_X]

fn load_a(base: u32, row: u32, k: u32) -> f32 {
  if (row >= P.M || k >= P.K) { return 0.0; }
  return A[base + row * P.a_rs + k * P.a_cs];
}

fn load_b(base: u32, k: u32, col: u32) -> f32 {
  if (k >= P.K || col >= P.N) { return 0.0; }
  return B[base + k * P.b_rs + col * P.b_cs];
}

/**
 * The invocation's 4×4 block of A·B in the row tile `row_tile` of the batch whose operands start at
 * bases; every invocation of the workgroup must call it (barriers).
 */
fn block(lid: vec3<u32>, wid: vec3<u32>, row_tile: u32, bases: vec2<u32>) -> array<vec4<f32>, BLOCK> {
  let tile_rows = BLOCK * WG_Y;
  let tile_cols = BLOCK * WG_X;
  let row_base = row_tile * tile_rows;
  let col_base = wid.x * tile_cols;
  let threads = WG_X * WG_Y;
  let t = lid.y * WG_X + lid.x;
  var acc = array<vec4<f32>, BLOCK>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k0 = 0u; k0 < P.K; k0 = k0 + TILE_K) {
    // Cooperative loads: the workgroup's invocations fill both tiles, element by element.
    for (var i = t; i < tile_rows * TILE_K; i = i + threads) {
      let r = i / TILE_K;
      let kk = i % TILE_K;
      tile_a[i] = load_a(bases.x, row_base + r, k0 + kk);
    }
    for (var i = t; i < TILE_K * tile_cols; i = i + threads) {
      let kk = i / tile_cols;
      let c = i % tile_cols;
      tile_b[i] = load_b(bases.y, k0 + kk, col_base + c);
    }
    workgroupBarrier();
    let r0 = lid.y * BLOCK;
    let c0 = lid.x * BLOCK;
    for (var kk = 0u; kk < TILE_K; kk = kk + 1u) {
      let bo = kk * tile_cols + c0;
      let b = vec4<f32>(tile_b[bo], tile_b[bo + 1u], tile_b[bo + 2u], tile_b[bo + 3u]);
      acc[0] = fma(vec4<f32>(tile_a[r0 * TILE_K + kk]), b, acc[0]);
      acc[1] = fma(vec4<f32>(tile_a[(r0 + 1u) * TILE_K + kk]), b, acc[1]);
      acc[2] = fma(vec4<f32>(tile_a[(r0 + 2u) * TILE_K + kk]), b, acc[2]);
      acc[3] = fma(vec4<f32>(tile_a[(r0 + 3u) * TILE_K + kk]), b, acc[3]);
    }
    workgroupBarrier();
  }
  return acc;
}

// The workgroup's invocations all compute their block (the barriers need them), then store it.
// A workgroup past the last batch (folded grid) returns as a whole, so the barriers stay uniform.
@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let batch = batch_of(wid, groups);
  if (batch >= P.batch) { return; }
  let row_tile = wid.y % P.y_tiles;
  let accs = block(lid, wid, row_tile, operand_bases(batch));
  store_block(batch * P.M * P.N, row_tile * BLOCK * WG_Y + lid.y * BLOCK, wid.x * BLOCK * WG_X + lid.x * BLOCK, accs);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_bias(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let batch = batch_of(wid, groups);
  if (batch >= P.batch) { return; }
  let row_tile = wid.y % P.y_tiles;
  let accs = block(lid, wid, row_tile, operand_bases(batch));
  store_block_bias(batch * P.M * P.N, row_tile * BLOCK * WG_Y + lid.y * BLOCK, wid.x * BLOCK * WG_X + lid.x * BLOCK, accs);
}
