// conv2d.wgsl — 2-D convolution as PyTorch's conv2d (a cross-correlation) of a contiguous NCHW
// input with a contiguous OIHW weight, and its two gradients. Every entry point runs one invocation
// per element it writes and sums with plain loops: no atomics and no workgroup memory, so results
// are deterministic. The input gradient is the transposed convolution written as a gather.
// Padding is implicit (positions outside the input read as 0); only the top and left padding
// matter here, the output size (chosen by the host) covers the rest.
//   forward:         OUT[n, oc, oh, ow] = Σ_c,kh,kw A=X[n, g·C_g + c, ih, iw] · B=W[oc, c, kh, kw] (+ BIAS[oc])
//   backward_input:  OUT[n, c, ih, iw]   = Σ_oc,kh,kw A=G[n, oc, oh, ow] · B=W[oc, c mod C_g, kh, kw]
//   backward_weight: OUT[oc, c, kh, kw]  = Σ_n,oh,ow  A=G[n, oc, oh, ow] · B=X[n, g·C_g + c, ih, iw]
// with ih = oh·SH − PH + kh·DH, iw = ow·SW − PW + kw·DW and g = oc / OC_g, the group of oc.
// The GEMM form (src/ops/conv_gemm.ts) unfolds the input of N images from image n0 on, and folds
// the product of the transposed weight and the output gradient back into an input gradient:
//   unfold: OUT2[n, (c, kh, kw), (oh, ow)] = A=X[n0 + n, c, ih, iw]  (0 in the padding)
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

// The output position whose tap k reads input position i, or -1 when none does (the gather of the
// transposed convolution): o·stride = i + pad − k·dilation must be a non-negative multiple of stride.
fn output_at(i: u32, stride: u32, pad: u32, k: u32, dilation: u32, size: u32) -> i32 {
  let t = i32(i + pad) - i32(k * dilation);
  if (t < 0 || t % i32(stride) != 0) { return -1; }
  let o = t / i32(stride);
  return select(-1, o, o < i32(size));
}

