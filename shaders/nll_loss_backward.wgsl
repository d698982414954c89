// nll_loss_backward.wgsl — the gradient of nll_loss.wgsl's loss with respect to the
// log-probabilities (see there): dlogp[n, c, j] = −g·w·((1 − ε)·[c = y] + ε / C), one invocation
// per element (n, j). Bindings: 1 Y, 2 G, 3 count (read only for the mean), 4 dlogp.
struct Params { N: u32, C: u32, inner: u32, reduction: u32, ignore_index: i32, smoothing: f32, zero: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> Y: array<i32>;
@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read> COUNT: array<f32>;
@group(0) @binding(4) var<storage, read_write> DX: array<f32>;

fn nan() -> f32 {
  return bitcast<f32>(0x7fc00000u | P.zero);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (idx >= P.N * P.inner) { return; }
  let y = Y[idx];
  let base = (idx / P.inner) * P.C * P.inner + idx % P.inner;
  var g = select(G[0], G[idx], P.reduction == 0u);
  if (P.reduction == 2u) { g = g / COUNT[0]; }
  let ignored = y == P.ignore_index;
  let valid = ignored || (y >= 0 && u32(y) < P.C);
  for (var c = 0u; c < P.C; c = c + 1u) {
    let on_label = select(0.0, 1.0 - P.smoothing, i32(c) == y);
    let d = select(-g * (on_label + P.smoothing / f32(P.C)), 0.0, ignored);
    DX[base + c * P.inner] = select(nan(), d, valid);
  }
}
