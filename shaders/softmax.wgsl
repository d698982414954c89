// softmax.wgsl — softmax, log-softmax and logsumexp along the middle axis of a contiguous tensor
// viewed as [outer, R, inner] (the last axis is inner = 1). One invocation per row (o, j), three
// passes over it: the max m, s = Σ exp(x − m), then the outputs relative to m, so huge logits stay
// exact (equal logits of 1e8 give 1/R, not NaN) and −inf entries give exactly 0 (log: −inf).
// NaN anywhere in a row makes the row NaN; +inf or a row of only −inf gives NaN for softmax and
// log-softmax, as in PyTorch. logsumexp shifts by m only when m is finite, so a row holding +inf
// gives +inf and a row of only −inf gives −inf (PyTorch's choice). R ≥ 1 (the caller handles 0).
//   softmax / log_softmax: out has x's shape.   logsumexp: out[o, j], one value per row.
// Bindings: 0 params, 1 X (read), 2 out (write). Dispatch is 2-D past 65535 groups.
struct Params { outer: u32, R: u32, inner: u32, _p0: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> X: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

// Tested on the bits: WGSL lets a compiler assume no NaN or inf and fold `v != v` to false.

fn is_finite(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) < 0x7f800000u;
}

// The row's max; NaN if any entry is NaN.
fn row_max(base: u32) -> f32 {
  var m = X[base];
  for (var r = 1u; r < P.R && !is_nan(m); r = r + 1u) {
    let v = X[base + r * P.inner];
    if (is_nan(v) || v > m) { m = v; }
  }
  return m;
}

fn row_sum_exp(base: u32, m: f32) -> f32 {
  var s = 0.0;
  for (var r = 0u; r < P.R; r = r + 1u) { s = s + exp(X[base + r * P.inner] - m); }
  return s;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn softmax(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  let base = row_base(idx);
  let m = row_max(base);
  let inv = 1.0 / row_sum_exp(base, m);
  for (var r = 0u; r < P.R; r = r + 1u) {
    let at = base + r * P.inner;
    OUT[at] = exp(X[at] - m) * inv;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn log_softmax(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  let base = row_base(idx);
  let m = row_max(base);
  let log_s = log(row_sum_exp(base, m));
  for (var r = 0u; r < P.R; r = r + 1u) {
    let at = base + r * P.inner;
    OUT[at] = (X[at] - m) - log_s;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn logsumexp(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = row_index(gid, groups);
  if (idx >= P.outer * P.inner) { return; }
  let base = row_base(idx);
  let m_max = row_max(base);
  let m = select(0.0, m_max, is_finite(m_max));
  OUT[idx] = log(row_sum_exp(base, m)) + m;
}
