// div, pow, maximum and minimum with broadcasting. Their gradients are built from differentiable
// ops (mul, div) and kernels of local derivatives, then summed over the broadcast axes.

import type { Tensor } from '../tensor.js';
import { BinaryOp, recordBinary, sumToShape } from './elementwise.js';
import { hostBinary } from './host.js';
import type { OpDef } from './op.js';
import { powReference } from './unary_math.js';

type NoAttrs = Record<string, never>;

/** Adds two tangents where either may be missing. */
const plus = (x: Tensor | null, y: Tensor | null): Tensor | null => (x && y ? x.add(y) : (x ?? y));

export const div: OpDef<NoAttrs> = {
  forward: ([a, b]) => recordBinary('div', BinaryOp.div, a!, b!),
  // d/da = 1/b, d/db = −a/b² (as PyTorch writes it: −g·a/(b·b)).
  vjp: (g, { inputs: [a, b] }) => [sumToShape(g.div(b!), a!.shape), sumToShape(g.mul(a!).div(b!.mul(b!)).neg(), b!.shape)],
  jvp: ([ta, tb], { inputs: [a, b], output }) => {
    const da = ta ? ta.div(b!).expand(output.shape) : null;
    const db = tb ? tb.mul(a!).div(b!.mul(b!)).neg().expand(output.shape) : null;
    return plus(da, db);
  },
  reference: ([a, b]) => hostBinary(a!, b!, (x, y) => x / y),
};

const powBaseGrad = (a: Tensor, b: Tensor): Tensor => recordBinary('pow backward', BinaryOp.powBaseGrad, a, b);
const powExponentGrad = (a: Tensor, b: Tensor): Tensor => recordBinary('pow backward', BinaryOp.powExponentGrad, a, b);

/** a to the power b elementwise (a tensor exponent; t.pow(number) is powScalar). */
export const pow: OpDef<NoAttrs> = {
  forward: ([a, b]) => recordBinary('pow', BinaryOp.pow, a!, b!),
  vjp: (g, { inputs: [a, b] }) => [sumToShape(g.mul(powBaseGrad(a!, b!)), a!.shape), sumToShape(g.mul(powExponentGrad(a!, b!)), b!.shape)],
  jvp: ([ta, tb], { inputs: [a, b] }) => plus(ta ? ta.mul(powBaseGrad(a!, b!)) : null, tb ? tb.mul(powExponentGrad(a!, b!)) : null),
  reference: ([a, b]) => hostBinary(a!, b!, powReference),
};

/** The share of the gradient of maximum(x, y) (or of minimum, with `forMinimum`) that reaches x. */
const share = (x: Tensor, y: Tensor, forMinimum: boolean): Tensor =>
  forMinimum ? recordBinary('minimum backward', BinaryOp.maximumGradShare, y, x) : recordBinary('maximum backward', BinaryOp.maximumGradShare, x, y);

function extremum(name: 'maximum' | 'minimum', pick: (x: number, y: number) => number): OpDef<NoAttrs> {
  const forMinimum = name === 'minimum';
  return {
    forward: ([a, b]) => recordBinary(name, BinaryOp[name], a!, b!),
    vjp: (g, { inputs: [a, b] }) => [sumToShape(g.mul(share(a!, b!, forMinimum)), a!.shape), sumToShape(g.mul(share(b!, a!, forMinimum)), b!.shape)],
    jvp: ([ta, tb], { inputs: [a, b] }) => plus(ta ? ta.mul(share(a!, b!, forMinimum)) : null, tb ? tb.mul(share(b!, a!, forMinimum)) : null),
    reference: ([a, b]) => hostBinary(a!, b!, (x, y) => (Number.isNaN(x) || Number.isNaN(y) ? Number.NaN : pick(x, y))),
  };
}

/** Elementwise larger value; NaN if either is NaN; at ties each input gets half the gradient (PyTorch). */
export const maximum = extremum('maximum', Math.max);
/** Elementwise smaller value; NaN if either is NaN; at ties each input gets half the gradient (PyTorch). */
export const minimum = extremum('minimum', Math.min);
