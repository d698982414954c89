// mul: elementwise a · b with broadcasting.

import { BinaryOp, recordBinary, sumToShape } from './elementwise.js';
import { hostBinary } from './host.js';
import type { OpDef } from './op.js';

export const mul: OpDef<Record<string, never>> = {
  forward: ([a, b]) => recordBinary('mul', BinaryOp.mul, a!, b!),
  vjp: (g, { inputs: [a, b] }) => [sumToShape(g.mul(b!), a!.shape), sumToShape(g.mul(a!), b!.shape)],
  jvp: ([ta, tb], { inputs: [a, b] }) => {
    const da = ta ? ta.mul(b!) : null;
    const db = tb ? a!.mul(tb) : null;
    if (da && db) return da.add(db);
    return da ?? db;
  },
  reference: ([a, b]) => hostBinary(a!, b!, (x, y) => x * y),
};
