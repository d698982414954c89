// sgd.wgsl — PyTorch's SGD update, in place on the parameter (and its momentum buffer):
//   d = g + weight_decay · p
//   with momentum: buf = d on the first step, else momentum · buf + (1 − dampening) · d;
//                  d = d + momentum · buf (nesterov) or d = buf
//   p = p − lr · d
// Entry points: plain (momentum 0; bindings 0 params, 1 p (rw), 2 g (read)) and
// momentum (bindings 0 params, 1 p (rw), 2 g (read), 3 buf (rw)).
struct Params {
  n: u32, first_step: u32, nesterov: u32, _p0: u32,
  lr: f32, momentum: f32, dampening: f32, weight_decay: f32,
}

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read_write> PARAM: array<f32>;
@group(0) @binding(2) var<storage, read> GRAD: array<f32>;
@group(0) @binding(3) var<storage, read_write> BUF: array<f32>;

fn index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn plain(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = index(gid, groups);
  if (i >= P.n) { return; }
  var d = GRAD[i];
  if (P.weight_decay != 0.0) { d = d + P.weight_decay * PARAM[i]; }
  PARAM[i] = PARAM[i] - P.lr * d;
}

@compute @workgroup_size(256)
fn momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = index(gid, groups);
  if (i >= P.n) { return; }
  var d = GRAD[i];
  if (P.weight_decay != 0.0) { d = d + P.weight_decay * PARAM[i]; }
  var buf = d;
  if (P.first_step == 0u) { buf = P.momentum * BUF[i] + (1.0 - P.dampening) * d; }
  BUF[i] = buf;
  if (P.nesterov != 0u) { d = d + P.momentum * buf; } else { d = buf; }
  PARAM[i] = PARAM[i] - P.lr * d;
}
