// The elementwise maps, one WGSL expression each. kernels.ts wraps each expression in a function
// (`fn op_relu(x: f32, s: f32) -> f32 { return …; }`) and splices it into the elementwise template
// (shaders/elementwise.wgsl): one shader module and pipeline per entry, no switch at run time.
//
// An expression is pure: it reads only its inputs (x; or a and b) and the scalar s, all f32, and
// has no side effects, so calls compose into one kernel for a chain of maps
// (`op_relu(op_add(a, b, s0), s1)`). Adding an op: a line here, a line in the test table of
// tests/shader_sources.test.ts, and the op file that records it.
//
// The math maps follow PyTorch's values on ±inf, NaN and ±0, and stay finite where the true value
// is: sigmoid, tanh, softplus and log1p never form exp of a large positive number. A `…Backward`
// map takes the op's input as a and the upstream gradient (or tangent) as b.

/**
 * Helper functions every elementwise kernel includes (WGSL has no log1p, expm1 or erfc, and its
 * pow is undefined for a negative base).
 */
export const MATH_FUNCTIONS = `
// log(1 + x) accurate near 0: x / (u - 1) cancels the rounding error of u = 1 + x.
fn m_log1p(x: f32) -> f32 {
  let u = 1.0 + x;
  if (u == 1.0) { return x; }
  if (x > 1e30) { return log(u); }
  return log(u) * (x / (u - 1.0));
}
// exp(x) - 1 accurate near 0 (Kahan's correction by x / log(u)).
fn m_expm1(x: f32) -> f32 {
  // Near 0, exp may not round to exactly 1: two terms of the series are exact to float32 there.
  if (abs(x) < 2.44140625e-4) { return x * (1.0 + 0.5 * x); }
  let u = exp(x);
  if (u == 1.0) { return x; }
  let um1 = u - 1.0;
  if (um1 == -1.0) { return -1.0; }
  if (x > 80.0) { return u; }
  return um1 * (x / log(u));
}
// 1 / (1 + exp(-x)) without overflow: exp is only taken of -|x|.
fn m_sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  let r = 1.0 / (1.0 + e);
  return select(e * r, r, x >= 0.0);
}
// NaN by its bits: compilers may fold x != x to false.
fn m_isnan(x: f32) -> bool {
  return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u;
}
fn m_copysign(v: f32, sign_of: f32) -> f32 {
  return bitcast<f32>((bitcast<u32>(v) & 0x7fffffffu) | (bitcast<u32>(sign_of) & 0x80000000u));
}
// tanh from expm1(-2|x|): exact near 0, ±1 for large |x| (never inf / inf).
fn m_tanh(x: f32) -> f32 {
  let m = m_expm1(-2.0 * abs(x));
  return m_copysign(-m / (2.0 + m), x);
}
// erfc with relative error about 1.2e-7 for all z (the Chebyshev fit of Numerical Recipes'
// erfcc); for z < 0, 2 - erfc(-z) has no cancellation.
fn m_erfc(z: f32) -> f32 {
  let a = abs(z);
  let t = 1.0 / (1.0 + 0.5 * a);
  let p = -1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807
    + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  let r = t * exp(p - a * a);
  return select(r, 2.0 - r, z < 0.0);
}
// x to the power y as PyTorch's pow: y = 0 gives 1 (even for NaN x), x = 1 gives 1, a negative
// base needs an integer exponent (its parity sets the sign), otherwise NaN.
fn m_pow(x: f32, y: f32) -> f32 {
  if (y == 0.0 || x == 1.0) { return 1.0; }
  // Small integer exponents by repeated squaring: exact signs, and a few roundings instead of
  // exp2(y · log2|x|), whose error grows with |y · log2|x||.
  if (floor(y) == y && abs(y) <= 64.0) {
    var n = u32(abs(y));
    var base = x;
    var acc = 1.0;
    loop {
      if (n == 0u) { break; }
      if ((n & 1u) == 1u) { acc = acc * base; }
      base = base * base;
      n = n >> 1u;
    }
    return select(acc, 1.0 / acc, y < 0.0);
  }
  let r = exp2(y * log2(abs(x)));
  if (x < 0.0 || (x == 0.0 && bitcast<u32>(x) != 0u)) {
    // sqrt of a negative finite x: a NaN made at run time (WGSL refuses a NaN constant).
    if (floor(y) != y) { return select(r, sqrt(x), x < 0.0 && x >= -3.4e38); }
    let odd = abs(y) < 16777216.0 && (i32(abs(y)) & 1) == 1;
    return select(r, -r, odd);
  }
  return r;
}
`;

