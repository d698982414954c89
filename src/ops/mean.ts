// mean: of all elements, or along one axis.
import type { OpDef } from './op.js';
import { recordReduce, expandReduced, type ReduceAttrs } from './reduce.js';
import { hostReduce } from './host.js';
import { normAxis } from './common.js';

export const mean: OpDef<ReduceAttrs> = {
  forward: ([x], attrs) => recordReduce('mean', x!, attrs, true),
  vjp: (g, { inputs: [x], attrs }) => {
    const R = attrs.axis === null ? x!.size : x!.shape[normAxis('mean', attrs.axis, x!.ndim)]!;
    return [expandReduced(g.mul(1 / R), x!, attrs)];
  },
  jvp: ([tx], { attrs }) => (tx ? tx.mean(attrs.axis, attrs.keepdim) : null),
  reference: ([x], { axis, keepdim }) =>
    hostReduce(x!, axis === null ? null : axis < 0 ? axis + x!.shape.length : axis, keepdim, (r) => 1 / r),
};
