// The elementwise math ops as functions, as torch.exp(x), torch.maximum(a, b), … are: each checks
// that its tensor arguments are tensors and calls the Tensor method.

import { type Tensor, tensorArgument } from './tensor.js';

const unary =
  (name: string, method: (x: Tensor) => Tensor) =>
  (x: Tensor): Tensor =>
    method(tensorArgument(name, 'input', x));

/** Elementwise −x. */
export const neg = unary('neg', (x) => x.neg());
/** Elementwise |x|; the gradient at 0 is 0. */
export const abs = unary('abs', (x) => x.abs());
/** Elementwise eˣ. */
export const exp = unary('exp', (x) => x.exp());
/** Elementwise natural logarithm. */
export const log = unary('log', (x) => x.log());
/** Elementwise ln(1 + x), accurate for small x. */
export const log1p = unary('log1p', (x) => x.log1p());
/** Elementwise square root. */
export const sqrt = unary('sqrt', (x) => x.sqrt());
/** Elementwise 1 / √x. */
export const rsqrt = unary('rsqrt', (x) => x.rsqrt());
/** Elementwise x². */
export const square = unary('square', (x) => x.square());
/** Elementwise sine. */
export const sin = unary('sin', (x) => x.sin());
/** Elementwise cosine. */
export const cos = unary('cos', (x) => x.cos());
/** Elementwise hyperbolic tangent. */
export const tanh = unary('tanh', (x) => x.tanh());
/** Elementwise 1 / (1 + e⁻ˣ). */
export const sigmoid = unary('sigmoid', (x) => x.sigmoid());

/** Elementwise min(max(x, min), max); either bound may be null, not both. */
export function clamp(x: Tensor, min?: number | null, max?: number | null): Tensor {
  return tensorArgument('clamp', 'input', x).clamp(min, max);
}

/** Elementwise a / b with broadcasting; b may be a number. */
export function div(a: Tensor, b: Tensor | number): Tensor {
  return tensorArgument('div', 'input', a).div(b);
}

/** Elementwise base^exponent with broadcasting; the exponent may be a number. */
export function pow(base: Tensor, exponent: Tensor | number): Tensor {
  return tensorArgument('pow', 'input', base).pow(exponent);
}

/** Elementwise larger value with broadcasting (NaN wins; ties split the gradient). */
export function maximum(a: Tensor, b: Tensor): Tensor {
  return tensorArgument('maximum', 'input', a).maximum(b);
}

/** Elementwise smaller value with broadcasting (NaN wins; ties split the gradient). */
export function minimum(a: Tensor, b: Tensor): Tensor {
  return tensorArgument('minimum', 'input', a).minimum(b);
}
