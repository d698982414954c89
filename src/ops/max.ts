// max and min: the largest (smallest) value of all elements, or along one dim (keepdim keeps it as
// size 1). The values only; argmax/argmin give the indices (torch.max(x, dim) returns both). Ties
// and the gradient go to the first extremum, and NaN wins over any number (the first NaN), as
// PyTorch's max(dim)/min(dim); for a reduction of all elements PyTorch splits the gradient evenly
// among ties, here it goes to the first one too. An empty dim (or an empty tensor reduced whole) is
// an error: the max of nothing has no value.
//
// amax and amin (torch.amax/amin): the same values over one dim, a list of dims, or all (an empty
// list), with PyTorch's amax gradient: split evenly among the entries equal to the extremum (a row
// holding NaN gets a NaN gradient, as in PyTorch).

import { fmtShape, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { type HostTensor, host } from './host.js';
import { extremumBackwardKernel, extremumKernel } from './kernels.js';
import type { OpDef } from './op.js';
import { fromRows, hostGroups, type ReduceDims, type RowLayout, reduceDims, reducedShape, rowLayout, rowsInput } from './reduce.js';
import { denseInput } from './reshape.js';

export interface ExtremumAttrs {
  axis: ReduceDims;
  keepdim: boolean;
}

type Op = 'max' | 'min' | 'amax' | 'amin';

function params(op: Op, { outer, R, inner }: RowLayout): Uint32Array<ArrayBuffer> {
  return new Params().u(outer, R, inner, op.endsWith('min') ? 1 : 0).done();
}

/** The row layout; max and min take one dim (as torch.max), amax and amin also a list. */
function layout(op: Op, x: Tensor, axis: ReduceDims): RowLayout {
  if (Array.isArray(axis) && (op === 'max' || op === 'min')) {
    throw new ShapeError(`${op}: dim must be one integer or null, got the list ${JSON.stringify(axis)}; a${op} reduces over a list of dims.`);
  }
  return rowLayout(op, x.shape, axis);
}

function forward(op: Op, x: Tensor, { axis, keepdim }: ExtremumAttrs): Tensor {
  requireFloat(op, x, 'the input');
  const rows = layout(op, x, axis);
  const { dims, outer, R, inner } = rows;
  if (R === 0) {
    const empty = dims?.find((d) => x.shape[d] === 0);
    const what = dims === null ? 'an empty tensor' : `dim ${typeof axis === 'number' ? axis : empty}, which is empty`;
    throw new ShapeError(`${op}: cannot reduce ${what} (shape ${fmtShape(x.shape)}): the ${op} of nothing has no value.`);
  }
  const out = output(x.runtime, reducedShape(x.shape, dims, keepdim), 'float32', op);
  if (outer * inner === 0) return out;
  const src = rowsInput(op, x, rows);
  x.runtime.scheduler.record({
    kernel: extremumKernel,
    params: params(op, rows),
    storages: [src.storage, out.storage],
    workgroups: grid1d(outer * inner),
  });
  if (src !== x) src.dispose();
  return out;
}

/** g (the reduced shape) at each row's first extremum of x, 0 elsewhere: x's shape. Not itself differentiable. */
function firstExtremumBackward(op: Op, x: Tensor, g: Tensor, axis: ReduceDims): Tensor {
  const rows = layout(op, x, axis);
  const { outer, R, inner } = rows;
  const dx = output(x.runtime, x.shape, 'float32', `${op} backward`);
  if (outer * inner * R === 0) return dx;
  const src = rowsInput(op, x, rows);
  const grad = denseInput(op, g);
  x.runtime.scheduler.record({
    kernel: extremumBackwardKernel,
    params: params(op, rows),
    storages: [src.storage, grad.storage, dx.storage],
    workgroups: grid1d(outer * inner),
  });
  if (src !== x) src.dispose();
  if (grad !== g) grad.dispose();
  return fromRows(dx, x, rows);
}

/** amax's weights: 1/k at each of the k entries equal to their row's extremum y, 0 elsewhere (x's shape). */
function evenShares(x: Tensor, y: Tensor, { axis }: ExtremumAttrs): Tensor {
  const kept = reducedShape(x.shape, reduceDims('amax', axis, x.ndim), true);
  const atExtremum = x.eq(y.reshape(kept)).float();
  return atExtremum.div(atExtremum.sum(axis, true));
}

function reference(op: Op, x: HostTensor, { axis, keepdim }: ExtremumAttrs): HostTensor {
  const { shape, groups } = hostGroups(x, reduceDims(op, axis, x.shape.length), keepdim);
  const isMax = op.endsWith('max');
  const out = host(shape);
  groups.forEach((row, i) => {
    let best = row[0]!;
    for (const v of row) {
      if (Number.isNaN(best)) break;
      if (Number.isNaN(v) || (isMax ? v > best : v < best)) best = v;
    }
    out.data[i] = best;
  });
  return out;
}

function extremum(op: 'max' | 'min'): OpDef<ExtremumAttrs> {
  return {
    forward: ([x], attrs) => forward(op, x!, attrs),
    vjp: (g, { inputs: [x], attrs }) => [firstExtremumBackward(op, x!, g, attrs.axis)],
    // The tangent at each row's first extremum: Σ over the row of onehot · t.
    jvp: ([tx], { inputs: [x], attrs: { axis, keepdim } }) => {
      if (!tx) return null;
      const ones = filled(x!.runtime, reducedShape(x!.shape, reduceDims(op, axis, x!.ndim), false), 1, 'float32', op);
      const onehot = firstExtremumBackward(op, x!, ones, axis);
      ones.dispose();
      return onehot.mul(tx).sum(axis, keepdim);
    },
    reference: ([x], attrs) => reference(op, x!, attrs),
  };
}

function evenExtremum(op: 'amax' | 'amin'): OpDef<ExtremumAttrs> {
  return {
    forward: ([x], attrs) => forward(op, x!, attrs),
    vjp: (g, { inputs: [x], output: y, attrs }) => [evenShares(x!, y, attrs).mul(g.reshape(reducedShape(x!.shape, reduceDims(op, attrs.axis, x!.ndim), true)))],
    jvp: ([tx], { inputs: [x], output: y, attrs }) => (tx ? evenShares(x!, y, attrs).mul(tx).sum(attrs.axis, attrs.keepdim) : null),
    reference: ([x], attrs) => reference(op, x!, attrs),
  };
}

export const max = extremum('max');
export const min = extremum('min');
export const amax = evenExtremum('amax');
export const amin = evenExtremum('amin');
