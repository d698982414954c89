// layer_norm.wgsl — layer normalisation over the last N elements of a contiguous tensor viewed as
// [rows, N], and its gradients. One workgroup per row for forward and dx: each invocation strides
// over the row and the workgroup adds the partial sums in shared memory (rows of N ≤ 128: one
// invocation per row instead, forward_narrow and backward_narrow). The mean and the variance
// take two passes over the row (Σ x, then Σ (x − mean)²), so a large common offset costs no
// precision. P.affine: bit 0 = a weight is bound, bit 1 = a bias is bound (unbound ones read x).
//   forward:     y = (x − mean)·rstd·w + b; STATS[row] = (mean, rstd), rstd = 1/sqrt(var + eps).
//                Bindings: 1 X, 2 W, 3 B, 4 Y, 5 STATS.
//   backward:    dx = rstd·(gw − mean(gw) − x̂·mean(gw·x̂)) with gw = g·w, x̂ = (x − mean)·rstd.
//                Bindings: 1 X, 2 W, 3 G, 4 STATS, 5 DX.
//   param_grads: one invocation per column j: dw[j] = Σ_rows g·x̂, db[j] = Σ_rows g.
//                Bindings: 1 X, 2 G, 3 STATS, 4 DW, 5 DB.
// Dispatch is 2-D past 65535 groups (rows for forward and backward, columns for param_grads).
struct Params { rows: u32, N: u32, eps: f32, affine: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;

var<workgroup> partial: array<vec2<f32>, WORKGROUP_SIZE>;

// The sum over the workgroup of each invocation's v (every invocation must call it).
fn workgroup_sum(lid: u32, v: vec2<f32>) -> vec2<f32> {
  partial[lid] = v;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride >> 1u) {
    if (lid < stride) { partial[lid] = partial[lid] + partial[lid + stride]; }
    workgroupBarrier();
  }
  let total = partial[0];
  // Nobody may overwrite partial (a next call) before everyone has read the total.
  workgroupBarrier();
  return total;
}

fn has_weight() -> bool { return (P.affine & 1u) != 0u; }
fn has_bias() -> bool { return (P.affine & 2u) != 0u; }

@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read_write> Y: array<f32>;
@group(0) @binding(5) var<storage, read_write> STATS: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * groups.x;
  if (row >= P.rows) { return; }
  let base = row * P.N;
  var s = 0.0;
  for (var i = lid; i < P.N; i = i + WORKGROUP_SIZE) { s = s + X[base + i]; }
  let mean = workgroup_sum(lid, vec2<f32>(s, 0.0)).x / f32(P.N);
  var q = 0.0;
  for (var i = lid; i < P.N; i = i + WORKGROUP_SIZE) {
    let d = X[base + i] - mean;
    q = q + d * d;
  }
  let rstd = 1.0 / sqrt(workgroup_sum(lid, vec2<f32>(q, 0.0)).x / f32(P.N) + P.eps);
  for (var i = lid; i < P.N; i = i + WORKGROUP_SIZE) {
    var y = (X[base + i] - mean) * rstd;
    if (has_weight()) { y = y * W[i]; }
    if (has_bias()) { y = y + B[i]; }
    Y[base + i] = y;
  }
  if (lid == 0u) {
    STATS[2u * row] = mean;
    STATS[2u * row + 1u] = rstd;
  }
}

// Narrow rows (the host picks these entry points for N ≤ 128): one invocation per row and plain
// loops, no shared memory and no barriers. A workgroup of WORKGROUP_SIZE on a row of 64 leaves most
// invocations idle through every barrier, and CPU adapters run each barrier as a switch of every
// invocation (lavapipe: 77 ms for 512 rows of 64; this: a few hundred µs).
@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_narrow(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (row >= P.rows) { return; }
  let base = row * P.N;
  // Summed relative to the row's first element: with a large common offset the differences are
  // exact and small, so a plain running sum loses nothing to it.
  let pivot = X[base];
  var s = 0.0;
  for (var i = 1u; i < P.N; i = i + 1u) { s = s + (X[base + i] - pivot); }
  let mean = pivot + s / f32(P.N);
  var q = 0.0;
  for (var i = 0u; i < P.N; i = i + 1u) {
    let d = X[base + i] - mean;
    q = q + d * d;
  }
  let rstd = 1.0 / sqrt(q / f32(P.N) + P.eps);
  for (var i = 0u; i < P.N; i = i + 1u) {
    var y = (X[base + i] - mean) * rstd;
    if (has_weight()) { y = y * W[i]; }
    if (has_bias()) { y = y + B[i]; }
    Y[base + i] = y;
  }
  STATS[2u * row] = mean;
  STATS[2u * row + 1u] = rstd;
}

@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read> SAVED: array<f32>;
@group(0) @binding(5) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * groups.x;
  if (row >= P.rows) { return; }
  let base = row * P.N;
  let mean = SAVED[2u * row];
  let rstd = SAVED[2u * row + 1u];
  var sums = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < P.N; i = i + WORKGROUP_SIZE) {
    let gw = select(G[base + i], G[base + i] * W[i], has_weight());
    sums = sums + vec2<f32>(gw, gw * (X[base + i] - mean) * rstd);
  }
  let means = workgroup_sum(lid, sums) / f32(P.N);
  for (var i = lid; i < P.N; i = i + WORKGROUP_SIZE) {
    let gw = select(G[base + i], G[base + i] * W[i], has_weight());
    let xhat = (X[base + i] - mean) * rstd;
    DX[base + i] = rstd * (gw - means.x - xhat * means.y);
  }
}

// The gradient for narrow rows: one invocation per row (see forward_narrow).
@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_narrow(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let row = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (row >= P.rows) { return; }
  let base = row * P.N;
  let mean = SAVED[2u * row];
  let rstd = SAVED[2u * row + 1u];
  var sums = vec2<f32>(0.0, 0.0);
  for (var i = 0u; i < P.N; i = i + 1u) {
    let gw = select(G[base + i], G[base + i] * W[i], has_weight());
    sums = sums + vec2<f32>(gw, gw * (X[base + i] - mean) * rstd);
  }
  let means = sums / f32(P.N);
  for (var i = 0u; i < P.N; i = i + 1u) {
    let gw = select(G[base + i], G[base + i] * W[i], has_weight());
    let xhat = (X[base + i] - mean) * rstd;
    DX[base + i] = rstd * (gw - means.x - xhat * means.y);
  }
}

@group(0) @binding(2) var<storage, read> G_COLS: array<f32>;
@group(0) @binding(3) var<storage, read> STATS_COLS: array<f32>;
@group(0) @binding(4) var<storage, read_write> DW: array<f32>;
@group(0) @binding(5) var<storage, read_write> DB: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn param_grads(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let j = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (j >= P.N) { return; }
  var dw = 0.0;
  var db = 0.0;
  for (var r = 0u; r < P.rows; r = r + 1u) {
    let g = G_COLS[r * P.N + j];
    dw = dw + g * (X[r * P.N + j] - STATS_COLS[2u * r]) * STATS_COLS[2u * r + 1u];
    db = db + g;
  }
  DW[j] = dw;
  DB[j] = db;
}
