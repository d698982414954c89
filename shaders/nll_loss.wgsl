// nll_loss.wgsl — the negative log-likelihood of log-probabilities LOGP viewed as [N, C, inner]
// (inner = d1·d2·…, 1 for [N, C]) against int32 labels Y [N, inner], as PyTorch's nll_loss, with
// label smoothing ε as cross_entropy's: each element's loss is
//   −(1 − ε)·logp[n, y, j] − (ε / C)·Σ_c logp[n, c, j],   0 where y = ignore_index,
// and NaN for a label outside [0, C) (never a silent value).
//   forward_none:   out[n, j], one invocation per element.            Bindings: 1 LOGP, 2 Y, 3 out.
//   forward_reduce: one workgroup of WORKGROUP_SIZE: the sum (reduction 1) or the mean over the elements not
//                   ignored (reduction 2; none kept: NaN), and that count.  Bindings: 1 LOGP, 2 Y,
//                   3 out (one f32), 4 count (one f32).
//   backward:       dlogp[n, c, j] = −g·w·((1 − ε)·[c = y] + ε / C), g = G[n, j] (reduction 0),
//                   G[0] (1) or G[0] / count (2); w = 0 where ignored.   Bindings: 1 Y, 2 G,
//                   3 count (read only for reduction 2), 4 dlogp.
// Dispatch is 2-D past 65535 groups; the caller handles empty tensors.
struct Params { N: u32, C: u32, inner: u32, reduction: u32, ignore_index: i32, smoothing: f32, zero: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> P: Params;

// A quiet NaN made at run time: WGSL rejects NaN as a constant expression, so the (always zero)
// uniform P.zero keeps it out of constant evaluation.
fn nan() -> f32 {
  return bitcast<f32>(0x7fc00000u | P.zero);
}

fn element_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

fn base_of(idx: u32) -> u32 {
  return (idx / P.inner) * P.C * P.inner + idx % P.inner;
}

@group(0) @binding(1) var<storage, read> LOGP: array<f32>;
@group(0) @binding(2) var<storage, read> Y: array<i32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;

fn element_loss(idx: u32) -> f32 {
  let y = Y[idx];
  if (y == P.ignore_index) { return 0.0; }
  if (y < 0 || u32(y) >= P.C) { return nan(); }
  let base = base_of(idx);
  var loss = -(1.0 - P.smoothing) * LOGP[base + u32(y) * P.inner];
  if (P.smoothing > 0.0) {
    var s = 0.0;
    for (var c = 0u; c < P.C; c = c + 1u) { s = s + LOGP[base + c * P.inner]; }
    loss = loss - P.smoothing / f32(P.C) * s;
  }
  return loss;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_none(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = element_index(gid, groups);
  if (idx >= P.N * P.inner) { return; }
  OUT[idx] = element_loss(idx);
}

@group(0) @binding(4) var<storage, read_write> COUNT: array<f32>;
var<workgroup> partial_sum: array<f32, WORKGROUP_SIZE>;
var<workgroup> partial_count: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_reduce(@builtin(local_invocation_id) lid: vec3<u32>) {
  var s = 0.0;
  var n = 0.0;
  for (var idx = lid.x; idx < P.N * P.inner; idx = idx + WORKGROUP_SIZE) {
    s = s + element_loss(idx);
    n = n + select(1.0, 0.0, Y[idx] == P.ignore_index);
  }
  partial_sum[lid.x] = s;
  partial_count[lid.x] = n;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) {
      partial_sum[lid.x] = partial_sum[lid.x] + partial_sum[lid.x + stride];
      partial_count[lid.x] = partial_count[lid.x] + partial_count[lid.x + stride];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    let total = partial_sum[0];
    let count = partial_count[0];
    OUT[0] = select(total, select(nan(), total / count, count > 0.0), P.reduction == 2u);
    COUNT[0] = count;
  }
}
