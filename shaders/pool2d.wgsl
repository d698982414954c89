// pool2d.wgsl — max, average and adaptive average pooling over the planes of a contiguous NCHW
// input seen as [planes = N·C, H, W], with their gradients, as PyTorch's max_pool2d, avg_pool2d and
// adaptive_avg_pool2d. One invocation per element written, plain loops: no atomics, deterministic.
// Gradients are gathers: an input element sums over the (few) windows that contain it; except max
// pooling's over windows that tile the input, one invocation per window (max_backward_tiled).
//   window of (oh, ow): rows ih = oh·SH − PH + kh·DH for kh < KH (columns alike); outside the input
//   is padding (−inf for max, 0 for average).
//   max: the window's first largest value (NaN wins: the first NaN), as PyTorch's index choice; the
//   gradient goes to that element only. avg: Σ / divisor with PyTorch's divisor (count_include_pad
//   counts padding up to the padded size; divisor_override > 0 replaces it). adaptive: rows
//   ⌊o·H/OH⌋ ..< ⌈(o+1)·H/OH⌉ (columns alike), mean over them.
// Divisions by sizes use udiv with the sizes' divisor words (shaders/fastdiv.wgsl, spliced before
// this file); the gradients' gathers walk their taps with tap_walk, dividing only at the first tap.
// Bindings: 0 params, 1 A (read), then 2 OUT (write) for two-binding entries, or 2 B (read), 3 OUT3
// (write) for three-binding ones. Dispatch is 2-D past 65535 groups.

@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> A: array<f32>;

fn flat_index(gid: vec3<u32>, groups: vec3<u32>) -> u32 {
  return gid.x + gid.y * groups.x * WORKGROUP_SIZE;
}

// NaN from the bits (compilers may fold v != v away).
fn is_nan(v: f32) -> bool {
  return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u;
}

// −inf, made at run time (WGSL refuses an infinite constant).
fn negative_infinity() -> f32 {
  var bits = 0xff800000u;
  return bitcast<f32>(bits);
}

fn input_at(o: u32, stride: u32, pad: u32, k: u32, dilation: u32) -> i32 {
  return i32(o * stride) - i32(pad) + i32(k * dilation);
}

// Position (plane, oh, ow) of output element i.
fn output_position(i: u32) -> vec3<u32> {
  let q_w = udiv(i, P.div_OW);
  let plane = udiv(q_w, P.div_OH);
  return vec3<u32>(plane, q_w - plane * P.OH, i - q_w * P.OW);
}

// Position (plane, ih, iw) of input element i.
fn input_position(i: u32) -> vec3<u32> {
  let q_w = udiv(i, P.div_W);
  let plane = udiv(q_w, P.div_H);
  return vec3<u32>(plane, q_w - plane * P.H, i - q_w * P.W);
}

// The flat position (ih·W + iw) in its plane of the max of window (oh, ow), or -1 for a window
// with no input element in it.
fn max_position(plane: u32, oh: u32, ow: u32) -> i32 {
  var best = 0.0;
  var at = -1;
  for (var kh = 0u; kh < P.KH; kh = kh + 1u) {
    let ih = input_at(oh, P.SH, P.PH, kh, P.DH);
    if (ih < 0 || ih >= i32(P.H)) { continue; }
    for (var kw = 0u; kw < P.KW; kw = kw + 1u) {
      let iw = input_at(ow, P.SW, P.PW, kw, P.DW);
      if (iw < 0 || iw >= i32(P.W)) { continue; }
      let v = A[plane * P.H * P.W + u32(ih) * P.W + u32(iw)];
      if (at < 0 || (!is_nan(best) && (v > best || is_nan(v)))) {
        best = v;
        at = ih * i32(P.W) + iw;
      }
    }
  }
  return at;
}

