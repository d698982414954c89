// conv2d.wgsl — 2-D convolution as PyTorch's conv2d (a cross-correlation) of a contiguous NCHW
// input with a contiguous OIHW weight, and its two gradients. Every entry point runs one invocation
// per element it writes and sums with plain loops in a fixed order: no atomics and no workgroup
// memory, so results are deterministic. The input gradient is the transposed convolution written as a gather.
// Padding is implicit (positions outside the input read as 0); only the top and left padding
// matter here, the output size (chosen by the host) covers the rest.
//   forward:         OUT[n, oc, oh, ow] = Σ_c,kh,kw A=X[n, g·C_g + c, ih, iw] · B=W[oc, c, kh, kw] (+ BIAS[oc]),
//                    four adjacent ow per invocation
//   backward_input:  OUT[n, c, ih, iw]   = Σ_oc,kh,kw A=G[n, oc, oh, ow] · B=W[oc, c mod C_g, kh, kw]
//   backward_weight: OUT[part, oc, c, kh, kw] = Σ_(n,oh) in the part, ow  A=G[n, oc, oh, ow] · B=X[n, g·C_g + c, ih, iw]
// with ih = oh·SH − PH + kh·DH, iw = ow·SW − PW + kw·DW and g = oc / OC_g, the group of oc.
// Divisions by sizes use udiv with the sizes' divisor words (shaders/fastdiv.wgsl, spliced before
// this file); the gathers walk their taps with tap_walk, dividing only at the first tap.
// The GEMM form (src/ops/conv_gemm.ts) unfolds the input of N images from image n0 on, and folds
// the product of the transposed weight and the output gradient back into an input gradient:
//   unfold: OUT2[n, (c, kh, kw), (oh, ow)] = A=X[n0 + n, c, ih, iw]  (0 in the padding), four
//           adjacent ow per invocation
//   fold:   OUT2[n, c, ih, iw] = Σ_kh,kw A=COLS[n, (c, kh, kw), (oh, ow)] over the taps that read (ih, iw),
//           a gather in a fixed order (no atomics), as backward_input.
// Bindings: 0 params, 1 A, 2 B, 3 OUT, 4 BIAS (forward_bias only); unfold and fold: 1 A, 2 OUT2.
// Dispatch is 2-D past 65535 groups.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;
@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT: array<f32>;
@group(0) @binding(4) var<storage, read> BIAS: array<f32>;
@group(0) @binding(2) var<storage, read_write> OUT2: array<f32>;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

// The input row (or column) that output position o and kernel tap k read; negative or ≥ size: padding.
fn input_at(o: u32, stride: u32, pad: u32, k: u32, dilation: u32) -> i32 {
  return i32(o * stride) - i32(pad) + i32(k * dilation);
}

// Position (n, c, ih, iw) of input element i (the input gradient, the fold).
fn input_position(i: u32) -> vec4<u32> {
  let q_w = udiv(i, P.div_W);
  let q_h = udiv(q_w, P.div_H);
  let n = udiv(q_h, P.div_C);
  return vec4<u32>(n, q_h - n * P.C, q_w - q_h * P.H, i - q_w * P.W);
}

// The forward runs one invocation per run of four adjacent outputs of a row, (n, oc, oh, ow0 ..<
// ow0 + 4): every weight and every index computed serves four multiply-adds. Invocation i is
// (n, oc, oh, ow0 / 4) of [N, OC, OH, OW_q] with OW_q = ⌈OW / 4⌉ runs per row, split by
// successive udiv (shaders/fastdiv.wgsl): one division per axis, none by the hardware divide.
fn run_position(i: u32) -> vec4<u32> {
  let q_w = udiv(i, P.div_OW_q);
  let q_h = udiv(q_w, P.div_OH);
  let n = udiv(q_h, P.div_OC);
  return vec4<u32>(n, q_h - n * P.OC, q_w - q_h * P.OH, 4u * (i - q_w * P.OW_q));
}

