// fill.wgsl — out[i] = value for every element. It writes the raw 32-bit pattern, so it serves
// float32 and int32 tensors (and the NaN that tests pre-fill outputs with).
// Entry point fill. Bindings: 0 params, 1 OUT (write). src/ops/kernels.ts fills in the
// placeholders (names in double braces). Dispatch: 1-D, as elementwise.wgsl.
{{CONSTANTS}}

{{PARAMS}}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> OUT: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= P.n) { return; }
  OUT[i] = P.value_bits;
}
