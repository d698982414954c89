// The elementwise maps, one WGSL expression each. kernels.ts wraps each expression in a function
// (`fn op_relu(x: f32, s: f32) -> f32 { return …; }`) and splices it into the elementwise template
// (shaders/elementwise.wgsl): one shader module and pipeline per entry, no switch at run time.
//
// An expression is pure: it reads only its inputs (x; or a and b) and the scalar s, all f32, and
// has no side effects, so calls compose into one kernel for a chain of maps
// (`op_relu(op_add(a, b, s0), s1)`). Adding an op: a line here, a line in the test table of
// tests/shader_sources.test.ts, and the op file that records it.

/** Maps of one input x (and the scalar s). */
export const UNARY_OPS = {
  copy: 'x',
  // NaN stays NaN (NaN <= 0 is false); 0 and -0 become +0, as in PyTorch.
  relu: 'select(x, 0.0, x <= 0.0)',
  scale: 'x * s',
  addScalar: 'x + s',
} as const;

/** Maps of two inputs a and b (and the scalar s). */
export const BINARY_OPS = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  // a is the ReLU's input, b the upstream gradient: passed where a > 0, so the subgradient at
  // exactly 0 is 0 (PyTorch's choice) and a NaN input passes none.
  reluBackward: 'select(0.0, b, a > 0.0)',
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