const SQRT1_2 = '0.70710678118654752';
const GELU_TANH_K = '0.79788456080286536'; // sqrt(2 / pi)
const INV_SQRT_2PI = '0.39894228040143268';
// x * sigmoid(2u) = 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x³), without 1 + tanh cancelling.
const geluTanh = (x: string): string => `m_sigmoid(2.0 * ${GELU_TANH_K} * (${x} + 0.044715 * ${x} * ${x} * ${x}))`;

/** Maps of one input x (and the scalar s). */
export const UNARY_OPS = {
  copy: 'x',
  // NaN stays NaN (NaN <= 0 is false); 0 and -0 become +0, as in PyTorch.
  relu: 'select(x, 0.0, x <= 0.0)',
  scale: 'x * s',
  addScalar: 'x + s',
  divScalar: 'x / s',
  abs: 'abs(x)',
  exp: 'exp(x)',
  log: 'log(x)',
  log1p: 'm_log1p(x)',
  sqrt: 'sqrt(x)',
  // 1 / sqrt rather than inverseSqrt, which WGSL leaves undefined at 0.
  rsqrt: '1.0 / sqrt(x)',
  square: 'x * x',
  sin: 'sin(x)',
  cos: 'cos(x)',
  tanh: 'm_tanh(x)',
  sigmoid: 'm_sigmoid(x)',
  silu: 'x * m_sigmoid(x)',
  gelu: `0.5 * x * m_erfc(-x * ${SQRT1_2})`,
  geluTanh: `x * ${geluTanh('x')}`,
  // softplus with beta 1 and threshold s (beta scales around it): max(x, 0) + log1p(exp(-|x|)).
  softplus: 'select(max(x, 0.0) + m_log1p(exp(-abs(x))), x, x > s)',
  // A NaN x passes through both (NaN < s is false); a NaN bound gives NaN, as in PyTorch.
  clampMin: 'select(x, s, x < s || m_isnan(s))',
  clampMax: 'select(x, s, x > s || m_isnan(s))',
  powScalar: 'm_pow(x, s)',
} as const;

