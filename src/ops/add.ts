// add: a + b with numpy broadcasting (this is also the row-broadcast bias add, [M, N] + [N]).

import { BinaryOp, recordBinary, sumToShape } from './elementwise.js';
import { hostBinary } from './host.js';
import type { OpDef } from './op.js';

export const add: OpDef<Record<string, never>> = {
  forward: ([a, b]) => recordBinary('add', BinaryOp.add, a!, b!),
  // The bias gradient is the column sum: sumToShape reduces [M, N] to [N].
  vjp: (g, { inputs: [a, b] }) => [sumToShape(g, a!.shape), sumToShape(g, b!.shape)],
  jvp: ([ta, tb], { output }) => {
    if (ta && tb) return ta.add(tb);
    const t = ta ?? tb;
    return t ? t.expand(output.shape) : null;
  },
  reference: ([a, b]) => hostBinary(a!, b!, (x, y) => x + y),
};
