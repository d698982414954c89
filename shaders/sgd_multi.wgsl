// sgd_multi.wgsl — the SGD update of four parameters in one dispatch (sgd.wgsl has the rule and
// the one-parameter kernels). A training step of the seed network updates W1, b1, W2, b2: one
// dispatch instead of four. WGSL cannot index bindings, so the four slots are written out.
//
// Workgroups are dealt out to the slots: slot k gets the workgroups before group_ends[k], each
// workgroup updating a chunk of 1024 consecutive elements of that one parameter (invocation l takes
// l, l + 256, l + 512, l + 768). So the slot is the same for a whole workgroup — a uniform branch —
// and each invocation does four elements: a per-element choice of slot ran every branch on
// SwiftShader (batch-1 training fell from ~210 to ~120 steps/s), and one element per invocation
// cost twice the time on lavapipe.
// Entry points:
//   plain     (momentum 0): bindings 1, 3, 5, 7 the parameters (rw); 2, 4, 6, 8 their gradients.
//   momentum: bindings 1 + 3k parameter k (rw), 2 + 3k its gradient, 3 + 3k its momentum buffer
//             (rw) — twelve storage buffers, used where the device allows that many.
struct Params {
  /** Elements of each slot's parameter. */
  sizes: vec4<u32>,
  /** Running totals of the workgroups given to slots 0..3. */
  group_ends: vec4<u32>,
  first_step: u32, nesterov: u32, _p0: u32, _p1: u32,
  lr: f32, momentum: f32, dampening: f32, weight_decay: f32,
}

@group(0) @binding(0) var<uniform> P: Params;

const CHUNK: u32 = 1024u;

/** The slot of this workgroup, and the index of its chunk within that slot (slot 4: no work). */
fn slot_of(wid: vec3<u32>, groups: vec3<u32>) -> vec2<u32> {
  let w = wid.x + wid.y * groups.x;
  if (w < P.group_ends.x) { return vec2<u32>(0u, w); }
  if (w < P.group_ends.y) { return vec2<u32>(1u, w - P.group_ends.x); }
  if (w < P.group_ends.z) { return vec2<u32>(2u, w - P.group_ends.y); }
  if (w < P.group_ends.w) { return vec2<u32>(3u, w - P.group_ends.z); }
  return vec2<u32>(4u, 0u);
}

/** Where this invocation's loop over `slot` stops: at `start` (no work) unless it is the workgroup's slot. */
fn end_of(s: vec2<u32>, slot: u32, size: u32, start: u32) -> u32 {
  if (s.x != slot) { return start; }
  return min(s.y * CHUNK + CHUNK, size);
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
fn plain(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let s = slot_of(wid, groups);
  let start = s.y * CHUNK + lid;
  // One loop per slot, empty unless it is this workgroup's: no branch for a compiler to run masked.
  for (var i = start; i < end_of(s, 0u, P.sizes.x, start); i = i + 256u) { PLAIN_P0[i] = plain_update(PLAIN_P0[i], PLAIN_G0[i]); }
  for (var i = start; i < end_of(s, 1u, P.sizes.y, start); i = i + 256u) { PLAIN_P1[i] = plain_update(PLAIN_P1[i], PLAIN_G1[i]); }
  for (var i = start; i < end_of(s, 2u, P.sizes.z, start); i = i + 256u) { PLAIN_P2[i] = plain_update(PLAIN_P2[i], PLAIN_G2[i]); }
  for (var i = start; i < end_of(s, 3u, P.sizes.w, start); i = i + 256u) { PLAIN_P3[i] = plain_update(PLAIN_P3[i], PLAIN_G3[i]); }
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
fn momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let s = slot_of(wid, groups);
  let start = s.y * CHUNK + lid;
  for (var i = start; i < end_of(s, 0u, P.sizes.x, start); i = i + 256u) {
    let r = momentum_update(MOM_P0[i], MOM_G0[i], MOM_B0[i]);
    MOM_P0[i] = r.x;
    MOM_B0[i] = r.y;
  }
  for (var i = start; i < end_of(s, 1u, P.sizes.y, start); i = i + 256u) {
    let r = momentum_update(MOM_P1[i], MOM_G1[i], MOM_B1[i]);
    MOM_P1[i] = r.x;
    MOM_B1[i] = r.y;
  }
  for (var i = start; i < end_of(s, 2u, P.sizes.z, start); i = i + 256u) {
    let r = momentum_update(MOM_P2[i], MOM_G2[i], MOM_B2[i]);
    MOM_P2[i] = r.x;
    MOM_B2[i] = r.y;
  }
  for (var i = start; i < end_of(s, 3u, P.sizes.w, start); i = i + 256u) {
    let r = momentum_update(MOM_P3[i], MOM_G3[i], MOM_B3[i]);
    MOM_P3[i] = r.x;
    MOM_B3[i] = r.y;
  }
}
