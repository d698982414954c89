// tril / triu: the lower (or upper) triangle of the last two dimensions, the rest zero. Composed
// from where() with a bool mask built on the host (its size is the matrix's, not the batch's).
// The gradient and the tangent are the same mask applied to the upstream value.

import { DTypeError, fmtShape, ShapeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { filled, requireFloat } from './common.js';
import { host, unravel } from './host.js';
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

/** x with the triangle kept and the rest zero (x is float32; the mask broadcasts over batch dims). */
function masked(upper: boolean, x: Tensor, diagonal: number): Tensor {
  const [rows, cols] = x.shape.slice(-2) as [number, number];
  const bits = new Int32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) bits[i * cols + j] = Number(keeps(upper, diagonal, i, j));
  const rt = x.runtime;
  const mask = new Tensor(rt, rt.scheduler.upload(bits), [rows, cols], 'bool');
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
