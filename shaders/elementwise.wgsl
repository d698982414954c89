// elementwise.wgsl — unary and binary maps over up to 4 dimensions, with broadcasting.
// Inputs are read through strides (a broadcast dimension has stride 0, a transposed view has
// swapped strides), so no op needs a contiguous copy of its input first. Outputs are contiguous.
//
// Entry points:
//   unary:  out[i] = f(A[idx_a(i)])            bindings: 0 params, 1 A (read), 2 out (write)
//   binary: out[i] = g(A[idx_a(i)], B[idx_b(i)]) bindings: 0 params, 1 A, 2 B (read), 3 out (write)
//   fill:   out[i] = value                     bindings: 0 params, 1 out (write)
// Overrides: OP selects f or g (see the tables below).
// Dispatch: 1-D index i = gid.x + gid.y · (num_workgroups.x · 256), so more than 65535·256
// elements fit in one dispatch.
struct Params {
  n: u32, a_off: u32, b_off: u32, scalar_bits: u32,
  shape: vec4<u32>,      // output shape, padded with leading 1s
  a_strides: vec4<u32>,
  b_strides: vec4<u32>,
}

@group(0) @binding(0) var<uniform> P: Params;

override OP: u32 = 0u;

fn flat(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// Offset of output element i in an input with the given strides.
fn offset_of(i: u32, strides: vec4<u32>) -> u32 {
  let i3 = i % P.shape.w;
  let r3 = i / P.shape.w;
  let i2 = r3 % P.shape.z;
  let r2 = r3 / P.shape.z;
  let i1 = r2 % P.shape.y;
  let i0 = r2 / P.shape.y;
  return i0 * strides.x + i1 * strides.y + i2 * strides.z + i3 * strides.w;
}

// Unary ops: 0 copy, 1 relu, 2 scale by the scalar, 3 negate, 4 add the scalar.
// relu keeps NaN (NaN <= 0 is false) and maps exactly 0 (and -0) to +0.
fn unary_op(x: f32) -> f32 {
  let s = bitcast<f32>(P.scalar_bits);
  switch OP {
    case 1u: { return select(x, 0.0, x <= 0.0); }
    case 2u: { return x * s; }
    case 3u: { return -x; }
    case 4u: { return x + s; }
    default: { return x; }
  }
}

// Binary ops: 0 add, 1 sub, 2 mul, 3 relu backward (a = relu input, b = upstream gradient; the
// gradient is passed where a > 0, so the subgradient at exactly 0 is 0, as in PyTorch),
// 4 a + scalar·b.
fn binary_op(a: f32, b: f32) -> f32 {
  let s = bitcast<f32>(P.scalar_bits);
  switch OP {
    case 1u: { return a - b; }
    case 2u: { return a * b; }
    case 3u: { return select(0.0, b, a > 0.0); }
    case 4u: { return a + s * b; }
    default: { return a + b; }
  }
}

@group(0) @binding(1) var<storage, read> UA: array<f32>;
@group(0) @binding(2) var<storage, read_write> UOUT: array<f32>;

@compute @workgroup_size(256)
fn unary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat(gid, groups);
  if (i >= P.n) { return; }
  UOUT[i] = unary_op(UA[P.a_off + offset_of(i, P.a_strides)]);
}

@group(0) @binding(1) var<storage, read> BA: array<f32>;
@group(0) @binding(2) var<storage, read> BB: array<f32>;
@group(0) @binding(3) var<storage, read_write> BOUT: array<f32>;

@compute @workgroup_size(256)
fn binary(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat(gid, groups);
  if (i >= P.n) { return; }
  let a = BA[P.a_off + offset_of(i, P.a_strides)];
  let b = BB[P.b_off + offset_of(i, P.b_strides)];
  BOUT[i] = binary_op(a, b);
}

// fill writes the raw 32-bit pattern, so it serves float32 and int32 tensors (and NaN for tests).
@group(0) @binding(1) var<storage, read_write> FOUT: array<u32>;

@compute @workgroup_size(256)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat(gid, groups);
  if (i >= P.n) { return; }
  FOUT[i] = P.scalar_bits;
}
