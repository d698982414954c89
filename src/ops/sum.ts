// sum: of all elements, or along one axis (keepdim keeps it as size 1). The sum of nothing is 0.

import { hostReduce } from './host.js';
import type { OpDef } from './op.js';
import { expandReduced, type ReduceAttrs, recordReduce, reduceAxis } from './reduce.js';

export const sum: OpDef<ReduceAttrs> = {
  forward: ([x], attrs) => recordReduce('sum', x!, attrs, false),
  vjp: (g, { inputs: [x], attrs }) => [expandReduced(g, x!, attrs)],
  jvp: ([tx], { attrs }) => (tx ? tx.sum(attrs.axis, attrs.keepdim) : null),
  reference: ([x], { axis, keepdim }) => hostReduce(x!, reduceAxis('sum', axis, x!.shape.length), keepdim, () => 1),
};
