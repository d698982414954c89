// The unary math ops (exp, log, tanh, gelu, ...): each is one elementwise kernel forward and one
// `…Backward` kernel (elementwise_ops.ts) that multiplies the upstream gradient, or the input's
// tangent, by the derivative at the input. The references are float64 with PyTorch's values at
// ±inf, NaN and ±0.

import type { Tensor } from '../tensor.js';
import { recordBinary, recordUnary } from './elementwise.js';
import type { BinaryOpName, UnaryOpName } from './elementwise_ops.js';
import { host } from './host.js';
import type { OpDef } from './op.js';

interface UnaryMathSpec<A> {
  kernel: (attrs: A) => UnaryOpName;
  backward: (attrs: A) => BinaryOpName;
  /** The kernels' scalar s (a threshold, a bound, an exponent), rounded to float32 as the GPU sees it. */
  scalar?: (attrs: A) => number;
  reference: (x: number, attrs: A) => number;
}

function unaryMath<A>(op: string, spec: UnaryMathSpec<A>): OpDef<A> {
  const s = (attrs: A): number => Math.fround(spec.scalar?.(attrs) ?? 0);
  const derivativeTimes = (x: Tensor, v: Tensor, attrs: A): Tensor => recordBinary(`${op} backward`, spec.backward(attrs), x, v, s(attrs));
  return {
    forward: ([x], attrs) => recordUnary(op, spec.kernel(attrs), x!, s(attrs)),
    vjp: (g, { inputs: [x], attrs }) => [derivativeTimes(x!, g, attrs)],
    jvp: ([t], { inputs: [x], attrs }) => (t ? derivativeTimes(x!, t, attrs) : null),
    reference: ([x], attrs) =>
      host(
        x!.shape,
        x!.data.map((v) => spec.reference(v, attrs)),
      ),
  };
}

type NoAttrs = Record<string, never>;

type Simple = 'abs' | 'exp' | 'log' | 'log1p' | 'sqrt' | 'rsqrt' | 'square' | 'sin' | 'cos' | 'tanh' | 'sigmoid' | 'silu';

/** An op without attributes whose kernels are `op` and `opBackward`. */
function simple(op: Simple, reference: (x: number) => number): OpDef<NoAttrs> {
  const backward: `${Simple}Backward` = `${op}Backward`;
  return unaryMath<NoAttrs>(op, { kernel: () => op, backward: () => backward, reference });
}

/** float64 logistic sigmoid, exp only of −|x|. */
export function sigmoidReference(x: number): number {
  const e = Math.exp(-Math.abs(x));
  return x >= 0 ? 1 / (1 + e) : e / (1 + e);
}

/** float64 erfc: its Taylor series of erf below 3 (|terms| < 200, so ~1e-14 absolute), a continued fraction above. */
export function erfcReference(x: number): number {
  if (Number.isNaN(x)) return x;
  const a = Math.abs(x);
  let r: number;
  if (a < 3) {
    let term = a;
    let sum = a;
    for (let n = 1; n < 80; n++) {
      term *= (-a * a) / n;
      sum += term / (2 * n + 1);
    }
    r = 1 - (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // erfc(a) = exp(−a²)/√π · 1/(a + (1/2)/(a + 1/(a + (3/2)/(a + …)))), evaluated from the tail.
    let f = a;
    for (let k = 60; k >= 1; k--) f = a + k / 2 / f;
    r = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  }
  return x < 0 ? 2 - r : r;
}

export const abs = simple('abs', Math.abs);
export const exp = simple('exp', Math.exp);
export const log = simple('log', Math.log);
export const log1p = simple('log1p', Math.log1p);
export const sqrt = simple('sqrt', Math.sqrt);
export const rsqrt = simple('rsqrt', (x) => 1 / Math.sqrt(x));
export const square = simple('square', (x) => x * x);
export const sin = simple('sin', Math.sin);
export const cos = simple('cos', Math.cos);
export const tanh = simple('tanh', Math.tanh);
export const sigmoid = simple('sigmoid', sigmoidReference);
export const silu = simple('silu', (x) => x * sigmoidReference(x));

export interface GeluAttrs {
  approximate: 'none' | 'tanh';
}

export const gelu = unaryMath<GeluAttrs>('gelu', {
  kernel: ({ approximate }) => (approximate === 'tanh' ? 'geluTanh' : 'gelu'),
  backward: ({ approximate }) => (approximate === 'tanh' ? 'geluTanhBackward' : 'geluBackward'),
  reference: (x, { approximate }) =>
    approximate === 'tanh' ? 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))) : 0.5 * x * erfcReference(-x / Math.SQRT2),
});

