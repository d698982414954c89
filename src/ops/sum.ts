// sum: of all elements, or over one dim or a list of dims (keepdim keeps them as size 1). The sum
// of nothing is 0.

import { hostReduce } from './host.js';
import type { OpDef } from './op.js';
import { expandReduced, type ReduceAttrs, recordReduce, reduceDims } from './reduce.js';

export const sum: OpDef<ReduceAttrs> = {
  forward: ([x], attrs) => recordReduce('sum', x!, attrs, false),
  vjp: (g, { inputs: [x], attrs }) => [expandReduced(g, x!, attrs)],
  jvp: ([tx], { attrs }) => (tx ? tx.sum(attrs.axis, attrs.keepdim) : null),
  reference: ([x], { axis, keepdim }) => hostReduce(x!, reduceDims('sum', axis, x!.shape.length), keepdim, () => 1),
};
