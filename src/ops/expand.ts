// expand: broadcasts to a larger shape as a view (stride 0 on new or size-1 axes); no copy.

import { fmtShape, ShapeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { sumToShape } from './elementwise.js';
import { host, hostBinary } from './host.js';
import type { OpDef } from './op.js';

export const expand: OpDef<{ shape: readonly number[] }> = {
  forward: ([x], { shape }) => {
    const t = x!;
    const lead = shape.length - t.ndim;
    if (lead < 0) throw new ShapeError(`expand: cannot expand ${fmtShape(t.shape)} to fewer dimensions ${fmtShape(shape)}.`);
    const strides = new Array<number>(shape.length).fill(0);
    for (let d = 0; d < t.ndim; d++) {
      const from = t.shape[d]!;
      const to = shape[lead + d]!;
      if (from === to) strides[lead + d] = t.strides[d]!;
      else if (from !== 1) throw new ShapeError(`expand: cannot expand ${fmtShape(t.shape)} to ${fmtShape(shape)} (axis ${d}: ${from} → ${to}).`);
    }
    return new Tensor(t.runtime, t.storage, shape, t.dtype, strides, t.offset);
  },
  vjp: (g, { inputs: [x] }) => [sumToShape(g, x!.shape)],
  jvp: ([tx], { attrs }) => (tx ? tx.expand(attrs.shape) : null),
  reference: ([x], { shape }) => hostBinary(x!, host([...shape]), (v) => v),
};