fn convolve(i: u32) -> f32 {
  let ow = i % P.OW;
  let oh = (i / P.OW) % P.OH;
  let oc = (i / (P.OW * P.OH)) % P.OC;
  let n = i / (P.OW * P.OH * P.OC);
  let first_channel = (oc / P.OC_g) * P.C_g;
  var s = 0.0;
  for (var c = 0u; c < P.C_g; c = c + 1u) {
    let plane = (n * P.C + first_channel + c) * P.H * P.W;
    let taps = (oc * P.C_g + c) * P.KH * P.KW;
    for (var kh = 0u; kh < P.KH; kh = kh + 1u) {
      let ih = input_at(oh, P.SH, P.PH, kh, P.DH);
      if (ih < 0 || ih >= i32(P.H)) { continue; }
      for (var kw = 0u; kw < P.KW; kw = kw + 1u) {
        let iw = input_at(ow, P.SW, P.PW, kw, P.DW);
        if (iw < 0 || iw >= i32(P.W)) { continue; }
        s = s + A[plane + u32(ih) * P.W + u32(iw)] * B[taps + kh * P.KW + kw];
      }
    }
  }
  return s;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.OC * P.OH * P.OW) { return; }
  OUT[i] = convolve(i);
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn forward_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.OC * P.OH * P.OW) { return; }
  OUT[i] = convolve(i) + BIAS[(i / (P.OW * P.OH)) % P.OC];
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.C * P.H * P.W) { return; }
  let iw = i % P.W;
  let ih = (i / P.W) % P.H;
  let c = (i / (P.W * P.H)) % P.C;
  let n = i / (P.W * P.H * P.C);
  let first_out = (c / P.C_g) * P.OC_g;
  let c_in_group = c % P.C_g;
  var s = 0.0;
  for (var j = 0u; j < P.OC_g; j = j + 1u) {
    let oc = first_out + j;
    let plane = (n * P.OC + oc) * P.OH * P.OW;
    let taps = (oc * P.C_g + c_in_group) * P.KH * P.KW;
    for (var kh = 0u; kh < P.KH; kh = kh + 1u) {
      let oh = output_at(ih, P.SH, P.PH, kh, P.DH, P.OH);
      if (oh < 0) { continue; }
      for (var kw = 0u; kw < P.KW; kw = kw + 1u) {
        let ow = output_at(iw, P.SW, P.PW, kw, P.DW, P.OW);
        if (ow < 0) { continue; }
        s = s + A[plane + u32(oh) * P.OW + u32(ow)] * B[taps + kh * P.KW + kw];
      }
    }
  }
  OUT[i] = s;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.OC * P.C_g * P.KH * P.KW) { return; }
  let kw = i % P.KW;
  let kh = (i / P.KW) % P.KH;
  let c = (i / (P.KW * P.KH)) % P.C_g;
  let oc = i / (P.KW * P.KH * P.C_g);
  let channel = (oc / P.OC_g) * P.C_g + c;
  var s = 0.0;
  for (var n = 0u; n < P.N; n = n + 1u) {
    let g_plane = (n * P.OC + oc) * P.OH * P.OW;
    let x_plane = (n * P.C + channel) * P.H * P.W;
    for (var oh = 0u; oh < P.OH; oh = oh + 1u) {
      let ih = input_at(oh, P.SH, P.PH, kh, P.DH);
      if (ih < 0 || ih >= i32(P.H)) { continue; }
      for (var ow = 0u; ow < P.OW; ow = ow + 1u) {
        let iw = input_at(ow, P.SW, P.PW, kw, P.DW);
        if (iw < 0 || iw >= i32(P.W)) { continue; }
        s = s + A[g_plane + oh * P.OW + ow] * B[x_plane + u32(ih) * P.W + u32(iw)];
      }
    }
  }
  OUT[i] = s;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn unfold(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  let positions = P.OH * P.OW;
  let taps = P.KH * P.KW;
  if (i >= P.N * P.C * taps * positions) { return; }
  let ow = i % P.OW;
  let oh = (i / P.OW) % P.OH;
  let row = (i / positions) % (P.C * taps);
  let kw = row % P.KW;
  let kh = (row / P.KW) % P.KH;
  let c = row / taps;
  let n = P.n0 + i / (positions * P.C * taps);
  let ih = input_at(oh, P.SH, P.PH, kh, P.DH);
  let iw = input_at(ow, P.SW, P.PW, kw, P.DW);
  var v = 0.0;
  if (ih >= 0 && ih < i32(P.H) && iw >= 0 && iw < i32(P.W)) {
    v = A[((n * P.C + c) * P.H + u32(ih)) * P.W + u32(iw)];
  }
  OUT2[i] = v;
}

@compute @workgroup_size(WORKGROUP_SIZE)
fn fold(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) groups: vec3<u32>) {
  let i = flat_index(gid, groups);
  if (i >= P.N * P.C * P.H * P.W) { return; }
  let iw = i % P.W;
  let ih = (i / P.W) % P.H;
  let plane = i / (P.W * P.H);
  let positions = P.OH * P.OW;
  let first_row = plane * P.KH * P.KW;
  var s = 0.0;
  for (var kh = 0u; kh < P.KH; kh = kh + 1u) {
    let oh = output_at(ih, P.SH, P.PH, kh, P.DH, P.OH);
    if (oh < 0) { continue; }
    for (var kw = 0u; kw < P.KW; kw = kw + 1u) {
      let ow = output_at(iw, P.SW, P.PW, kw, P.DW, P.OW);
      if (ow < 0) { continue; }
      s = s + A[(first_row + kh * P.KW + kw) * positions + u32(oh) * P.OW + u32(ow)];
    }
  }
  OUT2[i] = s;
}
