// matmul.wgsl — C[M,N] = A[M,K] · B[K,N] (per batch), operands read straight from the buffers.
// Spliced after matmul_common.wgsl (parameters, bindings, the store epilogue) by src/ops/kernels.ts.
// Each invocation computes a BLOCK×BLOCK (4×4) block of C held in registers (no workgroup memory:
// barriers are costly on software adapters; matmul_tiled.wgsl is the shared-memory variant).
//
// Entry points: main (C = A·B) and main_bias (+ bias, optional ReLU); bindings in matmul_common.wgsl.
// Overrides: WG_X, WG_Y — workgroup shape (set by every pipeline: src/ops/matmul_tuning.ts); a
// workgroup covers (BLOCK·WG_Y) rows × (BLOCK·WG_X) columns of one batch.
override WG_X: u32;
override WG_Y: u32;

/** The 4×4 block of A·B whose top-left corner is (row0, col0); A and B start at bases.x, bases.y. */
fn block(bases: vec2<u32>, row0: u32, col0: u32) -> array<vec4<f32>, BLOCK> {
  // Indices past the edge are clamped so every load stays in bounds; their results are not stored.
  let rows = min(vec4<u32>(row0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.M - 1u));
  let cols = min(vec4<u32>(col0) + vec4<u32>(0u, 1u, 2u, 3u), vec4<u32>(P.N - 1u));
  let ra = rows * P.a_rs + vec4<u32>(bases.x);
  let cb = cols * P.b_cs + vec4<u32>(bases.y);
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
  return array<vec4<f32>, BLOCK>(acc0, acc1, acc2, acc3);
}

// The batch, and the corner of this invocation's block (see batch_of for the folded grid).
struct Place {
  batch: u32,
  row0: u32,
  col0: u32,
}

fn place(gid: vec3<u32>, lid: vec3<u32>, wid: vec3<u32>, groups: vec3<u32>) -> Place {
  return Place(batch_of(wid, groups), ((wid.y % P.y_tiles) * WG_Y + lid.y) * BLOCK, gid.x * BLOCK);
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let p = place(gid, lid, wid, groups);
  if (p.batch >= P.batch || p.row0 >= P.M || p.col0 >= P.N) { return; }
  store_block(p.batch * P.M * P.N, p.row0, p.col0, block(operand_bases(p.batch), p.row0, p.col0));
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main_bias(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  let p = place(gid, lid, wid, groups);
  if (p.batch >= P.batch || p.row0 >= P.M || p.col0 >= P.N) { return; }
  store_block_bias(p.batch * P.M * P.N, p.row0, p.col0, block(operand_bases(p.batch), p.row0, p.col0));
}
