// extremum.wgsl — the largest (or, with P.smallest = 1, the smallest) value along the middle axis
// of a contiguous tensor viewed as [outer, R, inner], and its gradient. The extremum is the first
// one: ties give the first index and NaN wins over any number (the first NaN), as PyTorch's
// max(dim)/min(dim). One invocation per row (o, j); R ≥ 1 (the caller refuses an empty axis).
//   values:   out[o, j] = X[o, r*, j].                         Bindings: 1 X, 2 out.
//   backward: dx[o, r, j] = G[o, j] where r = r*, else 0.     Bindings: 1 X, 2 G, 3 dx.
// Dispatch is 2-D past 65535 groups.
struct Params { outer: u32, R: u32, inner: u32, smallest: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;

// Tested on the bits: WGSL lets a compiler assume no NaN and fold `v != v` to false.

// The index r* of the row's first extremum.
fn extremum_index(base: u32) -> u32 {
  var best = X[base];
  var best_r = 0u;
  for (var r = 1u; r < P.R && !is_nan(best); r = r + 1u) {
    let v = X[base + r * P.inner];
    if (is_nan(v) || select(v > best, v < best, P.smallest == 1u)) {
      best = v;
      best_r = r;
    }
  }
  return best_r;
}

@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn values(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  let base = row_base(idx);
  OUT[idx] = X[base + extremum_index(base) * P.inner];
}

@group(0) @binding(2) var<storage, read> G: array<f32>;
@group(0) @binding(3) var<storage, read_write> DX: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  let base = row_base(idx);
  let best = extremum_index(base);
  for (var r = 0u; r < P.R; r = r + 1u) {
    DX[base + r * P.inner] = select(0.0, G[idx], r == best);
  }
}
