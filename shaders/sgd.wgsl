// sgd.wgsl — PyTorch's SGD update, in place on up to four parameters (and their momentum buffers)
// in one dispatch:
//   d = g + weight_decay · p
//   with momentum: buf = d on the first step, else momentum · buf + (1 − dampening) · d;
//                  d = d + momentum · buf (nesterov) or d = buf
//   p = p − lr · d
// A template: src/ops/kernels.ts fills in the placeholders (names in double braces) for SLOTS
// parameters (1 to 4) with or without MOMENTUM; src/ops/sgd_update.ts decides how the optimizer's
// parameters are dealt out to dispatches. WGSL cannot index bindings, so the slots' bindings and
// loops are generated.
//
// Workgroups are dealt out to the slots: slot k gets the workgroups before group_ends[k], each
// updating a chunk of SGD_CHUNK consecutive elements (floats, or vec4s where T is vec4<f32>) of that one parameter (invocation l takes
// l, l + WORKGROUP_SIZE, …). So the slot is the same for a whole workgroup — a uniform branch —
// and each invocation does SGD_CHUNK / WORKGROUP_SIZE (16) elements: a per-element choice of slot
// ran every branch on SwiftShader (batch-1 training fell from ~210 to ~120 steps/s), one element
// per invocation cost twice the time of four on lavapipe, and sixteen cost less than four on both
// software adapters (they pay per workgroup).
// Entry point main. Bindings: 0 params; per slot k the parameter Pk (rw), its gradient Gk (read)
// and, with MOMENTUM, its momentum buffer Bk (rw).
{{CONSTANTS}}

{{PARAMS}}

@group(0) @binding(0) var<uniform> P: Params;
{{BINDINGS}}

// The slot of this workgroup, and the index of its chunk within that slot (slot SLOTS: no work).
fn slot_of(wid: vec3<u32>, groups: vec3<u32>) -> vec2<u32> {
  let w = wid.x + wid.y * groups.x;
  var start = 0u;
  for (var k = 0u; k < SLOTS; k = k + 1u) {
    if (w < P.group_ends[k]) { return vec2<u32>(k, w - start); }
    start = P.group_ends[k];
  }
  return vec2<u32>(SLOTS, 0u);
}

// Where this invocation's loop over `slot` stops: at `start` (no work) unless it is the workgroup's slot.
fn end_of(s: vec2<u32>, slot: u32, start: u32) -> u32 {
  if (s.x != slot) { return start; }
  return min(s.y * SGD_CHUNK + SGD_CHUNK, P.sizes[slot]);
}

// The new parameter and momentum buffer (0 without MOMENTUM) of one element, or of four (T is
// f32 or vec4<f32>, an alias the host writes: the arithmetic per float is the same either way).
struct Update {
  p: T,
  buf: T,
}

fn update(p: T, g: T, buf_old: T) -> Update {
  var d = g;
  if (P.weight_decay != 0.0) { d = d + P.weight_decay * p; }
  var buf = T(0.0);
  if (MOMENTUM) {
    buf = d;
    if (P.first_step == 0u) { buf = P.momentum * buf_old + (1.0 - P.dampening) * d; }
    if (P.nesterov != 0u) { d = d + P.momentum * buf; } else { d = buf; }
  }
  return Update(p - P.lr * d, buf);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let s = slot_of(wid, groups);
  let start = s.y * SGD_CHUNK + lid;
  // One loop per slot, empty unless it is this workgroup's: no branch for a compiler to run masked.
{{SLOT_LOOPS}}
}
