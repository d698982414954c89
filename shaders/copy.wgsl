// copy.wgsl — copies 32-bit words unchanged, whatever they hold (float32 or int32 bits: no float
// conversion, so NaN payloads and subnormals survive). Used to read back an application's buffer
// that lacks COPY_SRC usage: the words go into a buffer of webgrad's, which is then copied out.
// Bindings: 0 params (n: word count), 1 SRC (read), 2 DST (rw).
// Dispatch: 1-D index i = gid.x + gid.y · (num_workgroups.x · 256), as in elementwise.wgsl.
struct Params { n: u32, _p0: u32, _p1: u32, _p2: u32 }

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> SRC: array<u32>;
@group(0) @binding(2) var<storage, read_write> DST: array<u32>;

@compute @workgroup_size(256)
fn words(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= P.n) { return; }
  DST[i] = SRC[i];
}
