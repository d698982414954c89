// scale: a · factor for a number factor (t.mul(2), t.neg()).

import { recordUnary, UnaryOp } from './elementwise.js';
import { host } from './host.js';
import type { OpDef } from './op.js';

export const scale: OpDef<{ factor: number }> = {
  forward: ([a], { factor }) => recordUnary('mul', UnaryOp.scale, a!, factor),
  vjp: (g, { attrs }) => [g.mul(attrs.factor)],
  jvp: ([ta], { attrs }) => (ta ? ta.mul(attrs.factor) : null),
  reference: ([a], { factor }) =>
    host(
      a!.shape,
      a!.data.map((x) => x * Math.fround(factor)),
    ),
};
