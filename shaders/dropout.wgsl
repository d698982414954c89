// dropout.wgsl — dropout masks from a counter-based generator whose state lives on the GPU, so a
// captured step replayed later draws a new mask each time, exactly as the same calls made eagerly.
// STATE = (seed, counter). Element i of a mask is kept when the top 24 bits of
// pcg3d(i, counter, seed).x are ≥ P.threshold (= round(p·2²⁴)), which happens with probability
// 1 − p; kept elements get P.scale = 1/(1 − p), dropped ones 0. `advance` (one invocation) adds 1
// to the counter after each mask, so the next mask differs.
//   mask:    Bindings: 1 STATE (read), 2 MASK.       advance: Bindings: 1 STATE (read-write).
// Dispatch is 2-D past 65535 groups.
struct Params { n: u32, threshold: u32, scale: f32, _p0: u32 }

@group(0) @binding(0) var<uniform> P: Params;

// Jarzynski and Olano's pcg3d ("Hash Functions for GPU Rendering", JCGT 2020): every output
// bit depends on every input bit of all three words.
fn pcg3d(input: vec3<u32>) -> vec3<u32> {
  var v = input * 1664525u + 1013904223u;
  v.x = v.x + v.y * v.z;
  v.y = v.y + v.z * v.x;
  v.z = v.z + v.x * v.y;
  v = v ^ (v >> vec3<u32>(16u));
  v.x = v.x + v.y * v.z;
  v.y = v.y + v.z * v.x;
  v.z = v.z + v.x * v.y;
  return v;
}

@group(0) @binding(1) var<storage, read> STATE: array<u32>;
@group(0) @binding(2) var<storage, read_write> MASK: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn mask(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (i >= P.n) { return; }
  let bits = pcg3d(vec3<u32>(i, STATE[1], STATE[0])).x >> 8u;
  MASK[i] = select(0.0, P.scale, bits >= P.threshold);
}

@group(0) @binding(1) var<storage, read_write> STATE_RW: array<u32>;

@compute @workgroup_size(1)
fn advance() {
  STATE_RW[1] = STATE_RW[1] + 1u;
}
