// argmax.wgsl — index of the largest value in each row of a contiguous [rows, C] tensor (int32).
// Ties give the first index; a NaN counts as the largest value, as in PyTorch.
// Bindings: 0 params, 1 X (read), 2 out (write, i32).
struct Params { rows: u32, C: u32, _p0: u32, _p1: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<i32>;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = gid.x + gid.y * groups.x * 256u;
  if (row >= P.rows) { return; }
  let base = row * P.C;
  var best = X[base];
  var best_i = 0u;
  for (var c = 1u; c < P.C; c = c + 1u) {
    let v = X[base + c];
    let best_is_nan = best != best;
    if (!best_is_nan && (v > best || v != v)) {
      best = v;
      best_i = c;
    }
  }
  OUT[row] = i32(best_i);
}
