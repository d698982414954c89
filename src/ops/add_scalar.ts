// addScalar: a + value for a number value (t.add(2), t.sub(2)); the number travels in the kernel's
// parameters, so no one-element tensor is uploaded per call.

import { recordUnary, UnaryOp } from './elementwise.js';
import { host } from './host.js';
import type { OpDef } from './op.js';

export const addScalar: OpDef<{ value: number }> = {
  forward: ([a], { value }) => recordUnary('add', UnaryOp.addScalar, a!, value),
  vjp: (g) => [g],
  jvp: ([ta]) => ta ?? null,
  reference: ([a], { value }) =>
    host(
      a!.shape,
      a!.data.map((x) => x + Math.fround(value)),
    ),
};
