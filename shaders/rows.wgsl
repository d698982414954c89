// rows.wgsl — helpers shared by the kernels that work on the rows of a contiguous tensor viewed as
// [outer, R, inner] (one invocation per row: softmax, extremum, moments, norm). src/ops/kernels.ts
// appends this file to those sources (WGSL declarations may come in any order); each declares
// `P` with fields outer, R and inner, and WORKGROUP_SIZE comes from the generated header.

// Row number of an invocation: the 1-D index, 2-D past 65535 workgroups.
fn row_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

// Offset of element 0 of row idx (rows are strided by inner along R).
fn row_base(idx: u32) -> u32 {
  return (idx / P.inner) * P.R * P.inner + idx % P.inner;
}

// NaN from the bits (compilers may fold v != v away).
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}
