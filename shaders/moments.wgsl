// moments.wgsl — the variance (or, with P.root = 1, the standard deviation) along the middle axis
// of a contiguous tensor viewed as [outer, R, inner], and its gradient. Two passes over each row:
// the mean, then Σ (x − mean)², times P.inv_divisor = 1 / max(0, R − correction) (+inf for a
// divisor of 0, so 0 deviations give NaN and others +inf, as PyTorch). One invocation per row;
// R ≥ 1 (the caller handles an empty axis).
//   forward:  out[o, j] = var or sqrt(var).                                 Bindings: 1 X, 2 out.
//   backward: dx[o, r, j] = G[o, j] · (x − mean) · 2/divisor for var,
//             G[o, j] · (x − mean) / (divisor · std) for std.               Bindings: 1 X, 2 G, 3 dx.
// Dispatch is 2-D past 65535 groups.
struct Params { outer: u32, R: u32, inner: u32, inv_divisor: f32, root: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;

fn row_mean(base: u32) -> f32 {
  var s = 0.0;
  for (var r = 0u; r < P.R; r = r + 1u) { s = s + X[base + r * P.inner]; }
  return s / f32(P.R);
}

fn row_var(base: u32, mean: f32) -> f32 {
  var s = 0.0;
  for (var r = 0u; r < P.R; r = r + 1u) {
    let d = X[base + r * P.inner] - mean;
    s = s + d * d;
  }
  return s * P.inv_divisor;
}

@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  let base = row_base(idx);
  let v = row_var(base, row_mean(base));
  OUT[idx] = select(v, sqrt(v), P.root == 1u);
}

@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  let base = row_base(idx);
  let mean = row_mean(base);
  // d var / dx = 2 (x − mean) / divisor; d std / dx = that / (2 std).
  let scale = select(2.0 * P.inv_divisor, P.inv_divisor / sqrt(row_var(base, mean)), P.root == 1u);
  let g = G[idx] * scale;
  for (var r = 0u; r < P.R; r = r + 1u) {
    let at = base + r * P.inner;
    DX[at] = g * (X[at] - mean);
  }
}