// PyTorch's divisor of average window (oh, ow).
fn avg_divisor(oh: u32, ow: u32) -> f32 {
  if (P.divisor_override > 0u) { return f32(P.divisor_override); }
  let h0 = i32(oh * P.SH) - i32(P.PH);
  let w0 = i32(ow * P.SW) - i32(P.PW);
  let h1 = min(h0 + i32(P.KH), i32(P.H + P.PH));
  let w1 = min(w0 + i32(P.KW), i32(P.W + P.PW));
  if (P.count_include_pad == 1u) { return f32((h1 - h0) * (w1 - w0)); }
  return f32((min(h1, i32(P.H)) - max(h0, 0)) * (min(w1, i32(P.W)) - max(w0, 0)));
}

// Adaptive pooling's window [start, end) along one axis: output o of `outs` outputs (given as
// their divisor words) over `ins` inputs.
fn adaptive_start(o: u32, ins: u32, outs: vec4<u32>) -> u32 {
  return udiv(o * ins, outs);
}

fn adaptive_end(o: u32, ins: u32, outs: vec4<u32>) -> u32 {
  return udiv((o + 1u) * ins + outs.x - 1u, outs);
}

@group(0) @binding(2) var<storage, read_write> OUT: array<f32>;

@compute @workgroup_size(WORKGROUP_SIZE)
fn max_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.planes * P.OH * P.OW) { return; }
  let o = output_position(i);
  let plane = o.x;
  let at = max_position(plane, o.y, o.z);
  OUT[i] = select(negative_infinity(), A[plane * P.H * P.W + u32(max(at, 0))], at >= 0);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.planes * P.OH * P.OW) { return; }
  let o = output_position(i);
  let plane = o.x;
  let oh = o.y;
  let ow = o.z;
  var s = 0.0;
  for (var kh = 0u; kh < P.KH; kh = kh + 1u) {
    let ih = input_at(oh, P.SH, P.PH, kh, 1u);
    if (ih < 0 || ih >= i32(P.H)) { continue; }
    for (var kw = 0u; kw < P.KW; kw = kw + 1u) {
      let iw = input_at(ow, P.SW, P.PW, kw, 1u);
      if (iw < 0 || iw >= i32(P.W)) { continue; }
      s = s + A[plane * P.H * P.W + u32(ih) * P.W + u32(iw)];
    }
  }
  OUT[i] = s / avg_divisor(oh, ow);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn avg_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.planes * P.H * P.W) { return; }
  let at = input_position(i);
  let plane = at.x;
  var rows = tap_walk(at.y, P.PH, 1u, P.div_SH);
  let column_start = tap_walk(at.z, P.PW, 1u, P.div_SW);
  var s = 0.0;
  for (var kh = 0u; kh < P.KH && rows.q >= 0; kh = kh + 1u) {
    let oh = tap_output(rows, P.OH);
    if (oh >= 0) {
      var columns = column_start;
      for (var kw = 0u; kw < P.KW && columns.q >= 0; kw = kw + 1u) {
        let ow = tap_output(columns, P.OW);
        if (ow >= 0) { s = s + A[(plane * P.OH + u32(oh)) * P.OW + u32(ow)] / avg_divisor(u32(oh), u32(ow)); }
        columns = tap_next(columns);
      }
    }
    rows = tap_next(rows);
  }
  OUT[i] = s;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn adaptive_forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.planes * P.OH * P.OW) { return; }
  let o = output_position(i);
  let plane = o.x;
  let oh = o.y;
  let ow = o.z;
  let h0 = adaptive_start(oh, P.H, P.div_OH);
  let h1 = adaptive_end(oh, P.H, P.div_OH);
  let w0 = adaptive_start(ow, P.W, P.div_OW);
  let w1 = adaptive_end(ow, P.W, P.div_OW);
  var s = 0.0;
  for (var ih = h0; ih < h1; ih = ih + 1u) {
    for (var iw = w0; iw < w1; iw = iw + 1u) { s = s + A[(plane * P.H + ih) * P.W + iw]; }
  }
  OUT[i] = s / f32((h1 - h0) * (w1 - w0));
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn adaptive_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.planes * P.H * P.W) { return; }
  let at = input_position(i);
  let plane = at.x;
  let ih = at.y;
  let iw = at.z;
  var s = 0.0;
  // The outputs whose windows hold row ih are ⌊ih·OH/H⌋ ..< ⌈(ih+1)·OH/H⌉ (columns alike); each is checked.
  let oh_end = adaptive_end(ih, P.OH, P.div_H);
  let ow_end = adaptive_end(iw, P.OW, P.div_W);
  for (var oh = adaptive_start(ih, P.OH, P.div_H); oh < oh_end; oh = oh + 1u) {
    let h0 = adaptive_start(oh, P.H, P.div_OH);
    let h1 = adaptive_end(oh, P.H, P.div_OH);
    if (ih < h0 || ih >= h1) { continue; }
    for (var ow = adaptive_start(iw, P.OW, P.div_W); ow < ow_end; ow = ow + 1u) {
      let w0 = adaptive_start(ow, P.W, P.div_OW);
      let w1 = adaptive_end(ow, P.W, P.div_OW);
      if (iw < w0 || iw >= w1) { continue; }
      s = s + A[(plane * P.OH + oh) * P.OW + ow] / f32((h1 - h0) * (w1 - w0));
    }
  }
  OUT[i] = s;
}

