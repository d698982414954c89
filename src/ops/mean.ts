// mean: of all elements, or over one dim or a list of dims. The mean of nothing is NaN (0/0), as
// in PyTorch.

import { hostReduce } from './host.js';
import type { OpDef } from './op.js';
import { expandReduced, type ReduceAttrs, recordReduce, reduceDims, reducedCount } from './reduce.js';

export const mean: OpDef<ReduceAttrs> = {
  forward: ([x], attrs) => recordReduce('mean', x!, attrs, true),
  vjp: (g, { inputs: [x], attrs }) => {
    const R = reducedCount(x!, attrs.axis);
    // Over an empty axis the input is empty too: its gradient has no elements to scale.
    return [expandReduced(R === 0 ? g : g.mul(1 / R), x!, attrs)];
  },
  jvp: ([tx], { attrs }) => (tx ? tx.mean(attrs.axis, attrs.keepdim) : null),
  reference: ([x], { axis, keepdim }) => hostReduce(x!, reduceDims('mean', axis, x!.shape.length), keepdim, (r) => 1 / r),
};
