// to(dtype): conversion between float32, int32 and bool, by PyTorch's rules. float32 → int32
// truncates toward zero; where PyTorch leaves it undefined, NaN becomes 0 and values beyond int32's
// range saturate. Anything → bool is "not zero" (NaN is true). bool → number gives 0 or 1. Only a
// float32 → float32 "conversion" carries a gradient (it is the input itself, as in PyTorch).

import { describeValue } from '../arguments.js';
import { DTypeError } from '../errors.js';
import { type DType, Tensor } from '../tensor.js';
import { recordMap } from './elementwise.js';
import { host } from './host.js';
import { castKernels, UNARY_PARAMS } from './kernels.js';
import type { OpDef } from './op.js';

export interface CastAttrs {
  dtype: DType;
}

export const DTYPES: readonly DType[] = ['float32', 'int32', 'bool'];

export function checkDTypeArgument(op: string, dtype: unknown): asserts dtype is DType {
  if (!DTYPES.includes(dtype as DType))
    throw new DTypeError(
      `${op}: unknown dtype ${typeof dtype === 'string' ? `'${dtype}'` : describeValue(dtype)} (webgrad has ${DTYPES.map((d) => `'${d}'`).join(', ')}).`,
    );
}

/** The float64 reference of one value converted to `to`. */
export function castValue(v: number, to: DType): number {
  if (to === 'bool') return v !== 0 ? 1 : 0;
  if (to === 'float32') return v;
  if (Number.isNaN(v)) return 0;
  return Math.max(-(2 ** 31), Math.min(2 ** 31 - 1, Math.trunc(v) || 0));
}

export const cast: OpDef<CastAttrs> = {
  forward: ([x], { dtype }) => {
    const t = x!;
    checkDTypeArgument('to', dtype);
    // Same dtype: the tensor itself (a new handle on the same storage), as PyTorch returns self.
    if (dtype === t.dtype) return new Tensor(t.runtime, t.storage, t.shape, t.dtype, t.strides, t.offset);
    const kernel = castKernels[`${t.dtype}>${dtype}` as keyof typeof castKernels];
    return recordMap('to', kernel, UNARY_PARAMS, [['x', t]], t.shape, dtype);
  },
  vjp: (g, { inputs: [x], output }) => [x!.dtype === 'float32' && output.dtype === 'float32' ? g : null],
  jvp: ([tx], { output }) => (tx && output.dtype === 'float32' ? tx : null),
  reference: ([x], { dtype }) =>
    host(
      x!.shape,
      Array.from(x!.data, (v) => castValue(v, dtype)),
      dtype,
    ),
};