// The four outputs from `at` (n, oc, oh, ow0); those past the row's end are computed from zeros.
fn convolve4(at: vec4<u32>) -> vec4<f32> {
  let n = at.x;
  let oc = at.y;
  let oh = at.z;
  let first_channel = udiv(oc, P.div_OC_g) * P.C_g;
  let columns = vec4<i32>(i32(at.w * P.SW) - i32(P.PW)) + vec4<i32>(0, 1, 2, 3) * i32(P.SW);
  let last_column = i32(P.W) - 1;
  var s = vec4<f32>(0.0);
  for (var c = 0u; c < P.C_g; c = c + 1u) {
    let plane = (n * P.C + first_channel + c) * P.H * P.W;
    let taps = (oc * P.C_g + c) * P.KH * P.KW;
    for (var kh = 0u; kh < P.KH; kh = kh + 1u) {
      let ih = input_at(oh, P.SH, P.PH, kh, P.DH);
      if (ih < 0 || ih >= i32(P.H)) { continue; }
      let row = plane + u32(ih) * P.W;
      for (var kw = 0u; kw < P.KW; kw = kw + 1u) {
        let iw = columns + vec4<i32>(i32(kw * P.DW));
        let inside = (iw >= vec4<i32>(0)) & (iw <= vec4<i32>(last_column));
        // Clamped so no read leaves the row; the padding's zeros come from the select.
        let at_column = vec4<u32>(clamp(iw, vec4<i32>(0), vec4<i32>(last_column))) + vec4<u32>(row);
        let x = vec4<f32>(A[at_column.x], A[at_column.y], A[at_column.z], A[at_column.w]);
        s = s + select(vec4<f32>(0.0), x, inside) * B[taps + kh * P.KW + kw];
      }
    }
  }
  return s;
}

// Writes the run's outputs that exist (ow < OW).
fn store4(at: vec4<u32>, v: vec4<f32>) {
  let first = ((at.x * P.OC + at.y) * P.OH + at.z) * P.OW + at.w;
  let count = min(4u, P.OW - at.w);
  for (var j = 0u; j < count; j = j + 1u) { OUT[first + j] = v[j]; }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.OC * P.OH * P.OW_q) { return; }
  let at = run_position(i);
  store4(at, convolve4(at));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.OC * P.OH * P.OW_q) { return; }
  let at = run_position(i);
  store4(at, convolve4(at) + vec4<f32>(BIAS[at.y]));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.C * P.H * P.W) { return; }
  let at = input_position(i);
  let n = at.x;
  let c = at.y;
  let group = udiv(c, P.div_C_g);
  let first_out = group * P.OC_g;
  let c_in_group = c - group * P.C_g;
  let row_start = tap_walk(at.z, P.PH, P.DH, P.div_SH);
  let column_start = tap_walk(at.w, P.PW, P.DW, P.div_SW);
  var s = 0.0;
  for (var j = 0u; j < P.OC_g; j = j + 1u) {
    let oc = first_out + j;
    let plane = (n * P.OC + oc) * P.OH * P.OW;
    let taps = (oc * P.C_g + c_in_group) * P.KH * P.KW;
    var rows = row_start;
    for (var kh = 0u; kh < P.KH && rows.q >= 0; kh = kh + 1u) {
      let oh = tap_output(rows, P.OH);
      if (oh >= 0) {
        var columns = column_start;
        for (var kw = 0u; kw < P.KW && columns.q >= 0; kw = kw + 1u) {
          let ow = tap_output(columns, P.OW);
          if (ow >= 0) { s = s + A[plane + u32(oh) * P.OW + u32(ow)] * B[taps + kh * P.KW + kw]; }
          columns = tap_next(columns);
        }
      }
      rows = tap_next(rows);
    }
  }
  OUT[i] = s;
}