@group(0) @binding(2) var<storage, read> B: array<f32>;
@group(0) @binding(3) var<storage, read_write> OUT3: array<f32>;

// Max pooling's gradient: A = X, B = G; each input element gets G of the windows whose max it is.
@compute @workgroup_size(WORKGROUP_SIZE)
fn max_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.planes * P.H * P.W) { return; }
  let at = input_position(i);
  let plane = at.x;
  let here = i32(at.y * P.W + at.z);
  var rows = tap_walk(at.y, P.PH, P.DH, P.div_SH);
  let column_start = tap_walk(at.z, P.PW, P.DW, P.div_SW);
  var s = 0.0;
  for (var kh = 0u; kh < P.KH && rows.q >= 0; kh = kh + 1u) {
    let oh = tap_output(rows, P.OH);
    if (oh >= 0) {
      var columns = column_start;
      for (var kw = 0u; kw < P.KW && columns.q >= 0; kw = kw + 1u) {
        let ow = tap_output(columns, P.OW);
        if (ow >= 0 && max_position(plane, u32(oh), u32(ow)) == here) { s = s + B[(plane * P.OH + u32(oh)) * P.OW + u32(ow)]; }
        columns = tap_next(columns);
      }
    }
    rows = tap_next(rows);
  }
  OUT3[i] = s;
}

// Max pooling's gradient when the windows tile the input exactly (window = stride, no dilation,
// no padding, OH·KH = H, OW·KW = W): every input element lies in exactly one window, so one
// invocation per window finds its max once and writes the window's KH·KW input elements (the
// gradient at the max, 0 elsewhere), instead of each element finding the max of its window.
// Bindings as max_backward: A = X, B = G, OUT3 = the input gradient.
@compute @workgroup_size(WORKGROUP_SIZE)
fn max_backward_tiled(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.planes * P.OH * P.OW) { return; }
  let o = output_position(i);
  let plane = o.x;
  let at = max_position(plane, o.y, o.z);
  let g = B[i];
  let first_row = o.y * P.KH;
  let first_column = o.z * P.KW;
  for (var kh = 0u; kh < P.KH; kh = kh + 1u) {
    let row = (plane * P.H + first_row + kh) * P.W;
    let row_in_plane = i32((first_row + kh) * P.W);
    for (var kw = 0u; kw < P.KW; kw = kw + 1u) {
      let iw = first_column + kw;
      OUT3[row + iw] = select(0.0, g, row_in_plane + i32(iw) == at);
    }
  }
}

// Max pooling's forward-mode derivative: A = X, B = the tangent T; each output takes T at its max.
@compute @workgroup_size(WORKGROUP_SIZE)
fn max_tangent(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.planes * P.OH * P.OW) { return; }
  let o = output_position(i);
  let plane = o.x;
  let at = max_position(plane, o.y, o.z);
  OUT3[i] = select(0.0, B[plane * P.H * P.W + u32(max(at, 0))], at >= 0);
}
