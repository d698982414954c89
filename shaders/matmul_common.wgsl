// matmul_common.wgsl — what both matmul kernels share, spliced in front of each (matmul.wgsl,
// matmul_tiled.wgsl) by src/ops/kernels.ts: the parameters, the bindings, and the epilogue that
// stores an invocation's block of C (with the bias and the ReLU for main_bias).
// BLOCK, the side of an invocation's block, comes from the generated constants above.
//
// Bindings: main: 0 params, 1 A, 2 B (read), 3 C (write, contiguous [M, N]);
//           main_bias: 0 params, 1 A, 2 B, 3 BIAS (read, [N]), 4 CB (write, [M, N]).
// A and B are read through their row and column strides (a_rs, a_cs, b_rs, b_cs), so a
// transposed operand (a view whose strides are swapped) is read in place.
{{PARAMS}}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<storage, read> BIAS: array<f32>;
@group(0) @binding(4) var<storage, read_write> CB: array<f32>;

/** main_bias only: apply the ReLU after adding the bias (set on every bias pipeline). */
override RELU: bool;

// The ReLU of the elementwise op table (src/ops/elementwise_ops.ts): it keeps NaN, maps ±0 to +0.
{{FUNCTIONS}}

// Stores the block whose top-left corner is (row0, col0), clipped to the matrix.
fn store_block(row0: u32, col0: u32, accs: array<vec4<f32>, BLOCK>) {
  for (var r = 0u; r < BLOCK; r = r + 1u) {
    let row = row0 + r;
    if (row >= P.M) { break; }
    for (var c = 0u; c < BLOCK; c = c + 1u) {
      let col = col0 + c;
      if (col < P.N) { C[row * P.N + col] = accs[r][c]; }
    }
  }
}

// The epilogue of a Linear layer: C = A·B + bias (broadcast over rows), then ReLU if RELU — so the
// bias add and the activation cost no dispatch of their own.
fn store_block_bias(row0: u32, col0: u32, accs: array<vec4<f32>, BLOCK>) {
  for (var r = 0u; r < BLOCK; r = r + 1u) {
    let row = row0 + r;
    if (row >= P.M) { break; }
    for (var c = 0u; c < BLOCK; c = c + 1u) {
      let col = col0 + c;
      if (col < P.N) {
        var v = accs[r][c] + BIAS[col];
        if (RELU) { v = op_relu(v, 0.0); }
        CB[row * P.N + col] = v;
      }
    }
  }
}