// The weight gradient in parts: the rows (n, oh) of the output gradient are cut into `parts` runs
// of rows_per_part (the last may be shorter), and invocation (part, oc, c, kh, kw) sums its weight's products over one run, so a
// few hundred weights still make thousands of invocations. OUT[part, oc, c, kh, kw] holds the
// part's sum; the host adds the parts in order (one part: OUT is the gradient itself).
@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.parts * P.OC * P.C_g * P.KH * P.KW) { return; }
  let q_w = udiv(i, P.div_KW);
  let q_h = udiv(q_w, P.div_KH);
  let q_c = udiv(q_h, P.div_C_g);
  let part = udiv(q_c, P.div_OC);
  let kw = i - q_w * P.KW;
  let kh = q_w - q_h * P.KH;
  let c = q_h - q_c * P.C_g;
  let oc = q_c - part * P.OC;
  let channel = udiv(oc, P.div_OC_g) * P.C_g + c;
  // The columns ow whose tap kw lands inside the input: first_ow ≤ ow < end_ow (no test per column).
  let shift = i32(kw * P.DW) - i32(P.PW);
  var first_ow = 0u;
  if (shift < 0) { first_ow = udiv(u32(-shift) + P.SW - 1u, P.div_SW); }
  var end_ow = 0u;
  if (i32(P.W) > shift) { end_ow = min(P.OW, udiv(u32(i32(P.W) - shift) + P.SW - 1u, P.div_SW)); }
  let first_row = part * P.rows_per_part;
  let end_row = min(P.N * P.OH, first_row + P.rows_per_part);
  var n = udiv(first_row, P.div_OH);
  var oh = first_row - n * P.OH;
  var s = 0.0;
  for (var row = first_row; row < end_row; row = row + 1u) {
    let ih = input_at(oh, P.SH, P.PH, kh, P.DH);
    if (ih >= 0 && ih < i32(P.H)) {
      let g_row = ((n * P.OC + oc) * P.OH + oh) * P.OW;
      let x_row = i32(((n * P.C + channel) * P.H + u32(ih)) * P.W) + shift;
      for (var ow = first_ow; ow < end_ow; ow = ow + 1u) {
        s = s + A[g_row + ow] * B[u32(x_row + i32(ow * P.SW))];
      }
    }
    oh = oh + 1u;
    if (oh == P.OH) {
      oh = 0u;
      n = n + 1u;
    }
  }
  OUT[i] = s;
}

// Four adjacent columns (ow0 ..< ow0 + 4) of one row of the unfolded matrix per invocation, as the
// forward: invocation i is (n, c, kh, kw, oh, ow0 / 4) of [N, C, KH, KW, OH, OW_q].
@compute @workgroup_size(WORKGROUP_SIZE)
fn unfold(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.C * P.KH * P.KW * P.OH * P.OW_q) { return; }
  let q_ow = udiv(i, P.div_OW_q);
  let q_oh = udiv(q_ow, P.div_OH);
  let q_kw = udiv(q_oh, P.div_KW);
  let q_kh = udiv(q_kw, P.div_KH);
  let q_c = udiv(q_kh, P.div_C);
  let first_column = 4u * (i - q_ow * P.OW_q);
  let oh = q_ow - q_oh * P.OH;
  let kw = q_oh - q_kw * P.KW;
  let kh = q_kw - q_kh * P.KH;
  let c = q_kh - q_c * P.C;
  let n = P.n0 + q_c;
  // Row q_ow of the [.., OH, OW] matrix starts at q_ow·OW.
  let out_row = q_ow * P.OW;
  let ih = input_at(oh, P.SH, P.PH, kh, P.DH);
  let count = min(4u, P.OW - first_column);
  if (ih < 0 || ih >= i32(P.H)) {
    for (var j = 0u; j < count; j = j + 1u) { OUT2[out_row + first_column + j] = 0.0; }
    return;
  }
  let in_row = ((n * P.C + c) * P.H + u32(ih)) * P.W;
  for (var j = 0u; j < count; j = j + 1u) {
    let iw = input_at(first_column + j, P.SW, P.PW, kw, P.DW);
    var v = 0.0;
    if (iw >= 0 && iw < i32(P.W)) { v = A[in_row + u32(iw)]; }
    OUT2[out_row + first_column + j] = v;
  }
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fold(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.C * P.H * P.W) { return; }
  let q_w = udiv(i, P.div_W);
  let plane = udiv(q_w, P.div_H);
  let positions = P.OH * P.OW;
  let first_row = plane * P.KH * P.KW;
  var rows = tap_walk(q_w - plane * P.H, P.PH, P.DH, P.div_SH);
  let column_start = tap_walk(i - q_w * P.W, P.PW, P.DW, P.div_SW);
  var s = 0.0;
  for (var kh = 0u; kh < P.KH && rows.q >= 0; kh = kh + 1u) {
    let oh = tap_output(rows, P.OH);
    if (oh >= 0) {
      var columns = column_start;
      for (var kw = 0u; kw < P.KW && columns.q >= 0; kw = kw + 1u) {
        let ow = tap_output(columns, P.OW);
        if (ow >= 0) { s = s + A[(first_row + kh * P.KW + kw) * positions + u32(oh) * P.OW + u32(ow)]; }
        columns = tap_next(columns);
      }
    }
    rows = tap_next(rows);
  }
  OUT2[i] = s;
}
