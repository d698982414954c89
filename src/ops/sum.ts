// sum: of all elements, or along one axis (keepdim keeps it as size 1). The sum of nothing is 0.
import type { OpDef } from './op.js';
import { recordReduce, expandReduced, reduceAxis, type ReduceAttrs } from './reduce.js';
import { hostReduce } from './host.js';

export const sum: OpDef<ReduceAttrs> = {
  forward: ([x], attrs) => recordReduce('sum', x!, attrs, false),
  vjp: (g, { inputs: [x], attrs }) => [expandReduced(g, x!, attrs)],
  jvp: ([tx], { attrs }) => (tx ? tx.sum(attrs.axis, attrs.keepdim) : null),
  reference: ([x], { axis, keepdim }) => hostReduce(x!, reduceAxis('sum', axis, x!.shape.length), keepdim, () => 1),
};
