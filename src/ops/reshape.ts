// reshape / view: the same elements in row-major order under a new shape. A view (shared storage,
// new strides) whenever the input's strides allow it, as PyTorch decides; otherwise reshape makes a
// contiguous copy first and view throws. forceCopy always copies (contiguous(), gradients that
// need their own storage).

import { fmtShape, ShapeError } from '../errors.js';
import { contiguousStrides, numel, Tensor } from '../tensor.js';
import { recordMap, recordUnary, UnaryOp } from './elementwise.js';
import { host } from './host.js';
import { copyWordsStridedKernel, UNARY_PARAMS } from './kernels.js';
import type { OpDef } from './op.js';

export interface ReshapeAttrs {
  shape: readonly number[];
  /** Always copy (used to make views contiguous and to give gradients their own storage). */
  forceCopy: boolean;
  /** Throw instead of copying when the new shape cannot be a view (Tensor.view). */
  viewOnly?: boolean;
  /** The name errors give the caller (reshape, view, flatten, unsqueeze, squeeze). */
  op?: string;
}

export function resolveShape(from: readonly number[], to: readonly number[], op = 'reshape'): number[] {
  const n = numel(from);
  const unknown = to.filter((d) => d === -1).length;
  if (unknown > 1 || to.some((d) => !Number.isInteger(d) || d < -1)) {
    throw new ShapeError(`${op}: invalid target shape ${fmtShape(to)}.`);
  }
  const known = to.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
  if (unknown === 1 && known === 0) throw new ShapeError(`${op}: cannot infer the -1 in ${fmtShape(to)} for ${fmtShape(from)} (${n} elements).`);
  const shape = to.map((d) => (d === -1 ? n / known : d));
  if (numel(shape) !== n || shape.some((d) => !Number.isInteger(d))) {
    throw new ShapeError(`${op}: cannot reshape ${fmtShape(from)} (${n} elements) to ${fmtShape(to)}.`);
  }
  return shape;
}

/**
 * Strides that show `t`'s elements in row-major order under `shape` without moving them, or null
 * when none exist. Runs of input dimensions that are contiguous with each other may be split or
 * merged freely (PyTorch's rule); size-1 dimensions take any stride.
 */
export function viewStrides(t: Tensor, shape: readonly number[]): number[] | null {
  const n = numel(shape);
  if (n === 0) return contiguousStrides(shape);
  const out = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkBase = t.strides[t.ndim - 1] ?? 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = t.ndim - 1; d >= 0; d--) {
    tensorNumel *= t.shape[d]!;
    // A chunk ends where the next outer dimension does not continue this one's memory.
    if (d === 0 || (t.shape[d - 1] !== 1 && t.strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= shape[viewD]!;
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = t.strides[d - 1]!;
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) {
    // Leading size-1 dimensions left over (a 0-d input, or unsqueeze at the front).
    for (; viewD >= 0; viewD--) out[viewD] = viewNumel * chunkBase;
  }
  return out;
}

/** A contiguous copy of `t` (any dtype), in a storage of its own. */
export function contiguousCopy(op: string, t: Tensor): Tensor {
  if (t.dtype === 'float32') return recordUnary(op, UnaryOp.copy, t);
  return recordMap(op, copyWordsStridedKernel, UNARY_PARAMS, [['x', t]], t.shape, t.dtype);
}

/** `t` itself when its elements are dense and start at 0 (what kernels without strides need), else a contiguous copy. */
export function denseInput(op: string, t: Tensor): Tensor {
  return t.isContiguous && t.offset === 0 ? t : contiguousCopy(op, t);
}

export const reshape: OpDef<ReshapeAttrs> = {
  forward: ([x], { shape, forceCopy, viewOnly, op = viewOnly ? 'view' : 'reshape' }) => {
    const t = x!;
    const target = resolveShape(t.shape, shape, op);
    if (!forceCopy) {
      const strides = viewStrides(t, target);
      if (strides) return new Tensor(t.runtime, t.storage, target, t.dtype, strides, t.offset);
      if (viewOnly) {
        throw new ShapeError(
          `view: a tensor of shape ${fmtShape(t.shape)} with strides ${fmtShape(t.strides)} cannot be viewed as ${fmtShape(target)} without a copy; use reshape().`,
        );
      }
    }
    const copy = contiguousCopy(op, t);
    const view = new Tensor(t.runtime, copy.storage, target, t.dtype);
    copy.dispose();
    return view;
  },
  vjp: (g, { inputs: [x] }) => [g.reshape(x!.shape)],
  jvp: ([tx], { output }) => (tx ? tx.reshape(output.shape) : null),
  reference: ([x], { shape }) => host(resolveShape(x!.shape, shape), x!.data, x!.dtype),
};
