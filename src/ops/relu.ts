// relu: max(x, 0). At exactly 0 the output is 0 and so is the gradient (the subgradient PyTorch
// uses); a NaN input stays NaN in the output.

import type { Tensor } from '../tensor.js';
import { BinaryOp, recordBinary, recordUnary, UnaryOp } from './elementwise.js';
import { type HostTensor, host, hostBinary } from './host.js';
import type { OpDef } from './op.js';

/** g where x > 0, else 0: the relu gradient (a kernel of its own, not a differentiable op). */
export function reluBackward(x: Tensor, g: Tensor): Tensor {
  return recordBinary('relu backward', BinaryOp.reluBackward, x, g);
}

export function reluBackwardReference(x: HostTensor, g: HostTensor): HostTensor {
  return hostBinary(x, g, (xv, gv) => (xv > 0 ? gv : 0));
}

export const relu: OpDef<Record<string, never>> = {
  forward: ([a]) => recordUnary('relu', UnaryOp.relu, a!),
  vjp: (g, { inputs: [x] }) => [reluBackward(x!, g)],
  jvp: ([tx], { inputs: [x] }) => (tx ? reluBackward(x!, tx) : null),
  reference: ([a]) =>
    host(
      a!.shape,
      a!.data.map((x) => (Number.isNaN(x) ? x : Math.max(x, 0))),
    ),
};
