// matmul_vec4.wgsl — C[M,N] = A[M,K] · B[K,N] (per batch), register blocking with the operands
// read four floats at a time. A template: src/ops/matmul_vec4_kernels.ts fills in the placeholders
// (names in double braces) for a block of ROWS × COLS outputs per invocation (each a multiple of 4;
// WGSL has no arrays of registers that stay registers, so the block's loads, multiply-adds and
// stores are written out per element). It is spliced after matmul_common.wgsl (parameters,
// bindings, store helpers) by src/ops/kernels.ts; src/ops/matmul_tuning.ts picks it over
// matmul.wgsl when both operands are aligned (see vec4Layout there), and picks the block.
//
// Each invocation computes a ROWS × COLS block of C, stepping through K four at a time: per step
// it loads a ROWS × 4 piece of A and a 4 × COLS piece of B as vec4s (ROWS + COLS loads for
// 4·ROWS·COLS multiply-adds). Larger blocks load less per multiply-add, at the price of fewer
// invocations to spread over the device; the launch takes the largest block the variant allows
// that pads the product no more than the 4 × 4 one would (matmul_tuning.ts).
// Each operand is read along whichever of its two axes is contiguous, so a transposed operand
// (the backward's Aᵀ·G and G·Bᵀ, a Linear layer's Wᵀ) is vectorised in place too; the way is
// fixed per kernel (the template is filled once per way):
//   A along k: A's rows are contiguous (a_cs = 1): a vec4 holds one row at 4 consecutive k;
//   A along m: its columns are (a_rs = 1): a vec4 holds 4 consecutive rows at one k.
//   B along n: B's rows are contiguous (b_cs = 1): a vec4 holds one k at 4 consecutive columns;
//   B along k: its columns are (b_rs = 1): a vec4 holds one column at 4 consecutive k.
// Alignment the launch guarantees: K % 4 = 0, offsets, strides and batch strides (in floats) of
// each operand multiples of 4, M % 4 = 0 when A is read along rows, N % 4 = 0 when B is read
// along columns — so every vec4 is whole, aligned, and inside its operand. Rows and columns past
// the edge are read clamped to the last ones (their results are not stored).
// Every output sums its K products in the same order (k ascending, four at a time) whatever the
// block, so the block never changes a result.
//
// Entry points main and main_bias, bindings and overrides WG_X, WG_Y as in matmul.wgsl.
{{CONSTANTS}}
override WG_X: u32;
override WG_Y: u32;

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

// The batch, and the corner of this invocation's block (see batch_of for the folded grid).
fn corner(lid: vec3<u32>, wid: vec3<u32>) -> vec2<u32> {
  return vec2<u32>(((wid.y % P.y_tiles) * WG_Y + lid.y) * ROWS, (wid.x * WG_X + lid.x) * COLS);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let batch = batch_of(wid, groups);
  let at = corner(lid, wid);
  if (batch >= P.batch || at.x >= P.M || at.y >= P.N) { return; }
  let bases = operand_bases(batch);
  let c_base = batch * P.M * P.N;
{{PRODUCT}}
{{STORE}}
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_bias(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let batch = batch_of(wid, groups);
  let at = corner(lid, wid);
  if (batch >= P.batch || at.x >= P.M || at.y >= P.N) { return; }
  let bases = operand_bases(batch);
  let c_base = batch * P.M * P.N;
{{PRODUCT}}
{{STORE_BIAS}}
}