/** Maps of two inputs a and b (and the scalar s). */
export const BINARY_OPS = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'm_pow(a, b)',
  // NaN in either input gives NaN, as PyTorch's maximum and minimum.
  maximum: 'select(b, a, a > b || m_isnan(a))',
  minimum: 'select(b, a, a < b || m_isnan(a))',
  // a is the ReLU's input, b the upstream gradient: passed where a > 0, so the subgradient at
  // exactly 0 is 0 (PyTorch's choice) and a NaN input passes none.
  reluBackward: 'select(0.0, b, a > 0.0)',
  // sign(a) · b; 0 at a = 0 and at NaN.
  absBackward: 'select(select(0.0, -b, a < 0.0), b, a > 0.0)',
  expBackward: 'b * exp(a)',
  logBackward: 'b / a',
  log1pBackward: 'b / (1.0 + a)',
  sqrtBackward: 'b / (2.0 * sqrt(a))',
  rsqrtBackward: '-0.5 * b / (a * sqrt(a))',
  squareBackward: '2.0 * a * b',
  sinBackward: 'b * cos(a)',
  cosBackward: '-b * sin(a)',
  // 1 − tanh² as 4e/(1 + e)², e = exp(−2|a|): no cancellation near ±1.
  tanhBackward: 'b * 4.0 * exp(-2.0 * abs(a)) / ((1.0 + exp(-2.0 * abs(a))) * (1.0 + exp(-2.0 * abs(a))))',
  // σ(a)(1 − σ(a)) written as σ(a)σ(−a): no cancellation for large a.
  sigmoidBackward: 'b * m_sigmoid(a) * m_sigmoid(-a)',
  siluBackward: 'b * m_sigmoid(a) * (1.0 + a * m_sigmoid(-a))',
  geluBackward: `b * (0.5 * m_erfc(-a * ${SQRT1_2}) + a * ${INV_SQRT_2PI} * exp(-0.5 * a * a))`,
  geluTanhBackward: `b * (${geluTanh('a')} + 2.0 * a * ${geluTanh('a')} * ${geluTanh('(-a)')} * ${GELU_TANH_K} * (1.0 + 3.0 * 0.044715 * a * a))`,
  softplusBackward: 'select(b * m_sigmoid(a), b, a > s)',
  // The gradient passes where min <= a (and a <= max): PyTorch's inclusive bounds; NaN passes none.
  clampMinBackward: 'select(0.0, b, a >= s)',
  clampMaxBackward: 'select(0.0, b, a <= s)',
  // d(a^s)/da = s · a^(s−1), and 0 for s = 0 (PyTorch's convention, also at a = 0).
  powScalarBackward: 'select(b * s * m_pow(a, s - 1.0), 0.0, s == 0.0)',
  // The local derivatives of pow (the upstream gradient is multiplied in afterwards, broadcast).
  powBaseGrad: 'select(b * m_pow(a, b - 1.0), 0.0, b == 0.0)',
  // d(a^b)/db = a^b · ln a, and 0 where a = 0 and b >= 0 (PyTorch's convention).
  // At a = 0 and b < 0 it is inf · (−inf) = −inf, which is log(0) itself (the product came out NaN on lavapipe).
  powExponentGrad: 'select(select(m_pow(a, b) * log(a), log(a), a == 0.0), 0.0, a == 0.0 && b >= 0.0)',
  // The share of maximum(a, b)'s gradient that goes to a: 1 where a wins, 0 where b wins, half at
  // ties (PyTorch); NaN gives all of it to both. minimum's share of a is this with a and b swapped.
  maximumGradShare: 'select(select(1.0, 0.0, a < b), 0.5, a == b)',
} as const;

export type UnaryOpName = keyof typeof UNARY_OPS;
export type BinaryOpName = keyof typeof BINARY_OPS;

const names = <T extends object>(table: T): { readonly [K in keyof T]: K } =>
  Object.fromEntries(Object.keys(table).map((k) => [k, k])) as { [K in keyof T]: K };

/** The unary op names, for call sites: `recordUnary('reshape', UnaryOp.copy, t)`. */
export const UnaryOp = names(UNARY_OPS);
/** The binary op names: `recordBinary('add', BinaryOp.add, a, b)`. */
export const BinaryOp = names(BINARY_OPS);

/**
 * Comparisons of float32 values a and b as WGSL bool expressions (kernels.ts stores them as u32 0 or
 * 1). NaN compares unequal to everything, as in IEEE 754: tested from the bits (`ordered`), since a
 * shader compiler may assume no NaNs reach `==` or `<`.
 */
export const COMPARE_OPS = {
  eq: 'ordered(a, b) && a == b',
  ne: '!(ordered(a, b) && a == b)',
  lt: 'ordered(a, b) && a < b',
  le: 'ordered(a, b) && a <= b',
  gt: 'ordered(a, b) && a > b',
  ge: 'ordered(a, b) && a >= b',
} as const;

/** WGSL: true when neither a nor b is NaN (read from the bits). */
export const ORDERED_FUNCTION = `fn is_nan(v: f32) -> bool { return (bitcast<u32>(v) & 0x7fffffffu) > 0x7f800000u; }
fn ordered(a: f32, b: f32) -> bool { return !is_nan(a) && !is_nan(b); }`;

export type CompareOpName = keyof typeof COMPARE_OPS;

/**
 * float32 → int32 truncates toward zero (as PyTorch). Where PyTorch leaves it undefined we choose:
 * NaN becomes 0, values beyond the int32 range saturate to its ends. NaN is found from the bits, so
 * a compiler that assumes no NaNs cannot drop the test.
 */
export const CAST_F32_TO_I32 = `fn f32_to_i32(x: f32) -> i32 {
  if ((bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u) { return 0; }
  if (x >= 2147483648.0) { return 2147483647; }
  if (x < -2147483648.0) { return bitcast<i32>(0x80000000u); }
  return i32(x);
}`;
