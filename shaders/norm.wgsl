// norm.wgsl — the vector p-norm along the middle axis of a contiguous tensor viewed as
// [outer, R, inner], for P.p = 1 (Σ |x|), 2 (sqrt Σ x²) or 0 standing for ∞ (max |x|), and its
// gradient as PyTorch's: p = 1: g·sign(x) (0 at 0); p = 2: g·x / ‖x‖, 0 for a zero row; ∞: g·sign(x)
// split evenly among the entries whose |x| is the max. One invocation per row; R ≥ 1.
//   forward:  out[o, j].                                  Bindings: 1 X, 2 out.
//   backward: dx[o, r, j] from G[o, j].                   Bindings: 1 X, 2 G, 3 dx.
// Dispatch is 2-D past 65535 groups.
struct Params { outer: u32, R: u32, inner: u32, p: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;

fn row_norm(base: u32) -> f32 {
  var acc = 0.0;
  for (var r = 0u; r < P.R; r = r + 1u) {
    let v = abs(X[base + r * P.inner]);
    if (P.p == 1u) { acc = acc + v; } else if (P.p == 2u) { acc = acc + v * v; } else { acc = max(acc, v); }
  }
  return select(acc, sqrt(acc), P.p == 2u);
}

@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  OUT[idx] = row_norm(row_base(idx));
}

@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  let base = row_base(idx);
  let n = row_norm(base);
  let g = G[idx];
  var ties = 0.0;
  if (P.p == 0u) {
    for (var r = 0u; r < P.R; r = r + 1u) { ties = ties + select(0.0, 1.0, abs(X[base + r * P.inner]) == n); }
  }
  for (var r = 0u; r < P.R; r = r + 1u) {
    let at = base + r * P.inner;
    let x = X[at];
    var d = 0.0;
    if (P.p == 1u) {
      d = g * sign(x);
    } else if (P.p == 2u) {
      d = select(g * x / n, 0.0, n == 0.0);
    } else {
      d = select(0.0, g * sign(x) / ties, abs(x) == n);
    }
    DX[at] = d;
  }
}
