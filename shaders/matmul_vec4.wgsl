// matmul_vec4.wgsl — C[M,N] = A[M,K] · B[K,N] (per batch), matmul.wgsl's register blocking with
// the operands read four floats at a time. Spliced after matmul_common.wgsl (parameters, bindings,
// the store epilogue) by src/ops/kernels.ts; src/ops/matmul_tuning.ts picks it over matmul.wgsl
// when both operands are aligned (see vec4Layout there), and falls back to matmul.wgsl otherwise.
//
// Each invocation computes a 4×4 block of C, stepping through K four at a time: a 4×4 piece of A
// and one of B come in as four vec4 loads each (8 loads for 64 multiply-adds, against 32 scalar
// loads in matmul.wgsl). Fewer, wider loads cost fewer instructions, index computations and
// robustness clamps on software adapters, and fewer memory transactions on GPUs.
// Each operand is read along whichever of its two axes is contiguous, so a transposed operand
// (the backward's Aᵀ·G and G·Bᵀ, a Linear layer's Wᵀ) is vectorised in place too:
//   A_ALONG_K: A's rows are contiguous (a_cs = 1): a vec4 holds one row at 4 consecutive k;
//              else its columns are (a_rs = 1): a vec4 holds 4 consecutive rows at one k.
//   B_ALONG_N: B's rows are contiguous (b_cs = 1): a vec4 holds one k at 4 consecutive columns;
//              else its columns are (b_rs = 1): a vec4 holds one column at 4 consecutive k.
// Alignment the launch guarantees: K % 4 = 0, offsets, strides and batch strides (in floats) of
// each operand multiples of 4, M % 4 = 0 when A is read along rows, N % 4 = 0 when B is read
// along columns — so every vec4 is whole, aligned, and inside its operand.
//
// Entry points main and main_bias, bindings and overrides WG_X, WG_Y as in matmul.wgsl.
override WG_X: u32;
override WG_Y: u32;
override A_ALONG_K: bool;
override B_ALONG_N: bool;

// The operands' bindings of matmul_common.wgsl, seen as vec4s (an entry point uses one view of each).
@group(0) @binding(1) var<storage, read> A4: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> B4: array<vec4<f32>>;

/**
 * c + a·b, written as a multiply and an add rather than fma(): WGSL's fma need not be fused, and
 * where a backend honours it without a fused instruction it is emulated; a multiply-add is fused
 * by GPU compilers anyway. Measured on lavapipe: as fast or faster (bench/RESULTS.md, session 5).
 */
fn madd(a: vec4<f32>, b: vec4<f32>, c: vec4<f32>) -> vec4<f32> {
  return a * b + c;
}

/** The 4×4 block of A·B whose top-left corner is (row0, col0); A and B start at bases.x, bases.y. */
fn block(bases: vec2<u32>, row0: u32, col0: u32) -> array<vec4<f32>, BLOCK> {
  // Rows and columns past the edge are clamped so every load stays in bounds; their results are not
  // stored. (Along a vectorised axis there is no edge: M or N is a multiple of 4 there.)
  let rows = min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.M - 1u));
  let cols = min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
  // Element indices of each vec4 at k = 0, divided by 4; each step of 4 in k adds a_step, b_step.
  var ia: vec4<u32>;
  var a_step: u32;
  if (A_ALONG_K) {
    ia = (vec4<u32>(bases.x) + rows * P.a_rs) / 4u; // row i at k..k+3
    a_step = 1u;
  } else {
    ia = (vec4<u32>(bases.x + row0) + vec4<u32>(0u, 1u, 2u, 3u) * P.a_cs) / 4u; // rows row0..+3 at k+j
    a_step = P.a_cs;
  }
  var ib: vec4<u32>;
  var b_step: u32;
  if (B_ALONG_N) {
    ib = (vec4<u32>(bases.y + col0) + vec4<u32>(0u, 1u, 2u, 3u) * P.b_rs) / 4u; // columns col0..+3 at k+j
    b_step = P.b_rs;
  } else {
    ib = (vec4<u32>(bases.y) + cols * P.b_cs) / 4u; // column c at k..k+3
    b_step = 1u;
  }
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);
  for (var k = 0u; k < P.K; k = k + 4u) {
    // a[i][j] = A(row0 + i, k + j) and b[j] = B(k + j, col0..col0+3), whichever way they were read.
    var a = mat4x4<f32>(A4[ia.x], A4[ia.y], A4[ia.z], A4[ia.w]);
    if (!A_ALONG_K) { a = transpose(a); }
    var b = mat4x4<f32>(B4[ib.x], B4[ib.y], B4[ib.z], B4[ib.w]);
    if (!B_ALONG_N) { b = transpose(b); }
    ia = ia + vec4<u32>(a_step);
    ib = ib + vec4<u32>(b_step);
    acc0 = madd(vec4<f32>(a[0].w), b[3], madd(vec4<f32>(a[0].z), b[2], madd(vec4<f32>(a[0].y), b[1], madd(vec4<f32>(a[0].x), b[0], acc0))));
    acc1 = madd(vec4<f32>(a[1].w), b[3], madd(vec4<f32>(a[1].z), b[2], madd(vec4<f32>(a[1].y), b[1], madd(vec4<f32>(a[1].x), b[0], acc1))));
    acc2 = madd(vec4<f32>(a[2].w), b[3], madd(vec4<f32>(a[2].z), b[2], madd(vec4<f32>(a[2].y), b[1], madd(vec4<f32>(a[2].x), b[0], acc2))));
    acc3 = madd(vec4<f32>(a[3].w), b[3], madd(vec4<f32>(a[3].z), b[2], madd(vec4<f32>(a[3].y), b[1], madd(vec4<f32>(a[3].x), b[0], acc3))));
  }
  return array<vec4<f32>, BLOCK>(acc0, acc1, acc2, acc3);
}

// The batch, and the corner of this invocation's block (see batch_of for the folded grid).
fn corner(lid: vec3<u32>, wid: vec3<u32>) -> vec2<u32> {
  return vec2<u32>(((wid.y % P.y_tiles) * WG_Y + lid.y) * BLOCK, (wid.x * WG_X + lid.x) * BLOCK);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let batch = batch_of(wid, groups);
  let at = corner(lid, wid);
  if (batch >= P.batch || at.x >= P.M || at.y >= P.N) { return; }
  store_block(batch * P.M * P.N, at.x, at.y, block(operand_bases(batch), at.x, at.y));
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_bias(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let batch = batch_of(wid, groups);
  let at = corner(lid, wid);
  if (batch >= P.batch || at.x >= P.M || at.y >= P.N) { return; }
  store_block_bias(batch * P.M * P.N, at.x, at.y, block(operand_bases(batch), at.x, at.y));
}
