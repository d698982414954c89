// argmax.wgsl — index of the largest value (with P.smallest = 1: the smallest, argmin) along the
// middle axis of a contiguous tensor viewed as [outer, R, inner], as int32: out[o, j] =
// argmax_r X[o, r, j]. The last axis is inner = 1; axis 0 of a matrix is outer = 1. Ties give the
// first index; NaN wins over any number, so the first NaN wins (as in PyTorch, for both). One invocation per output; R ≥ 1 (the caller refuses an empty axis).
// Bindings: 0 params, 1 X (read), 2 out (write, i32). Dispatch is 2-D past 65535 groups.
struct Params { outer: u32, R: u32, inner: u32, smallest: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<i32>;

// Tested on the bits: WGSL lets a compiler assume no NaN and fold `v != v` to false.
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (idx >= P.outer * P.inner) { return; }
  let base = (idx / P.inner) * P.R * P.inner + idx % P.inner;
  var best = X[base];
  var best_r = 0u;
  if (!is_nan(best)) {
    for (var r = 1u; r < P.R; r = r + 1u) {
      let v = X[base + r * P.inner];
      if (is_nan(v)) {
        best_r = r;
        break;
      }
      if (select(v > best, v < best, P.smallest == 1u)) {
        best = v;
        best_r = r;
      }
    }
  }
  OUT[idx] = i32(best_r);
}