/** softplus with beta 1 (the Tensor method scales by beta around it); `threshold` as PyTorch's. */
export const softplus = unaryMath<{ threshold: number }>('softplus', {
  kernel: () => 'softplus',
  backward: () => 'softplusBackward',
  scalar: ({ threshold }) => threshold,
  reference: (x, { threshold }) => (x > Math.fround(threshold) ? x : Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)))),
});

/** x raised to a number: 0 gives 1 everywhere with a zero gradient; a negative base needs an integer exponent. */
export const powScalar = unaryMath<{ exponent: number }>('pow', {
  kernel: () => 'powScalar',
  backward: () => 'powScalarBackward',
  scalar: ({ exponent }) => exponent,
  reference: (x, { exponent }) => powReference(x, Math.fround(exponent)),
});

/** C's pow (JavaScript's Math.pow differs at pow(1, NaN) and pow(−1, ±inf)). */
export function powReference(x: number, y: number): number {
  if (y === 0 || x === 1) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}

export interface ClampAttrs {
  min: number | null;
  max: number | null;
}

/** min(max(x, min), max), either bound optional; NaN stays NaN, the gradient passes inside the closed range. */
export const clamp: OpDef<ClampAttrs> = {
  forward: ([x], { min, max }) => {
    let r = x!;
    if (min !== null) r = recordUnary('clamp', 'clampMin', r, Math.fround(min));
    if (max !== null) r = recordUnary('clamp', 'clampMax', r, Math.fround(max));
    return r === x ? recordUnary('clamp', 'copy', r) : r;
  },
  vjp: (g, { inputs: [x], attrs }) => [clampPass(x!, g, attrs)],
  jvp: ([t], { inputs: [x], attrs }) => (t ? clampPass(x!, t, attrs) : null),
  reference: ([x], { min, max }) =>
    host(
      x!.shape,
      x!.data.map((v) => {
        let r = v;
        if (min !== null && (r < Math.fround(min) || Number.isNaN(min))) r = Math.fround(min);
        if (max !== null && (r > Math.fround(max) || Number.isNaN(max))) r = Math.fround(max);
        return r;
      }),
    ),
};

function clampPass(x: Tensor, v: Tensor, { min, max }: ClampAttrs): Tensor {
  let r = v;
  if (min !== null) r = recordBinary('clamp backward', 'clampMinBackward', x, r, Math.fround(min));
  if (max !== null) r = recordBinary('clamp backward', 'clampMaxBackward', x, r, Math.fround(max));
  return r === v ? recordUnary('clamp backward', 'copy', r) : r;
}

/** x / value for a number value (t.div(2)): a true division, as PyTorch's, not a multiply by 1/value. */
export const divScalar: OpDef<{ value: number }> = {
  forward: ([x], { value }) => recordUnary('div', 'divScalar', x!, Math.fround(value)),
  vjp: (g, { attrs }) => [recordUnary('div backward', 'divScalar', g, Math.fround(attrs.value))],
  jvp: ([t], { attrs }) => (t ? recordUnary('div', 'divScalar', t, Math.fround(attrs.value)) : null),
  reference: ([x], { value }) =>
    host(
      x!.shape,
      x!.data.map((v) => v / Math.fround(value)),
    ),
};
