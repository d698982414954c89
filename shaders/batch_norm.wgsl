// batch_norm.wgsl — batch normalisation of a contiguous [N, C, inner] tensor: statistics per
// channel c over its M = N·inner elements, and their gradients. Reductions use one workgroup per
// channel (invocations stride over the channel, partial sums meet in shared memory); the mean and
// the variance take two passes (Σ x, then Σ (x − mean)²), so a large common offset costs no
// precision. STATS holds three floats per channel: mean, rstd = 1/sqrt(var + eps), biased var.
// P.flags: bit 0 = a weight is bound, bit 1 = a bias is bound (unbound ones read X), bit 2 =
// training (the statistics came from the batch, so the input gradient goes through them too).
//   channel_stats:  STATS from the batch.                       1 X, 2 STATS_OUT
//   running_stats:  STATS from running mean and variance.        1 RM_IN, 2 RV_IN, 3 STATS_EVAL
//   normalize:      y = (x − mean)·rstd·w + b.                   1 X, 2 W, 3 B, 4 ST, 5 Y
//   update_running: rm ← (1 − m)·rm + m·mean, rv ← (1 − m)·rv + m·var·M/(M − 1), in place.
//                                                                1 ST_U, 2 RM, 3 RV
//   count:          NBT[0] += 1 (num_batches_tracked).           1 NBT
//   channel_grads:  DW[c] = Σ g·x̂, DB[c] = Σ g.                  1 X, 2 G, 3 ST, 4 DW, 5 DB
//   input_grad:     training: dx = w·rstd·(g − Σg/M − x̂·Σg·x̂/M); eval: dx = g·w·rstd.
//                                                                1 X, 2 W, 3 G_IN, 4 ST, 5 DWS, 6 DBS, 7 DX
// Grids go 2-D past 65535 workgroups.

@group(0) @binding(0) var<uniform> P: Params;

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

fn has_weight() -> bool { return (P.flags & 1u) != 0u; }
fn has_bias() -> bool { return (P.flags & 2u) != 0u; }
fn training() -> bool { return (P.flags & 4u) != 0u; }
fn count() -> u32 { return P.N * P.inner; }
// Offset of the k-th element (k < M) of channel c.
fn channel_offset(c: u32, k: u32) -> u32 { return ((k / P.inner) * P.C + c) * P.inner + k % P.inner; }
fn channel_of(idx: u32) -> u32 { return (idx / P.inner) % P.C; }
fn element_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 { return gid.x + gid.y * groups.x * WORKGROUP_SIZE; }

@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> STATS_OUT: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn channel_stats(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * groups.x;
  if (c >= P.C) { return; }
  let M = count();
  var s = 0.0;
  for (var k = lid; k < M; k = k + WORKGROUP_SIZE) { s = s + X[channel_offset(c, k)]; }
  let mean = workgroup_sum(lid, vec2<f32>(s, 0.0)).x / f32(M);
  var q = 0.0;
  for (var k = lid; k < M; k = k + WORKGROUP_SIZE) {
    let d = X[channel_offset(c, k)] - mean;
    q = q + d * d;
  }
  let variance = workgroup_sum(lid, vec2<f32>(q, 0.0)).x / f32(M);
  if (lid == 0u) {
    STATS_OUT[3u * c] = mean;
    STATS_OUT[3u * c + 1u] = 1.0 / sqrt(variance + P.eps);
    STATS_OUT[3u * c + 2u] = variance;
  }
}

@group(0) @binding(1) var<storage, read> RM_IN: array<f32>;
@group(0) @binding(2) var<storage, read> RV_IN: array<f32>;
@group(0) @binding(3) var<storage, read_write> STATS_EVAL: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn running_stats(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let c = element_index(gid, groups);
  if (c >= P.C) { return; }
  STATS_EVAL[3u * c] = RM_IN[c];
  STATS_EVAL[3u * c + 1u] = 1.0 / sqrt(RV_IN[c] + P.eps);
  STATS_EVAL[3u * c + 2u] = RV_IN[c];
}

@group(0) @binding(2) var<storage, read> W: array<f32>;
@group(0) @binding(3) var<storage, read> B: array<f32>;
@group(0) @binding(4) var<storage, read> ST: array<f32>;
@group(0) @binding(5) var<storage, read_write> Y: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn normalize(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = element_index(gid, groups);
  if (idx >= P.N * P.C * P.inner) { return; }
  let c = channel_of(idx);
  var y = (X[idx] - ST[3u * c]) * ST[3u * c + 1u];
  if (has_weight()) { y = y * W[c]; }
  if (has_bias()) { y = y + B[c]; }
  Y[idx] = y;
}

@group(0) @binding(1) var<storage, read> ST_U: array<f32>;
@group(0) @binding(2) var<storage, read_write> RM: array<f32>;
@group(0) @binding(3) var<storage, read_write> RV: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn update_running(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let c = element_index(gid, groups);
  if (c >= P.C) { return; }
  let M = f32(count());
  RM[c] = (1.0 - P.momentum) * RM[c] + P.momentum * ST_U[3u * c];
  RV[c] = (1.0 - P.momentum) * RV[c] + P.momentum * (ST_U[3u * c + 2u] * M / (M - 1.0));
}

@group(0) @binding(1) var<storage, read_write> NBT: array<i32>;

@compute @workgroup_size(1)
fn count_batch() {
  NBT[0] = NBT[0] + 1;
}

@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read> ST_G: array<f32>;
@group(0) @binding(4) var<storage, read_write> DW: array<f32>;
@group(0) @binding(5) var<storage, read_write> DB: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn channel_grads(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.x + wid.y * groups.x;
  if (c >= P.C) { return; }
  let mean = ST_G[3u * c];
  let rstd = ST_G[3u * c + 1u];
  var sums = vec2<f32>(0.0, 0.0);
  for (var k = lid; k < count(); k = k + WORKGROUP_SIZE) {
    let at = channel_offset(c, k);
    sums = sums + vec2<f32>(G[at] * (X[at] - mean) * rstd, G[at]);
  }
  let total = workgroup_sum(lid, sums);
  if (lid == 0u) {
    DW[c] = total.x;
    DB[c] = total.y;
  }
}

@group(0) @binding(3) var<storage, read> G_IN: array<f32>;
@group(0) @binding(5) var<storage, read> DWS: array<f32>;
@group(0) @binding(6) var<storage, read> DBS: array<f32>;
@group(0) @binding(7) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn input_grad(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = element_index(gid, groups);
  if (idx >= P.N * P.C * P.inner) { return; }
  let c = channel_of(idx);
  let rstd = ST[3u * c + 1u];
  let scale = select(rstd, rstd * W[c], has_weight());
  if (training()) {
    let M = f32(count());
    let xhat = (X[idx] - ST[3u * c]) * rstd;
    DX[idx] = scale * (G_IN[idx] - DBS[c] / M - xhat * DWS[c] / M);
  } else {
    DX[idx] = scale * G_IN[idx];
  }
}
