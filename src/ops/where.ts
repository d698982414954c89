// where(cond, a, b): a where the bool cond is true, else b; all three broadcast together. The
// gradient reaches a through the mask and b through its complement (summed over broadcast axes);
// cond gets none.

import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, requireFloat } from './common.js';
import { recordMap, sumToShape } from './elementwise.js';
import { broadcastIndex, broadcastShapes, host, unravel } from './host.js';
import { BINARY_PARAMS, TERNARY_PARAMS, whereGradKernels, whereKernel } from './kernels.js';
import type { OpDef } from './op.js';

function whereShape(c: readonly number[], a: readonly number[], b: readonly number[]): number[] | null {
  const ca = broadcastShapes(c, a);
  return ca && broadcastShapes(ca, b);
}

/** g where cond (which: 'whereTrue') or where not cond ('whereFalse'), in g's shape. */
function masked(which: keyof typeof whereGradKernels, cond: Tensor, g: Tensor): Tensor {
  return recordMap(
    'where backward',
    whereGradKernels[which],
    BINARY_PARAMS,
    [
      ['a', cond],
      ['b', g],
    ],
    g.shape,
  );
}

export const where: OpDef<Record<string, never>> = {
  forward: ([c, a, b]) => {
    if (c!.dtype !== 'bool')
      throw new DTypeError(`where: the condition must be bool, got ${c!.dtype} (shape ${fmtShape(c!.shape)}); compare first, e.g. x.gt(0).`);
    requireFloat('where', a!, 'input (the values where the condition holds)');
    requireFloat('where', b!, 'other (the values where it does not)');
    const shape = whereShape(c!.shape, a!.shape, b!.shape);
    if (!shape) {
      throw new ShapeError(`where: shapes ${fmtShape(c!.shape)} (condition), ${fmtShape(a!.shape)} and ${fmtShape(b!.shape)} cannot be broadcast together.`);
    }
    return recordMap(
      'where',
      whereKernel,
      TERNARY_PARAMS,
      [
        ['c', c!],
        ['a', a!],
        ['b', b!],
      ],
      shape,
    );
  },
  vjp: (g, { inputs: [c, a, b] }) => [null, sumToShape(masked('whereTrue', c!, g), a!.shape), sumToShape(masked('whereFalse', c!, g), b!.shape)],
  jvp: ([, ta, tb], { inputs: [c], output }) => {
    if (!ta && !tb) return null;
    const zero = filled(c!.runtime, [], 0, 'float32', 'where');
    const out = recordMap(
      'where',
      whereKernel,
      TERNARY_PARAMS,
      [
        ['c', c!],
        ['a', ta ?? zero],
        ['b', tb ?? zero],
      ],
      output.shape,
    );
    zero.dispose();
    return out;
  },
  reference: ([c, a, b]) => {
    const shape = whereShape(c!.shape, a!.shape, b!.shape)!;
    const out = host(shape);
    for (let i = 0; i < out.data.length; i++) {
      const idx = unravel(i, shape);
      const from = c!.data[broadcastIndex(idx, c!.shape)] ? a! : b!;
      out.data[i] = from.data[broadcastIndex(idx, from.shape)]!;
    }
    return out;
  },
};
