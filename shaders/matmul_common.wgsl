// matmul_common.wgsl — what both matmul kernels share, spliced in front of each (matmul.wgsl,
// matmul_tiled.wgsl) by src/ops/kernels.ts: the parameters, the bindings, and the epilogue that
// stores an invocation's block of C (with the bias and the ReLU for main_bias).
// BLOCK, the side of an invocation's block, comes from the generated constants above.
//
// Bindings: main: 0 params, 1 A, 2 B (read), 3 C (write, contiguous [M, N]);
//           main_bias: 0 params, 1 A, 2 B, 3 BIAS (read, [N]), 4 CB (write, [M, N]).
// A and B are read through their row and column strides (a_rs, a_cs, b_rs, b_cs), so a
// transposed operand (a view whose strides are swapped) is read in place.
// Batches: P.batch products, indexed by up to two batch dimensions (outer = batch / batch_inner,
// inner = batch % batch_inner) with a stride per operand for each (0 where it is broadcast); C is
// contiguous [batch, M, N]. The batch comes from workgroup_id.z; batches past the device's z limit
// fold into y, whose first y_tiles workgroups are the row tiles of one batch.
{{PARAMS}}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> CB: array<f32>;

/** main_bias only: apply the ReLU after adding the bias (set on every bias pipeline). */
override RELU: bool;
/** main_bias only: the bias is per row of C ([M], a convolution's output channels), not per column ([N]). */
override BIAS_PER_ROW: bool = false;

// The ReLU of the elementwise op table (src/ops/elementwise_ops.ts): it keeps NaN, maps ±0 to +0.
{{FUNCTIONS}}

/** The batch of a workgroup (past P.batch when the folded grid overshoots: nothing to do). */
fn batch_of(wid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return wid.z + (wid.y / P.y_tiles) * groups.z;
}

/** The first element of A and of B for a batch. */
fn operand_bases(batch: u32) -> vec2<u32> {
  let outer = batch / P.batch_inner;
  let inner = batch % P.batch_inner;
  return vec2<u32>(P.a_off + outer * P.a_bs0 + inner * P.a_bs1, P.b_off + outer * P.b_bs0 + inner * P.b_bs1);
}

// Stores the block whose top-left corner is (row0, col0), clipped to the matrix, into the batch
// whose C starts at c_base.
fn store_block(c_base: u32, row0: u32, col0: u32, accs: array<vec4<f32>, BLOCK>) {
  for (var r = 0u; r < BLOCK; r = r + 1u) {
    let row = row0 + r;
    if (row >= P.M) { break; }
    for (var c = 0u; c < BLOCK; c = c + 1u) {
      let col = col0 + c;
      if (col < P.N) { C[c_base + row * P.N + col] = accs[r][c]; }
    }
  }
}

// The epilogue of a Linear layer: C = A·B + bias (broadcast over rows; over columns with
// BIAS_PER_ROW, for a convolution), then ReLU if RELU — so the bias add and the activation cost no
// dispatch of their own.
fn store_block_bias(c_base: u32, row0: u32, col0: u32, accs: array<vec4<f32>, BLOCK>) {
  for (var r = 0u; r < BLOCK; r = r + 1u) {
    let row = row0 + r;
    if (row >= P.M) { break; }
    for (var c = 0u; c < BLOCK; c = c + 1u) {
      let col = col0 + c;
      if (col < P.N) {
        var v = accs[r][c] + BIAS[select(col, row, BIAS_PER_ROW)];
        if (RELU) { v = op_relu(v, 0.0); }
        CB[c_base + row * P.N + col] = v;
      }
    }
  }
}

// Stores four outputs of one row, columns col0..col0+3, those inside the matrix (larger blocks of
// matmul_vec4.wgsl store through this, a row's vec4 at a time).
fn store_vec4(c_base: u32, row: u32, col0: u32, v: vec4<f32>) {
  let at = c_base + row * P.N + col0;
  for (var c = 0u; c < 4u; c = c + 1u) {
    if (col0 + c < P.N) { C[at + c] = v[c]; }
  }
}

// store_vec4 with store_block_bias's epilogue (bias, then ReLU if RELU).
fn store_vec4_bias(c_base: u32, row: u32, col0: u32, v: vec4<f32>) {
  let at = c_base + row * P.N + col0;
  for (var c = 0u; c < 4u; c = c + 1u) {
    let col = col0 + c;
    if (col < P.N) {
      var x = v[c] + BIAS[select(col, row, BIAS_PER_ROW)];
      if (RELU) { x = op_relu(x, 0.0); }
      CB[at + c] = x;
    }
  }
}
