// cross_entropy.wgsl — softmax cross-entropy over a batch, mean reduction, int32 labels.
// Exact for huge logits: each row's loss is log Σ_c exp(x_c − m) − (x_y − m) with m the row max,
// so m is never added to a small term before the target logit is subtracted (equal logits of 1e8
// give ln 2, not 0). A target logit of −inf gives +inf; +inf or NaN in a row gives NaN, as
// PyTorch's log_softmax. A row whose label is P.ignore_index adds nothing and is not counted in
// the mean (its gradient row is 0), whatever its logits; the mean of no kept rows is NaN. Any
// other label outside [0, C) makes that row's loss and gradient NaN (never a silent value). So
// the result never depends on label values the host does not know (labels computed on the GPU,
// a captured step's later batches). The caller handles N = 0 or C = 0 (no dispatch).
//
//   forward:  loss = (1/K) Σ_{i kept} (lse_i − x[i, y_i]), K the rows kept   one workgroup of
//             WORKGROUP_SIZE; rows split over invocations, partial sums combined in workgroup
//             memory. Bindings: 0 params, 1 logits (read), 2 labels (read, i32), 3 loss (write, one f32).
//   backward: dx[i, j] = g · (softmax(x_i)_j − [j = y_i]) / K   one invocation per row; each
//             workgroup counts K itself (N label reads: cheap next to the N·C logits).
//             Bindings: 0 params, 1 logits, 2 labels, 3 g (read, the upstream scalar), 4 dx (write).
//   forward_grad: the forward and, in the same pass over each row, the gradient for g = 1 — what a
//             training step's backward needs — so a step spends one dispatch on its loss, not three
//             (forward, the seed gradient's fill, backward). K is counted first, then the rows.
//             Bindings: 1 logits, 2 labels, 3 loss (write), 4 dx (write).
struct Params { N: u32, C: u32, zero: u32, ignore_index: i32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<i32>;

fn row_max(base: u32) -> f32 {
  var m = X[base];
  for (var c = 1u; c < P.C; c = c + 1u) { m = max(m, X[base + c]); }
  return m;
}

fn row_sum_exp(base: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var c = 0u; c < P.C; c = c + 1u) { s = s + exp(X[base + c] - m); }
  return s;
}

// A quiet NaN made at run time: WGSL rejects NaN as a constant expression, so the (always zero)
// uniform P.zero keeps it out of constant evaluation.
fn nan() -> f32 {
  return bitcast<f32>(0x7fc00000u | P.zero);
}

fn label_ok(y: i32) -> bool {
  return y >= 0 && u32(y) < P.C;
}

var<workgroup> kept_partial: array<u32, WORKGROUP_SIZE>;

// The number of rows whose label is not ignore_index, counted by the whole workgroup (call it from
// uniform control flow: it has barriers). f32 as the divisor of the mean.
fn kept_rows(lid: u32) -> f32 {
  var n = 0u;
  for (var i = lid; i < P.N; i = i + WORKGROUP_SIZE) {
    if (Y[i] != P.ignore_index) { n = n + 1u; }
  }
  kept_partial[lid] = n;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { kept_partial[lid] = kept_partial[lid] + kept_partial[lid + stride]; }
    workgroupBarrier();
  }
  return f32(kept_partial[0]);
}

@group(0) @binding(3) var<storage, read_write> LOSS: array<f32>;
var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

// Row i's loss from its max m and its Σ exp(x − m); NaN for a label outside [0, C). Relative to m:
// x_y − m is exact for logits within a factor of 2 of each other, and log(s) is in [0, ln C].
fn row_loss(i: u32, m: f32, s: f32) -> f32 {
  let y = Y[i];
  if (!label_ok(y)) { return nan(); }
  return log(s) - (X[i * P.C + u32(y)] - m);
}

// Kahan summation: acc = (sum, compensation); the compensated total is sum − compensation.
fn kahan_add(acc: vec2<f32>, v: f32) -> vec2<f32> {
  let t = acc.x + (v - acc.y);
  return vec2<f32>(t, (t - acc.x) - (v - acc.y));
}

// The WORKGROUP_SIZE invocations' partial sums combined in a tree; invocation 0 writes the mean
// over the `kept` rows.
fn write_mean(lid: u32, sum: f32, kept: f32) {
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) { partial[lid] = partial[lid] + partial[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) { LOSS[0] = partial[0] / kept; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(local_invocation_id) lid: vec3<u32>) {
  let kept = kept_rows(lid.x);
  var acc = vec2<f32>(0.0, 0.0);
  for (var i = lid.x; i < P.N; i = i + WORKGROUP_SIZE) {
    if (Y[i] == P.ignore_index) { continue; }
    let m = row_max(i * P.C);
    acc = kahan_add(acc, row_loss(i, m, row_sum_exp(i * P.C, m)));
  }
  write_mean(lid.x, acc.x - acc.y, kept);
}

@group(0) @binding(4) var<storage, read_write> DX_FUSED: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_grad(@builtin(local_invocation_id) lid: vec3<u32>) {
  let kept = kept_rows(lid.x);
  var acc = vec2<f32>(0.0, 0.0);
  let inv_n = 1.0 / kept;
  for (var i = lid.x; i < P.N; i = i + WORKGROUP_SIZE) {
    let base = i * P.C;
    if (Y[i] == P.ignore_index) {
      for (var c = 0u; c < P.C; c = c + 1u) { DX_FUSED[base + c] = 0.0; }
      continue;
    }
    let m = row_max(base);
    let s = row_sum_exp(base, m);
    let y = Y[i];
    let bad = !label_ok(y);
    let scale = inv_n / s;
    for (var c = 0u; c < P.C; c = c + 1u) {
      var d = exp(X[base + c] - m) * scale;
      if (i32(c) == y) { d = d - inv_n; }
      DX_FUSED[base + c] = select(d, nan(), bad);
    }
    acc = kahan_add(acc, row_loss(i, m, s));
  }
  write_mean(lid.x, acc.x - acc.y, kept);
}

@group(0) @binding(3) var<storage, read> G: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(
  @builtin(global_invocation_id) gid: vec3<u32>,
  @builtin(local_invocation_id) lid: vec3<u32>,
  @builtin(num_workgroups) groups: vec3<u32>,
) {
  // Counted before any invocation returns: kept_rows has barriers.
  let kept = kept_rows(lid.x);
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= P.N) { return; }
  let base = i * P.C;
  let y = Y[i];
  if (y == P.ignore_index) {
    for (var c = 0u; c < P.C; c = c + 1u) { DX[base + c] = 0.0; }
    return;
  }
  let m = row_max(base);
  let inv = 1.0 / row_sum_exp(base, m);
  let g = G[0] / kept;
  let bad = !label_ok(y);
  for (var c = 0u; c < P.C; c = c + 1u) {
    var d = exp(X[base + c] - m) * inv;
    if (i32(c) == y) { d = d - 1.0; }
    DX[base + c] = select(g * d, nan(), bad);
  }
}
