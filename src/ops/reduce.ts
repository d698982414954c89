// Recording of the reduction kernel (shaders/reduce.wgsl) shared by sum and mean.
import type { Tensor } from '../tensor.js';
import { numel } from '../tensor.js';
import { filled, grid1d, normAxis, output, Params, requireFloat } from './common.js';
import { recordUnary, UnaryOp } from './elementwise.js';
import { reducePerGroupKernel, reducePerOutputKernel } from './kernels.js';

export interface ReduceAttrs {
  axis: number | null;
  keepdim: boolean;
}

export function reducedShape(shape: readonly number[], axis: number | null, keepdim: boolean): number[] {
  if (axis === null) return keepdim ? shape.map(() => 1) : [];
  return keepdim ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

/**
 * The axis a reduction runs along, non-negative; null for all elements. A 0-d tensor accepts
 * axis 0 or -1 and reduces its one element (as PyTorch does).
 */
export function reduceAxis(op: string, axis: number | null, ndim: number): number | null {
  if (axis === null) return null;
  if (ndim === 0) {
    normAxis(op, axis === -1 ? 0 : axis, 0);
    return null;
  }
  return normAxis(op, axis, ndim);
}

/** How many elements each output of the reduction sums. */
export function reducedCount(x: Tensor, axis: number | null): number {
  const a = reduceAxis('reduce', axis, x.ndim);
  return a === null ? x.size : x.shape[a]!;
}

export function recordReduce(op: string, x: Tensor, attrs: ReduceAttrs, mean: boolean): Tensor {
  requireFloat(op, x, 'the input');
  const axis = reduceAxis(op, attrs.axis, x.ndim);
  const outer = axis === null ? 1 : numel(x.shape.slice(0, axis));
  const R = axis === null ? x.size : x.shape[axis]!;
  const inner = axis === null ? 1 : numel(x.shape.slice(axis + 1));
  const rt = x.runtime;
  const shape = reducedShape(x.shape, axis, attrs.keepdim);
  // Over an empty axis: the sum of nothing is 0 and the mean of nothing is NaN (0/0), as in PyTorch.
  if (R === 0) return filled(rt, shape, mean ? NaN : 0, 'float32', op);
  const out = output(rt, shape, 'float32', op);
  if (outer * inner === 0) return out;
  const src = x.isContiguous && x.offset === 0 ? x : recordUnary(op, UnaryOp.copy, x);
  const outputs = outer * inner;
  const params = new Params()
    .u(outer, R, inner)
    .f(mean ? 1 / R : 1)
    .done();
  // Few outputs over a long axis: a workgroup per output; otherwise an invocation per output.
  const perGroup = R >= 512 && outputs <= 4096;
  rt.scheduler.record({
    kernel: perGroup ? reducePerGroupKernel : reducePerOutputKernel,
    params,
    storages: [src.storage, out.storage],
    workgroups: perGroup ? grid1d(outputs, 1) : grid1d(outputs),
  });
  if (src !== x) src.dispose();
  return out;
}

/** The gradient of a reduction: g put back on the reduced axis and broadcast over it, as a view. */
export function expandReduced(g: Tensor, x: Tensor, attrs: ReduceAttrs): Tensor {
  const axis = reduceAxis('sum', attrs.axis, x.ndim);
  const kept = g.reshape(reducedShape(x.shape, axis, true));
  return kept.expand(x.shape);
}
