// sgd_multi.wgsl — the SGD update of four parameters in one dispatch (sgd.wgsl has the rule and
// the one-parameter kernels). A training step of the seed network updates W1, b1, W2, b2: one
// dispatch instead of four. Thread i updates element i of the concatenation of the four
// parameters; `ends` holds the running totals of their sizes. WGSL cannot index bindings, so the
// four slots are written out. Each invocation updates about four elements (a grid-stride
// loop): on software adapters every invocation has a fixed cost, and four per invocation halved
// the update's time on lavapipe (833 → 434 µs for the seed network's 101,770 parameters).
// Entry points:
//   plain     (momentum 0): bindings 1, 3, 5, 7 the parameters (rw); 2, 4, 6, 8 their gradients.
//   momentum: bindings 1 + 3k parameter k (rw), 2 + 3k its gradient, 3 + 3k its momentum buffer
//             (rw) — twelve storage buffers, used where the device allows that many.
struct Params {
  ends: vec4<u32>,
  first_step: u32, nesterov: u32, _p0: u32, _p1: u32,
  lr: f32, momentum: f32, dampening: f32, weight_decay: f32,
}

@group(0) @binding(0) var<uniform> P: Params;


fn index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// The new parameter value (momentum 0).
fn plain_update(p: f32, g: f32) -> f32 {
  var d = g;
  if (P.weight_decay != 0.0) { d = d + P.weight_decay * p; }
  return p - P.lr * d;
}

// (new parameter value, new momentum buffer value).
fn momentum_update(p: f32, g: f32, buf_old: f32) -> vec2<f32> {
  var d = g;
  if (P.weight_decay != 0.0) { d = d + P.weight_decay * p; }
  var buf = d;
  if (P.first_step == 0u) { buf = P.momentum * buf_old + (1.0 - P.dampening) * d; }
  if (P.nesterov != 0u) { d = d + P.momentum * buf; } else { d = buf; }
  return vec2<f32>(p - P.lr * d, buf);
}

@group(0) @binding(1) var<storage, read_write> PLAIN_P0: array<f32>;
@group(0) @binding(2) var<storage, read> PLAIN_G0: array<f32>;
@group(0) @binding(3) var<storage, read_write> PLAIN_P1: array<f32>;
@group(0) @binding(4) var<storage, read> PLAIN_G1: array<f32>;
@group(0) @binding(5) var<storage, read_write> PLAIN_P2: array<f32>;
@group(0) @binding(6) var<storage, read> PLAIN_G2: array<f32>;
@group(0) @binding(7) var<storage, read_write> PLAIN_P3: array<f32>;
@group(0) @binding(8) var<storage, read> PLAIN_G3: array<f32>;

@compute @workgroup_size(256)
fn plain(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  // A grid-stride loop: the dispatch has a quarter as many invocations as elements (fewer,
  // longer invocations cost less on software adapters), neighbours still touch neighbours.
  let stride = groups.x * groups.y * 256u;
  for (var i = index(gid, groups); i < P.ends.w; i = i + stride) {
    if (i < P.ends.x) {
      PLAIN_P0[i] = plain_update(PLAIN_P0[i], PLAIN_G0[i]);
    } else if (i < P.ends.y) {
      let j = i - P.ends.x;
      PLAIN_P1[j] = plain_update(PLAIN_P1[j], PLAIN_G1[j]);
    } else if (i < P.ends.z) {
      let j = i - P.ends.y;
      PLAIN_P2[j] = plain_update(PLAIN_P2[j], PLAIN_G2[j]);
    } else {
      let j = i - P.ends.z;
      PLAIN_P3[j] = plain_update(PLAIN_P3[j], PLAIN_G3[j]);
    }
  }
}

@group(0) @binding(1) var<storage, read_write> MOM_P0: array<f32>;
@group(0) @binding(2) var<storage, read> MOM_G0: array<f32>;
@group(0) @binding(3) var<storage, read_write> MOM_B0: array<f32>;
@group(0) @binding(4) var<storage, read_write> MOM_P1: array<f32>;
@group(0) @binding(5) var<storage, read> MOM_G1: array<f32>;
@group(0) @binding(6) var<storage, read_write> MOM_B1: array<f32>;
@group(0) @binding(7) var<storage, read_write> MOM_P2: array<f32>;
@group(0) @binding(8) var<storage, read> MOM_G2: array<f32>;
@group(0) @binding(9) var<storage, read_write> MOM_B2: array<f32>;
@group(0) @binding(10) var<storage, read_write> MOM_P3: array<f32>;
@group(0) @binding(11) var<storage, read> MOM_G3: array<f32>;
@group(0) @binding(12) var<storage, read_write> MOM_B3: array<f32>;

@compute @workgroup_size(256)
fn momentum(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let stride = groups.x * groups.y * 256u;
  for (var i = index(gid, groups); i < P.ends.w; i = i + stride) {
    if (i < P.ends.x) {
      let r = momentum_update(MOM_P0[i], MOM_G0[i], MOM_B0[i]);
      MOM_P0[i] = r.x;
      MOM_B0[i] = r.y;
    } else if (i < P.ends.y) {
      let j = i - P.ends.x;
      let r = momentum_update(MOM_P1[j], MOM_G1[j], MOM_B1[j]);
      MOM_P1[j] = r.x;
      MOM_B1[j] = r.y;
    } else if (i < P.ends.z) {
      let j = i - P.ends.y;
      let r = momentum_update(MOM_P2[j], MOM_G2[j], MOM_B2[j]);
      MOM_P2[j] = r.x;
      MOM_B2[j] = r.y;
    } else {
      let j = i - P.ends.z;
      let r = momentum_update(MOM_P3[j], MOM_G3[j], MOM_B3[j]);
      MOM_P3[j] = r.x;
      MOM_B3[j] = r.y;
    }
  }
}
