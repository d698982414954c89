// tril / triu: the lower (or upper) triangle of the last two dimensions, the rest zero. Composed
// from where() with a bool mask of the matrix's size (not the batch's), built on the GPU.
// The gradient and the tangent are the same mask applied to the upstream value.

import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import type { Runtime } from '../runtime/runtime.js';
import { Tensor } from '../tensor.js';
import { filled, requireFloat } from './common.js';
import { compareScalar } from './compare.js';
import { host, unravel } from './host.js';
import { narrowBackward } from './narrow.js';
import type { OpDef } from './op.js';
import { where } from './where.js';

export interface TriangularAttrs {
  diagonal: number;
}

const NO_SAVE = { recording: false, save: () => {} };

/** True where element (i, j) is kept: j − i ≤ diagonal for tril, j − i ≥ diagonal for triu. */
const keeps = (upper: boolean, diagonal: number, i: number, j: number): boolean => (upper ? j - i >= diagonal : j - i <= diagonal);

function check(name: string, x: Tensor, { diagonal }: TriangularAttrs): void {
  if (x.shape.length < 2) throw new ShapeError(`${name}: input must have at least 2 dimensions, got shape ${fmtShape(x.shape)}.`);
  if (!Number.isInteger(diagonal)) throw new DTypeError(`${name}: diagonal must be an integer, got ${diagonal}.`);
}

/**
 * 1.0 where j − i lies in [lo, hi] (i the row, j the column), else 0.0, as a float32 [rows, cols]
 * view. Made on the GPU, so a captured step replays it: a step function v over the rows + cols − 1
 * values of j − i, seen through strides [-1, 1] (element (i, j) reads v[j − i + rows − 1]).
 */
export function bandMask(rt: Runtime, rows: number, cols: number, lo: number, hi: number): Tensor {
  const span = rows + cols - 1;
  if (rows * cols === 0) return filled(rt, [rows, cols], 0, 'float32', 'mask');
  const start = Math.min(Math.max(lo + rows - 1, 0), span);
  const end = Math.min(Math.max(hi + rows, start), span);
  const ones = filled(rt, [end - start], 1, 'float32', 'mask');
  const step = narrowBackward(ones, [span], { dim: 0, start, length: end - start }, 'mask');
  ones.dispose();
  const view = new Tensor(rt, step.storage, [rows, cols], 'float32', [-1, 1], rows - 1);
  step.dispose();
  return view;
}

/** x with the triangle kept and the rest zero (x is float32; the mask broadcasts over batch dims). */
function masked(upper: boolean, x: Tensor, diagonal: number): Tensor {
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  const rt = x.runtime;
  if (x.size === 0) return filled(rt, x.shape, 0, 'float32', upper ? 'triu' : 'tril');
  const band = upper ? bandMask(rt, rows, cols, diagonal, cols) : bandMask(rt, rows, cols, -rows, diagonal);
  const mask = compareScalar.forward([band], { op: 'gt', value: 0.5 }, NO_SAVE);
  band.dispose();
  const zero = filled(rt, [], 0, 'float32', upper ? 'triu' : 'tril');
  const out = where.forward([mask, x, zero], {}, NO_SAVE);
  mask.dispose();
  zero.dispose();
  return out;
}

function triangular(upper: boolean): OpDef<TriangularAttrs> {
  const name = upper ? 'triu' : 'tril';
  return {
    forward: ([x], attrs) => {
      check(name, x!, attrs);
      requireFloat(name, x!, 'input');
      return masked(upper, x!, attrs.diagonal);
    },
    vjp: (g, { attrs }) => [masked(upper, g, attrs.diagonal)],
    jvp: ([tx], { attrs }) => (tx ? masked(upper, tx, attrs.diagonal) : null),
    reference: ([x], { diagonal }) => {
      const out = host(x!.shape, x!.data, x!.dtype);
      const nd = x!.shape.length;
      for (let k = 0; k < out.data.length; k++) {
        const idx = unravel(k, x!.shape);
        if (!keeps(upper, diagonal, idx[nd - 2]!, idx[nd - 1]!)) out.data[k] = 0;
      }
      return out;
    },
  };
}

export const tril = triangular(false);
export const triu = triangular(true);
