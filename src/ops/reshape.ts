// reshape: the same elements in row-major order under a new shape. A view when the input is
// contiguous; otherwise (or with forceCopy) a contiguous copy is made first.

import { fmtShape, ShapeError } from '../errors.js';
import { numel, Tensor } from '../tensor.js';
import { recordUnary, UnaryOp } from './elementwise.js';
import { host } from './host.js';
import type { OpDef } from './op.js';

export interface ReshapeAttrs {
  shape: readonly number[];
  /** Always copy (used to make views contiguous and to give gradients their own storage). */
  forceCopy: boolean;
}

export function resolveShape(from: readonly number[], to: readonly number[]): number[] {
  const n = numel(from);
  const unknown = to.filter((d) => d === -1).length;
  if (unknown > 1 || to.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError(`reshape: invalid target shape ${fmtShape(to)}.`);
  }
  const known = to.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  const shape = to.map((d) => (d === -1 ? (known === 0 ? 0 : n / known) : d));
  if (numel(shape) !== n || shape.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`reshape: cannot reshape ${fmtShape(from)} (${n} elements) to ${fmtShape(to)}.`);
  }
  return shape;
}

export const reshape: OpDef<ReshapeAttrs> = {
  forward: ([x], { shape, forceCopy }) => {
    const t = x!;
    const target = resolveShape(t.shape, shape);
    if (!forceCopy && t.isContiguous && t.offset === 0) return new Tensor(t.runtime, t.storage, target, t.dtype);
    if (t.dtype === 'int32') {
      // The copy kernel is float32; int32 tensors are only re-viewed.
      if (t.isContiguous && t.offset === 0) return new Tensor(t.runtime, t.storage, target, t.dtype);
      throw new ShapeError(`reshape: copying a non-contiguous int32 tensor (shape ${fmtShape(t.shape)}) is not supported.`);
    }
    const copy = recordUnary('reshape', UnaryOp.copy, t);
    const view = new Tensor(t.runtime, copy.storage, target, t.dtype);
    copy.dispose();
    return view;
  },
  vjp: (g, { inputs: [x] }) => [g.reshape(x!.shape)],
  jvp: ([tx], { output }) => (tx ? tx.reshape(output.shape) : null),
  reference: ([x], { shape }) => host(resolveShape(x!.shape, shape), x!.data),
};
