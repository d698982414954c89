// matmul_tiled.wgsl — C[M,N] = A[M,K] · B[K,N] through workgroup (shared) memory: the variant for
// real GPUs, where a tile of A and of B loaded once serves a whole workgroup. (matmul.wgsl reads
// every operand straight from the buffer — faster on software adapters, which pay dearly for the
// barriers a shared tile needs.) Operands are read through their strides, as in matmul.wgsl, and
// loaded zero-padded at the edges, so every shape is correct.
//
// Each invocation computes a 4×4 block; a workgroup of WG_X × WG_Y invocations covers a tile of
// (4·WG_Y) rows × (4·WG_X) columns of C, stepping through K in slices of TILE_K.
// Entry points and bindings as in matmul.wgsl: main (1 A, 2 B, 3 C) and main_bias (1 A, 2 B,
// 3 BIAS, 4 CB, with the optional ReLU). Overrides: WG_X, WG_Y, TILE_K (≤ 32), RELU.
struct Params {
  M: u32, N: u32, K: u32, a_off: u32,
  a_rs: u32, a_cs: u32, b_rs: u32, b_cs: u32,
  b_off: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

override WG_X: u32 = 16u;
override WG_Y: u32 = 16u;
override TILE_K: u32 = 16u;
override RELU: bool = false;

// Sized for the largest tiles allowed (WG_X, WG_Y ≤ 16 → 64 rows or columns; TILE_K ≤ 32).
var<workgroup> tile_a: array<f32, 2048>; // [4·WG_Y][TILE_K]
var<workgroup> tile_b: array<f32, 2048>; // [TILE_K][4·WG_X]

fn load_a(row: u32, k: u32) -> f32 {
  if (row >= P.M || k >= P.K) { return 0.0; }
  return A[P.a_off + row * P.a_rs + k * P.a_cs];
}

fn load_b(k: u32, col: u32) -> f32 {
  if (k >= P.K || col >= P.N) { return 0.0; }
  return B[P.b_off + k * P.b_rs + col * P.b_cs];
}

/** The invocation's 4×4 block of A·B; every invocation of the workgroup must call it (barriers). */
fn block(lid: vec3<u32>, wid: vec3<u32>) -> array<vec4<f32>, 4> {
  let tile_rows = 4u * WG_Y;
  let tile_cols = 4u * WG_X;
  let row_base = wid.y * tile_rows;
  let col_base = wid.x * tile_cols;
  let threads = WG_X * WG_Y;
  let t = lid.y * WG_X + lid.x;
  var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var k0 = 0u; k0 < P.K; k0 = k0 + TILE_K) {
    // Cooperative loads: the workgroup's invocations fill both tiles, element by element.
    for (var i = t; i < tile_rows * TILE_K; i = i + threads) {
      let r = i / TILE_K;
      let kk = i % TILE_K;
      tile_a[i] = load_a(row_base + r, k0 + kk);
    }
    for (var i = t; i < TILE_K * tile_cols; i = i + threads) {
      let kk = i / tile_cols;
      let c = i % tile_cols;
      tile_b[i] = load_b(k0 + kk, col_base + c);
    }
    workgroupBarrier();
    let r0 = lid.y * 4u;
    let c0 = lid.x * 4u;
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

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let accs = block(lid, wid);
  let row0 = wid.y * 4u * WG_Y + lid.y * 4u;
  let col0 = wid.x * 4u * WG_X + lid.x * 4u;
  for (var r = 0u; r < 4u; r = r + 1u) {
    let row = row0 + r;
    if (row >= P.M) { break; }
    for (var c = 0u; c < 4u; c = c + 1u) {
      let col = col0 + c;
      if (col < P.N) { C[row * P.N + col] = accs[r][c]; }
    }
  }
}

@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> CB: array<f32>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_bias(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let accs = block(lid, wid);
  let row0 = wid.y * 4u * WG_Y + lid.y * 4u;
  let col0 = wid.x * 4u * WG_X + lid.x * 4u;
  for (var r = 0u; r < 4u; r = r + 1u) {
    let row = row0 + r;
    if (row >= P.M) { break; }
    for (var c = 0u; c < 4u; c = c + 1u) {
      let col = col0 + c;
      if (col < P.N) {
        var v = accs[r][c] + BIAS[col];
        if (RELU) { v = select(v, 0.0, v <= 0.0); }
        CB[row * P.N + col] = v;
      }
    }
  }
}
