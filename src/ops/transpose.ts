// transpose: swaps two axes. A view: the result shares the storage, with swapped shape and strides.

import { Tensor } from '../tensor.js';
import { normAxis } from './common.js';
import { host, unravel } from './host.js';
import type { OpDef } from './op.js';

export interface TransposeAttrs {
  dim0: number;
  dim1: number;
}

export const transpose: OpDef<TransposeAttrs> = {
  forward: ([x], { dim0, dim1 }) => {
    const t = x!;
    if (t.ndim < 2) return new Tensor(t.runtime, t.storage, t.shape, t.dtype, t.strides, t.offset);
    const a = normAxis('transpose', dim0, t.ndim);
    const b = normAxis('transpose', dim1, t.ndim);
    const shape = [...t.shape];
    const strides = [...t.strides];
    [shape[a], shape[b]] = [shape[b]!, shape[a]!];
    [strides[a], strides[b]] = [strides[b]!, strides[a]!];
    return new Tensor(t.runtime, t.storage, shape, t.dtype, strides, t.offset);
  },
  vjp: (g, { attrs }) => [g.transpose(attrs.dim0, attrs.dim1)],
  jvp: ([tx], { attrs }) => (tx ? tx.transpose(attrs.dim0, attrs.dim1) : null),
  reference: ([x], { dim0, dim1 }) => {
    const n = x!.shape.length;
    if (n < 2) return host(x!.shape, x!.data);
    const a = dim0 < 0 ? dim0 + n : dim0;
    const b = dim1 < 0 ? dim1 + n : dim1;
    const shape = [...x!.shape];
    [shape[a], shape[b]] = [shape[b]!, shape[a]!];
    const out = host(shape);
    for (let i = 0; i < out.data.length; i++) {
      const idx = unravel(i, shape);
      [idx[a], idx[b]] = [idx[b]!, idx[a]!];
      let flat = 0;
      for (let d = 0; d < n; d++) flat = flat * x!.shape[d]! + idx[d]!;
      out.data[i] = x!.data[flat]!;
    }
    return out;
  },
};
