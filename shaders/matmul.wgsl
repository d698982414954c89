// matmul.wgsl — C[M,N] = A[M,K] · B[K,N].
// A and B are read through their row and column strides, so a transposed operand (a view whose
// strides are swapped) is read in place: the backward pass never materialises a transpose.
// Each invocation computes a 4×4 block of C held in registers (no workgroup memory: barriers are
// costly on software adapters; a shared-memory variant is a tuning option for real GPUs).
//
// Entry points: main (bindings 0 params, 1 A, 2 B, 3 C (write, contiguous [M,N])) and main_bias
// (the same plus a bias and an optional ReLU in the epilogue; see below).
// Overrides: WG_X, WG_Y — workgroup shape; a workgroup covers (4·WG_Y) rows × (4·WG_X) columns.
struct Params {
  M: u32, N: u32, K: u32, a_off: u32,
  a_rs: u32, a_cs: u32, b_rs: u32, b_cs: u32,
  b_off: u32, _p0: u32, _p1: u32, _p2: u32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;

override WG_X: u32 = 8u;
override WG_Y: u32 = 8u;
/** main_bias only: apply max(·, 0) after adding the bias. */
override RELU: bool = false;

/** The 4×4 block of A·B whose top-left corner is (row0, col0). */
fn block(row0: u32, col0: u32) -> array<vec4<f32>, 4> {
  // Indices past the edge are clamped so every load stays in bounds; their results are not stored.
  let rows = min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.M - 1u));
  let cols = min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
  let ra = rows * P.a_rs + vec4<u32>(P.a_off);
  let cb = cols * P.b_cs + vec4<u32>(P.b_off);
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < P.K; k = k + 1u) {
    let ka = k * P.a_cs;
    let kb = k * P.b_rs;
    let b = vec4<f32>(B[kb + cb.x], B[kb + cb.y], B[kb + cb.z], B[kb + cb.w]);
    acc0 = fma(vec4<f32>(A[ra.x + ka]), b, acc0);
    acc1 = fma(vec4<f32>(A[ra.y + ka]), b, acc1);
    acc2 = fma(vec4<f32>(A[ra.z + ka]), b, acc2);
    acc3 = fma(vec4<f32>(A[ra.w + ka]), b, acc3);
  }
  return array<vec4<f32>, 4>(acc0, acc1, acc2, acc3);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * 4u;
  let row0 = gid.y * 4u;
  if (row0 >= P.M || col0 >= P.N) { return; }
  let accs = block(row0, col0);
  for (var r = 0u; r < 4u; r = r + 1u) {
    let row = row0 + r;
    if (row >= P.M) { break; }
    for (var c = 0u; c < 4u; c = c + 1u) {
      let col = col0 + c;
      if (col < P.N) { C[row * P.N + col] = accs[r][c]; }
    }
  }
}

// main_bias: C = A·B + bias (broadcast over rows), then ReLU if the override says so — the
// epilogue of a Linear layer, so the bias add and the activation cost no dispatch of their own.
// Bindings: 0 params, 1 A, 2 B, 3 BIAS (read, [N]), 4 CB (write, [M, N]).
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> CB: array<f32>;

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_bias(@builtin(global_invocation_id) gid: vec3<u32>) {
  let col0 = gid.x * 4u;
  let row0 = gid.y * 4u;
  if (row0 >= P.M || col0 >= P.N) { return; }
  let accs = block(row0, col0);
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
