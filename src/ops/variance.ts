// var and std: of all elements, along one dim or over a list of dims, with PyTorch's `correction`
// (1, the default: the unbiased estimate, dividing by N − 1; 0: by N). A divisor N − correction ≤ 0 gives NaN for
// rows without spread and +inf otherwise, and an empty row NaN, as in PyTorch. One dispatch for
// the values (shaders/moments.wgsl) and one for the gradient.

import { describeValue } from '../arguments.js';
import { ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { type HostTensor, host } from './host.js';
import { momentsBackwardKernel, momentsKernel } from './kernels.js';
import type { OpDef } from './op.js';
import { fromRows, hostGroups, type ReduceDims, type RowLayout, reduceDims, reducedShape, rowLayout, rowsInput } from './reduce.js';
import { denseInput } from './reshape.js';

export interface VarianceAttrs {
  axis: ReduceDims;
  correction: number;
  keepdim: boolean;
}

type Which = 'var' | 'std';

function params(op: Which, { outer, R, inner }: RowLayout, correction: number): Uint32Array<ArrayBuffer> {
  return new Params()
    .u(outer, R, inner)
    .f(1 / Math.max(0, R - correction))
    .u(op === 'std' ? 1 : 0)
    .done();
}

function forward(op: Which, x: Tensor, { axis, correction, keepdim }: VarianceAttrs): Tensor {
  requireFloat(op, x, 'the input');
  if (typeof correction !== 'number' || !Number.isFinite(correction) || correction < 0) {
    throw new ValueError(`${op}: correction must be a finite number ≥ 0, got ${describeValue(correction)}.`);
  }
  const rows = rowLayout(op, x.shape, axis);
  const { outer, R, inner } = rows;
  const shape = reducedShape(x.shape, rows.dims, keepdim);
  if (R === 0) return filled(x.runtime, shape, NaN, 'float32', op);
  const out = output(x.runtime, shape, 'float32', op);
  if (outer * inner === 0) return out;
  const src = rowsInput(op, x, rows);
  x.runtime.scheduler.record({
    kernel: momentsKernel,
    params: params(op, rows, correction),
    storages: [src.storage, out.storage],
    workgroups: grid1d(outer * inner),
  });
  if (src !== x) src.dispose();
  return out;
}

/** g (the reduced shape) times d out / dx, in x's shape. Not itself differentiable. */
function backward(op: Which, x: Tensor, g: Tensor, { axis, correction }: VarianceAttrs): Tensor {
  const rows = rowLayout(op, x.shape, axis);
  const { outer, R, inner } = rows;
  const dx = output(x.runtime, x.shape, 'float32', `${op} backward`);
  if (outer * inner * R === 0) return dx;
  const src = rowsInput(op, x, rows);
  const grad = denseInput(op, g);
  x.runtime.scheduler.record({
    kernel: momentsBackwardKernel,
    params: params(op, rows, correction),
    storages: [src.storage, grad.storage, dx.storage],
    workgroups: grid1d(outer * inner),
  });
  if (src !== x) src.dispose();
  if (grad !== g) grad.dispose();
  return fromRows(dx, x, rows);
}

function reference(op: Which, x: HostTensor, { axis, correction, keepdim }: VarianceAttrs): HostTensor {
  const { shape, groups } = hostGroups(x, reduceDims(op, axis, x.shape.length), keepdim);
  const out = host(shape);
  groups.forEach((row, i) => {
    const R = row.length;
    const mean = row.reduce((a, b) => a + b, 0) / R;
    const v = row.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(0, R - correction);
    out.data[i] = op === 'std' ? Math.sqrt(v) : v;
  });
  return out;
}

function moments(op: Which): OpDef<VarianceAttrs> {
  return {
    forward: ([x], attrs) => forward(op, x!, attrs),
    vjp: (g, { inputs: [x], attrs }) => [backward(op, x!, g, attrs)],
    // Σ over the row of (d out / dx) · t, with d out / dx from the gradient kernel at g = 1.
    jvp: ([tx], { inputs: [x], attrs }) => {
      if (!tx) return null;
      const ones = filled(x!.runtime, reducedShape(x!.shape, reduceDims(op, attrs.axis, x!.ndim), false), 1, 'float32', op);
      const slope = backward(op, x!, ones, attrs);
      ones.dispose();
      return slope.mul(tx).sum(attrs.axis, attrs.keepdim);
    },
    reference: ([x], attrs) => reference(op, x!, attrs),
  };
}

export const variance = moments('var');
export const std = moments('std');
