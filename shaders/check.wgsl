// check.wgsl — anomaly detection: records the sequence number of the first dispatch whose output
// holds a NaN or an infinity. The test is on the bits (exponent all ones), so it holds whatever
// the compiler assumes about NaN in float comparisons.
// Bindings: 0 params, 1 X (read, the output as raw bits), 2 FLAG (rw, one atomic u32, starts at 0xffffffff).
// WORKGROUP_SIZE comes from the constants src/ops/kernels.ts puts in front of this source.
struct Params { n: u32, seq: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<u32>;
@group(0) @binding(2) var<storage, read_write> FLAG: array<atomic<u32>>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= P.n) { return; }
  if ((X[i] & 0x7f800000u) == 0x7f800000u) {
    atomicMin(&FLAG[0], P.seq);
  }
}
