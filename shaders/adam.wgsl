// adam.wgsl — PyTorch's Adam and AdamW updates, in place on the parameter and its two moments:
//   Adam:  g = g + weight_decay · p          AdamW: p = p · (1 − lr · weight_decay)
//   m = β1 · m + (1 − β1) · g
//   v = β2 · v + (1 − β2) · g²
//   p = p − step_size · m / (√v / √(1 − β2^t) + eps),   step_size = lr / (1 − β1^t)
// The bias corrections are computed on the host in float64 for each step.
// Bindings: 0 params, 1 p (rw), 2 g (read), 3 m (rw), 4 v (rw). The moments start at zero.
// WORKGROUP_SIZE and T (f32, or vec4<f32> for four floats per invocation: n then counts vec4s)
// come from what src/ops/kernels.ts puts in front of this source.
struct Params {
  n: u32, decoupled: u32, _p0: u32, _p1: u32,
  lr: f32, beta1: f32, beta2: f32, eps: f32,
  weight_decay: f32, step_size: f32, bias_correction2_sqrt: f32, _p2: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> PARAM: array<T>;
@group(0) @binding(2) var<storage, read> GRAD: array<T>;
@group(0) @binding(3) var<storage, read_write> M: array<T>;
@group(0) @binding(4) var<storage, read_write> V: array<T>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= P.n) { return; }
  var p = PARAM[i];
  var g = GRAD[i];
  if (P.weight_decay != 0.0) {
    if (P.decoupled != 0u) { p = p * (1.0 - P.lr * P.weight_decay); } else { g = g + P.weight_decay * p; }
  }
  let m = P.beta1 * M[i] + (1.0 - P.beta1) * g;
  let v = P.beta2 * V[i] + (1.0 - P.beta2) * g * g;
  M[i] = m;
  V[i] = v;
  let denom = sqrt(v) / P.bias_correction2_sqrt + P.eps;
  PARAM[i] = p - P.step_size * m / denom;
}
