// words.wgsl — 32-bit words moved or set unchanged, whatever they hold (float32 or int32 bits: no
// float conversion, so NaN payloads and subnormals survive). The runtime's own kernels:
//   fill: OUT[i] = P.value          (NaN pre-fill in debug mode, full(), zeros(), ones())
//   copy: OUT[i] = SRC[i]           (reading back an application's buffer that lacks COPY_SRC)
// Bindings: 0 params, then SRC (read, copy only) and OUT (rw).
// Dispatch: 1-D index i = gid.x + gid.y · (num_workgroups.x · WORKGROUP_SIZE), so more than 65535
// workgroups' worth of words fit in one dispatch. WORKGROUP_SIZE comes from the header that
// src/runtime/kernels.ts puts in front of this source.
struct Params { n: u32, value: u32, _pad0: u32, _pad1: u32 }

@group(0) @binding(0) var<uniform> P: Params;

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

@group(0) @binding(1) var<storage, read_write> FILL_OUT: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat(gid, groups);
  if (i >= P.n) { return; }
  FILL_OUT[i] = P.value;
}

@group(0) @binding(1) var<storage, read> COPY_SRC: array<u32>;
@group(0) @binding(2) var<storage, read_write> COPY_OUT: array<u32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn copy(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat(gid, groups);
  if (i >= P.n) { return; }
  COPY_OUT[i] = COPY_SRC[i];
}
