// narrow: the slice start..start+length of one dimension. A view: same storage and strides, the
// offset moved to the first element kept.

import { ShapeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { assemble } from './assemble.js';
import { normAxis } from './common.js';
import { host, unravel } from './host.js';
import type { OpDef } from './op.js';

export interface NarrowAttrs {
  dim: number;
  start: number;
  length: number;
}

/** The dimension and start normalised (a negative start counts from the end), checked against the shape. */
function narrowed(shape: readonly number[], { dim, start, length }: NarrowAttrs): { d: number; from: number } {
  if (shape.length === 0) throw new ShapeError('narrow: cannot narrow a 0-d tensor.');
  const d = normAxis('narrow', dim, shape.length);
  const size = shape[d]!;
  const from = Number.isInteger(start) && start < 0 ? start + size : start;
  if (!Number.isInteger(from) || from < 0 || from > size) {
    throw new ShapeError(`narrow: start ${start} is out of range for dimension ${dim} of size ${size}.`);
  }
  if (!Number.isInteger(length) || length < 0 || from + length > size) {
    throw new ShapeError(`narrow: start ${start} + length ${length} exceeds dimension ${dim} of size ${size}.`);
  }
  return { d, from };
}

/** g (the gradient of the slice) placed back into zeros of `shape`. */
export function narrowBackward(g: Tensor, shape: readonly number[], attrs: NarrowAttrs, op = 'narrow backward'): Tensor {
  const { d, from } = narrowed(shape, attrs);
  return assemble(op, g.runtime, [{ t: g, start: from }], shape, d, 'float32');
}

export const narrow: OpDef<NarrowAttrs> = {
  forward: ([x], attrs) => {
    const t = x!;
    const { d, from } = narrowed(t.shape, attrs);
    const shape = [...t.shape];
    shape[d] = attrs.length;
    // An empty result has no element to point at: keep the input's offset.
    const offset = attrs.length === 0 ? t.offset : t.offset + from * t.strides[d]!;
    return new Tensor(t.runtime, t.storage, shape, t.dtype, t.strides, offset);
  },
  vjp: (g, { inputs: [x], attrs }) => [narrowBackward(g, x!.shape, attrs)],
  gradientPiece: ({ inputs: [x], attrs }) => {
    const { d, from } = narrowed(x!.shape, attrs);
    return { d, start: from };
  },
  jvp: ([tx], { attrs }) => (tx ? tx.narrow(attrs.dim, attrs.start, attrs.length) : null),
  reference: ([x], attrs) => {
    const { d, from } = narrowed(x!.shape, attrs);
    const shape = [...x!.shape];
    shape[d] = attrs.length;
    const out = host(shape, undefined, x!.dtype);
    for (let i = 0; i < out.data.length; i++) {
      const idx = unravel(i, shape);
      idx[d] = idx[d]! + from;
      let flat = 0;
      for (let k = 0; k < shape.length; k++) flat = flat * x!.shape[k]! + idx[k]!;
      out.data[i] = x!.data[flat]!;
    }
    return out;
  },
};
