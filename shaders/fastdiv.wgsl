// fastdiv.wgsl — exact u32 division by a divisor fixed for a dispatch, as multiplies and shifts:
// hardware u32 division has no SIMD form on CPU adapters and is a long sequence on GPUs. A divisor
// is a vec4<u32> (d, m, s1, s2) made by the host (src/ops/divisor.ts, which proves the method).
// Spliced into the sources that use it.

// ⌊a·b / 2^32⌋ from 16-bit halves (WGSL has no 64-bit product); every multiply is 32-bit.
fn mulhi(a: u32, b: u32) -> u32 {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let low = a0 * b0;
  let cross0 = a1 * b0;
  let cross1 = a0 * b1;
  // The carry out of bit 31: at most 3·(2^16 − 1) before the shift, so no overflow.
  let carry = ((low >> 16u) + (cross0 & 0xffffu) + (cross1 & 0xffffu)) >> 16u;
  return a1 * b1 + (cross0 >> 16u) + (cross1 >> 16u) + carry;
}

// ⌊n / D.x⌋ for every u32 n.
fn udiv(n: u32, D: vec4<u32>) -> u32 {
  let t = mulhi(D.y, n);
  return (t + ((n - t) >> D.z)) >> D.w;
}

// n mod D.x.
fn umod(n: u32, D: vec4<u32>) -> u32 {
  return n - udiv(n, D) * D.x;
}

// The gathers of transposed windows (a convolution's input gradient, a pool's gradient) visit
// t = i + pad − k·dilation for taps k = 0, 1, …; tap k reads output t / stride when t ≥ 0 and
// stride divides t. A walk keeps t = q·stride + r (0 ≤ r < stride) from tap to tap with
// additions only: two divisions per walk instead of two per tap.
struct TapWalk {
  q: i32,
  r: i32,
  dq: i32,
  dr: i32,
  stride: i32,
}

// The walk at tap 0 for input position i; S is the stride's divisor.
fn tap_walk(i: u32, pad: u32, dilation: u32, S: vec4<u32>) -> TapWalk {
  let t = i + pad;
  let q = udiv(t, S);
  let dq = udiv(dilation, S);
  return TapWalk(i32(q), i32(t - q * S.x), i32(dq), i32(dilation - dq * S.x), i32(S.x));
}

// The output position the walk's tap reads, or -1 when it reads none of the `size` outputs.
fn tap_output(w: TapWalk, size: u32) -> i32 {
  return select(-1, w.q, w.r == 0 && w.q >= 0 && w.q < i32(size));
}

// The walk at the next tap (t lower by dilation).
fn tap_next(w: TapWalk) -> TapWalk {
  var q = w.q - w.dq;
  var r = w.r - w.dr;
  if (r < 0) {
    r = r + w.stride;
    q = q - 1;
  }
  return TapWalk(q, r, w.dq, w.dr, w.stride);
}
