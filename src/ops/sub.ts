// sub: a − b with broadcasting.

import { BinaryOp, recordBinary, sumToShape } from './elementwise.js';
import { hostBinary } from './host.js';
import type { OpDef } from './op.js';

export const sub: OpDef<Record<string, never>> = {
  forward: ([a, b]) => recordBinary('sub', BinaryOp.sub, a!, b!),
  vjp: (g, { inputs: [a, b] }) => [sumToShape(g, a!.shape), sumToShape(g.neg(), b!.shape)],
  jvp: ([ta, tb], { output }) => {
    if (ta && tb) return ta.sub(tb);
    if (ta) return ta.expand(output.shape);
    return tb ? tb.neg().expand(output.shape) : null;
  },
  reference: ([a, b]) => hostBinary(a!, b!, (x, y) => x - y),
};
