// Recording of the reduction kernel (shaders/reduce.wgsl) shared by sum and mean.
import type { Tensor } from '../tensor.js';
import { numel } from '../tensor.js';
import { ShapeError, fmtShape } from '../errors.js';
import { reducePerGroupKernel, reducePerOutputKernel } from './kernels.js';
import { Params, grid1d, normAxis, output, requireFloat } from './common.js';
import { recordUnary, UnaryOp } from './elementwise.js';

export interface ReduceAttrs {
  axis: number | null;
  keepdim: boolean;
}

export function reducedShape(shape: readonly number[], axis: number | null, keepdim: boolean): number[] {
  if (axis === null) return keepdim ? shape.map(() => 1) : [];
  return keepdim ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

export function recordReduce(op: string, x: Tensor, attrs: ReduceAttrs, mean: boolean): Tensor {
  requireFloat(op, x, 'the input');
  const axis = attrs.axis === null ? null : normAxis(op, attrs.axis, x.ndim);
  const outer = axis === null ? 1 : numel(x.shape.slice(0, axis));
  const R = axis === null ? x.size : x.shape[axis]!;
  const inner = axis === null ? 1 : numel(x.shape.slice(axis + 1));
  if (mean && R === 0) throw new ShapeError(`${op}: cannot take the mean over an empty axis (shape ${fmtShape(x.shape)}).`);
  const rt = x.runtime;
  const out = output(rt, reducedShape(x.shape, axis, attrs.keepdim), 'float32', op);
  const src = x.isContiguous && x.offset === 0 ? x : recordUnary(op, UnaryOp.copy, x);
  const outputs = outer * inner;
  const params = new Params().u(outer, R, inner).f(mean ? 1 / R : 1).done();
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
  const axis = attrs.axis === null ? null : normAxis('sum', attrs.axis, x.ndim);
  const kept = g.reshape(reducedShape(x.shape, axis, true));
  return kept.expand(x.shape);
}
