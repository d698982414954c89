// elementwise.wgsl — the template of every elementwise map: out[i] = f(inputs at i), over up to
// 8 dimensions with broadcasting. src/ops/kernels.ts fills in the placeholders (names in double
// braces) for one op of the table in src/ops/elementwise_ops.ts: each op is its own module and
// pipeline.
// Inputs are read through strides (a broadcast dimension has stride 0, a transposed view has
// swapped strides), so no op needs a contiguous copy of its input first. Outputs are contiguous.
//
// Entry point main. Bindings: 0 params, 1.. the inputs in order (read), then OUT (write).
// Dispatch: 1-D index gid.x + gid.y · (num_workgroups.x · WORKGROUP_SIZE), so more than
// 65535 · WORKGROUP_SIZE invocations fit in one dispatch; each maps ELEMENTS_PER_INVOCATION
// elements, one grid's width apart (i, i + width, …), so the grid is a quarter of n.
{{CONSTANTS}}

// n, the scalar s, each input's offset; the output shape (padded with leading 1s to rank 8, as two
// vec4: shape0 holds dims 0–3, shape1 dims 4–7) and each input's strides seen from it, split alike.
{{PARAMS}}

@group(0) @binding(0) var<uniform> P: Params;
{{BINDINGS}}

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

// Offset of output element i in an input with the given strides (dims 0–3 in s0, 4–7 in s1):
// peel the row-major index from the last dimension to the first; once the rest is 0, so are the
// remaining coordinates (the host pads shapes with leading 1s), and the loops stop.
// Integer division has no SIMD instruction on CPUs (software adapters scalarise it) and is many
// instructions on GPUs, so a coordinate that is the whole rest of the index is taken without one.
fn offset_of(i: u32, s0: vec4<u32>, s1: vec4<u32>) -> u32 {
  var r = i;
  var off = 0u;
  for (var d = 3; d >= 0 && r != 0u; d = d - 1) {
    let n = P.shape1[d];
    if (r < n) { return off + r * s1[d]; }
    off = off + (r % n) * s1[d];
    r = r / n;
  }
  for (var d = 3; d >= 0 && r != 0u; d = d - 1) {
    let n = P.shape0[d];
    if (r < n) { return off + r * s0[d]; }
    off = off + (r % n) * s0[d];
    r = r / n;
  }
  return off;
}

// The op: a pure function of its inputs and the scalar.
{{FUNCTIONS}}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let width = groups.x * groups.y * WORKGROUP_SIZE;
  for (var e = 0u; e < ELEMENTS_PER_INVOCATION; e = e + 1u) {
    let i = flat(gid, groups) + e * width;
    if (i >= P.n) { return; }
{{LOADS}}
    OUT[i] = {{EXPRESSION}};
  }
}
