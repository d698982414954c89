// elementwise.wgsl — the template of every elementwise map: out[i] = f(inputs at i), over up to
// 4 dimensions with broadcasting. src/ops/kernels.ts fills in the placeholders (names in double
// braces) for one op of the table in src/ops/elementwise_ops.ts: each op is its own module and
// pipeline.
// Inputs are read through strides (a broadcast dimension has stride 0, a transposed view has
// swapped strides), so no op needs a contiguous copy of its input first. Outputs are contiguous.
//
// Entry point main. Bindings: 0 params, 1.. the inputs in order (read), then OUT (write).
// Dispatch: 1-D index i = gid.x + gid.y · (num_workgroups.x · WORKGROUP_SIZE), so more than
// 65535 · WORKGROUP_SIZE elements fit in one dispatch.
{{CONSTANTS}}

// n, the scalar s, each input's offset; the output shape (padded with leading 1s to rank 4) and
// each input's strides seen from it.
{{PARAMS}}

@group(0) @binding(0) var<uniform> P: Params;
{{BINDINGS}}

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

// Offset of output element i in an input with the given strides.
fn offset_of(i: u32, strides: vec4<u32>) -> u32 {
  let i3 = i % P.shape.w;
  let r3 = i / P.shape.w;
  let i2 = r3 % P.shape.z;
  let r2 = r3 / P.shape.z;
  let i1 = r2 % P.shape.y;
  let i0 = r2 / P.shape.y;
  return i0 * strides.x + i1 * strides.y + i2 * strides.z + i3 * strides.w;
}

// The op: a pure function of its inputs and the scalar.
{{FUNCTIONS}}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat(gid, groups);
  if (i >= P.n) { return; }
{{LOADS}}
  OUT[i] = {{EXPRESSION}};
}
