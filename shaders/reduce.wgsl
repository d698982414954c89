// reduce.wgsl — sums over the middle axis of a contiguous tensor viewed as [outer, R, inner]:
// out[o, j] = scale · Σ_r X[o, r, j]. sum uses scale = 1, mean 1/R; the column sum that is the
// bias gradient is outer = 1, R = rows, inner = columns.
//
// Two entry points, chosen by the caller from the output count:
//   per_output:  one invocation per output, a blocked loop over R — many outputs.
//   per_group:   one workgroup of WORKGROUP_SIZE per output, strided blocked partial sums then a tree in
//                workgroup memory — few outputs over a long R (a full sum of a million elements).
// Blocked: terms are summed in blocks of 32, blocks of those in blocks of 32, then the totals, so
// the rounding error grows with 32 + 32 + R/1024 additions instead of R. (A compensated Kahan
// loop is not used: compilers that may reassociate floats, Mesa's among them, fold its
// correction to zero, leaving a plain running sum.)
// Dispatch is 2-D for more than 65535 groups.
//
// This file is the body: src/ops/kernels.ts prepends the header (Params { outer, R, inner, scale },
// bindings 0 params, 1 X (read), 2 OUT (write), and load_x(k) = X[k]). A reduction whose input is
// computed by fused elementwise maps gets a generated header instead (src/ops/fused_reduce.ts):
// its load_x computes element k from the maps' own inputs, and OUT is bound after them.

// Σ X[base + r·inner] over r = first, first + step, … < R, in blocks (see the header).
fn blocked_sum(base: u32, first: u32, step: u32) -> f32 {
  var total = 0.0;
  var r = first;
  while (r < P.R) {
    var mid = 0.0;
    for (var b = 0u; b < 32u && r < P.R; b = b + 1u) {
      var low = 0.0;
      for (var k = 0u; k < 32u && r < P.R; k = k + 1u) {
        low = low + load_x(base + r * P.inner);
        r = r + step;
      }
      mid = mid + low;
    }
    total = total + mid;
  }
  return total;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn per_output(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = gid.x + gid.y * groups.x * WORKGROUP_SIZE;
  if (idx >= P.outer * P.inner) { return; }
  let o = idx / P.inner;
  let j = idx % P.inner;
  let base = o * P.R * P.inner + j;
  OUT[idx] = blocked_sum(base, 0u, 1u) * P.scale;
}

var<workgroup> partial: array<f32, WORKGROUP_SIZE>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn per_group(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
             @builtin(num_workgroups) groups: vec3<u32>) {
  let idx = wid.x + wid.y * groups.x;
  // idx is uniform across the workgroup, so every invocation reaches the barriers below.
  let valid = idx < P.outer * P.inner;
  let o = select(0u, idx / P.inner, valid);
  let j = select(0u, idx % P.inner, valid);
  let base = o * P.R * P.inner + j;
  var sum = 0.0;
  if (valid) { sum = blocked_sum(base, lid.x, WORKGROUP_SIZE); }
  partial[lid.x] = sum;
  workgroupBarrier();
  for (var stride = WORKGROUP_SIZE / 2u; stride > 0u; stride = stride / 2u) {
    if (lid.x < stride) { partial[lid.x] = partial[lid.x] + partial[lid.x + stride]; }
    workgroupBarrier();
  }
  if (lid.x == 0u && valid) { OUT[idx] = partial[0] * P.scale; }
}
