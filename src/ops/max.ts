// max and min: the largest (smallest) value of all elements, or along one dim (keepdim keeps it as
// size 1). The values only; argmax/argmin give the indices (torch.max(x, dim) returns both). Ties
// and the gradient go to the first extremum, and NaN wins over any number (the first NaN), as
// PyTorch's max(dim)/min(dim); for a reduction of all elements PyTorch splits the gradient evenly
// among ties, here it goes to the first one too. An empty dim (or an empty tensor reduced whole) is
// an error: the max of nothing has no value.

import { fmtShape, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { type HostTensor, host } from './host.js';
import { extremumBackwardKernel, extremumKernel } from './kernels.js';
import type { OpDef } from './op.js';
import { reduceAxis, reducedShape, reductionRows } from './reduce.js';
import { denseInput } from './reshape.js';

export interface ExtremumAttrs {
  axis: number | null;
  keepdim: boolean;
}

type Which = 'max' | 'min';

const contiguous = denseInput;

function params(op: Which, outer: number, R: number, inner: number): Uint32Array<ArrayBuffer> {
  return new Params().u(outer, R, inner, op === 'min' ? 1 : 0).done();
}

function forward(op: Which, x: Tensor, { axis, keepdim }: ExtremumAttrs): Tensor {
  requireFloat(op, x, 'the input');
  const { dim, outer, R, inner } = reductionRows(op, x.shape, axis);
  if (R === 0) {
    const what = dim === null ? 'an empty tensor' : `dim ${axis}, which is empty`;
    throw new ShapeError(`${op}: cannot reduce ${what} (shape ${fmtShape(x.shape)}): the ${op} of nothing has no value.`);
  }
  const out = output(x.runtime, reducedShape(x.shape, dim, keepdim), 'float32', op);
  if (outer * inner === 0) return out;
  const src = contiguous(op, x);
  x.runtime.scheduler.record({
    kernel: extremumKernel,
    params: params(op, outer, R, inner),
    storages: [src.storage, out.storage],
    workgroups: grid1d(outer * inner),
  });
  if (src !== x) src.dispose();
  return out;
}

/** g (the reduced shape) at each row's first extremum of x, 0 elsewhere: x's shape. Not itself differentiable. */
function extremumBackward(op: Which, x: Tensor, g: Tensor, axis: number | null): Tensor {
  const { outer, R, inner } = reductionRows(op, x.shape, axis);
  const dx = output(x.runtime, x.shape, 'float32', `${op} backward`);
  if (outer * inner * R === 0) return dx;
  const src = contiguous(op, x);
  const grad = contiguous(op, g);
  x.runtime.scheduler.record({
    kernel: extremumBackwardKernel,
    params: params(op, outer, R, inner),
    storages: [src.storage, grad.storage, dx.storage],
    workgroups: grid1d(outer * inner),
  });
  if (src !== x) src.dispose();
  if (grad !== g) grad.dispose();
  return dx;
}

function reference(op: Which, x: HostTensor, { axis, keepdim }: ExtremumAttrs): HostTensor {
  const { dim, outer, R, inner } = reductionRows(op, x.shape, axis);
  const out = host(reducedShape(x.shape, dim, keepdim));
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = x.data[o * R * inner + j]!;
      for (let r = 1; r < R && !Number.isNaN(best); r++) {
        const v = x.data[(o * R + r) * inner + j]!;
        if (Number.isNaN(v) || (op === 'max' ? v > best : v < best)) best = v;
      }
      out.data[o * inner + j] = best;
    }
  }
  return out;
}

function extremum(op: Which): OpDef<ExtremumAttrs> {
  return {
    forward: ([x], attrs) => forward(op, x!, attrs),
    vjp: (g, { inputs: [x], attrs }) => [extremumBackward(op, x!, g, attrs.axis)],
    // The tangent at each row's first extremum: Σ over the row of onehot · t.
    jvp: ([tx], { inputs: [x], attrs: { axis, keepdim } }) => {
      if (!tx) return null;
      const ones = filled(x!.runtime, reducedShape(x!.shape, reduceAxis(op, axis, x!.ndim), false), 1, 'float32', op);
      const onehot = extremumBackward(op, x!, ones, axis);
      ones.dispose();
      return onehot.mul(tx).sum(axis, keepdim);
    },
    reference: ([x], attrs) => reference(op, x!, attrs),
  };
}

export const max = extremum('max');
export const min = extremum('min');
