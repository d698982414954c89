// maskedFill(x, mask, value): value where the bool mask is true, else x; mask and x broadcast
// together. Composed from where(); the gradient reaches x only where the mask is false.

import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, requireFloat } from './common.js';
import { sumToShape } from './elementwise.js';
import { broadcastIndex, broadcastShapes, host, unravel } from './host.js';
import type { OpDef } from './op.js';
import { where } from './where.js';

export interface MaskedFillAttrs {
  value: number;
}

const NO_SAVE = { recording: false, save: () => {} };

/** where(mask, value, x) with value a 0-d constant. */
function fill(x: Tensor, mask: Tensor, value: number): Tensor {
  const constant = filled(x.runtime, [], value, 'float32', 'maskedFill');
  const out = where.forward([mask, constant, x], {}, NO_SAVE);
  constant.dispose();
  return out;
}

export const maskedFill: OpDef<MaskedFillAttrs> = {
  forward: ([x, mask], { value }) => {
    requireFloat('maskedFill', x!, 'input');
    if (mask!.dtype !== 'bool') {
      throw new DTypeError(`maskedFill: mask must be bool, got ${mask!.dtype} (shape ${fmtShape(mask!.shape)}); compare first, e.g. x.gt(0).`);
    }
    if (typeof value !== 'number') throw new ValueError(`maskedFill: value must be a number, got ${typeof value}.`);
    if (!broadcastShapes(x!.shape, mask!.shape)) {
      throw new ShapeError(`maskedFill: mask of shape ${fmtShape(mask!.shape)} cannot be broadcast with input of shape ${fmtShape(x!.shape)}.`);
    }
    return fill(x!, mask!, value);
  },
  vjp: (g, { inputs: [x, mask] }) => {
    return [sumToShape(fill(g, mask!, 0), x!.shape), null];
  },
  jvp: ([tx], { inputs: [, mask] }) => (tx ? fill(tx, mask!, 0) : null),
  reference: ([x, mask], { value }) => {
    const shape = broadcastShapes(x!.shape, mask!.shape)!;
    const out = host(shape);
    for (let i = 0; i < out.data.length; i++) {
      const idx = unravel(i, shape);
      out.data[i] = mask!.data[broadcastIndex(idx, mask!.shape)] ? value : x!.data[broadcastIndex(idx, x!.shape)]!;
    }
    return out;
  },
};
