// permute: reorders the dimensions (output dimension i is input dimension dims[i]). A view: the
// result shares the storage with reordered shape and strides.

import { fmtShape, ShapeError } from '../errors.js';
import { Tensor } from '../tensor.js';
import { host, unravel } from './host.js';
import type { OpDef } from './op.js';

export interface PermuteAttrs {
  dims: readonly number[];
}

/** The dims normalised (negatives counted from the end), checked to be a permutation of 0..ndim-1. */
export function permutation(op: string, dims: readonly number[], ndim: number): number[] {
  const bad = (): never => {
    throw new ShapeError(`${op}: dims ${fmtShape(dims)} are not a permutation of the ${ndim} dimensions of the input.`);
  };
  if (!Array.isArray(dims) || dims.length !== ndim) bad();
  const out = dims.map((d) => (Number.isInteger(d) && d < 0 ? d + ndim : d));
  const seen = new Set(out);
  if (seen.size !== ndim || out.some((d) => !Number.isInteger(d) || d < 0 || d >= ndim)) bad();
  return out;
}

/** The permutation that undoes `perm`. */
export function inversePermutation(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

export const permute: OpDef<PermuteAttrs> = {
  forward: ([x], { dims }) => {
    const t = x!;
    const perm = permutation('permute', dims, t.ndim);
    return new Tensor(
      t.runtime,
      t.storage,
      perm.map((p) => t.shape[p]!),
      t.dtype,
      perm.map((p) => t.strides[p]!),
      t.offset,
    );
  },
  vjp: (g, { inputs: [x], attrs }) => [g.permute(inversePermutation(permutation('permute', attrs.dims, x!.ndim)))],
  jvp: ([tx], { attrs }) => (tx ? tx.permute(attrs.dims) : null),
  reference: ([x], { dims }) => {
    const perm = permutation('permute', dims, x!.shape.length);
    const shape = perm.map((p) => x!.shape[p]!);
    const out = host(shape, undefined, x!.dtype);
    for (let i = 0; i < out.data.length; i++) {
      const idx = unravel(i, shape);
      const src = new Array<number>(shape.length);
      perm.forEach((p, j) => {
        src[p] = idx[j]!;
      });
      let flat = 0;
      for (let d = 0; d < shape.length; d++) flat = flat * x!.shape[d]! + src[d]!;
      out.data[i] = x!.data[flat]!;
    }
    return out;
  },
};
