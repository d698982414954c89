// Recording of the reduction kernel (shaders/reduce.wgsl) shared by sum and mean, over one dim,
// several, or all of them.

import { ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { numel } from '../tensor.js';
import { filled, grid1d, normAxis, output, Params, requireFloat } from './common.js';
import { hostNumel } from './host.js';
import { reducePerGroupKernel, reducePerOutputKernel } from './kernels.js';
import { denseInput } from './reshape.js';

/** Which dims a reduction runs over: one, a list (an empty list means all, as in PyTorch), or null for all. */
export type ReduceDims = number | readonly number[] | null;

export interface ReduceAttrs {
  axis: ReduceDims;
  keepdim: boolean;
}

export function reducedShape(shape: readonly number[], axis: ReduceDims, keepdim: boolean): number[] {
  if (axis === null) return keepdim ? shape.map(() => 1) : [];
  const dims = typeof axis === 'number' ? [axis] : axis;
  return keepdim ? shape.map((d, i) => (dims.includes(i) ? 1 : d)) : shape.filter((_, i) => !dims.includes(i));
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

/** The rows [outer, R, inner] a reduction over one dim (or all elements, for null) runs along. */
export function reductionRows(op: string, shape: readonly number[], axis: number | null): { dim: number | null; outer: number; R: number; inner: number } {
  const dim = reduceAxis(op, axis, shape.length);
  if (dim === null) return { dim, outer: 1, R: hostNumel(shape), inner: 1 };
  return { dim, outer: hostNumel(shape.slice(0, dim)), R: shape[dim]!, inner: hostNumel(shape.slice(dim + 1)) };
}

/** The dims a reduction runs over, non-negative and ascending; null for all. A dim listed twice is an error, as in PyTorch. */
export function reduceDims(op: string, axis: ReduceDims, ndim: number): number[] | null {
  if (axis === null || typeof axis === 'number') {
    const a = reduceAxis(op, axis, ndim);
    return a === null ? null : [a];
  }
  const dims = axis.map((a) => reduceAxis(op, a, ndim));
  if (dims.length === 0 || dims.includes(null)) return null;
  const sorted = (dims as number[]).sort((a, b) => a - b);
  const repeated = sorted.find((d, i) => sorted[i - 1] === d);
  if (repeated !== undefined) throw new ShapeError(`${op}: dim ${repeated} appears more than once in the dims ${JSON.stringify(axis)}.`);
  return sorted;
}

/** How many elements each output of the reduction sums. */
export function reducedCount(x: Tensor, axis: ReduceDims): number {
  const dims = reduceDims('reduce', axis, x.ndim);
  return dims === null ? x.size : numel(dims.map((d) => x.shape[d]!));
}

/** The reduced dims as runs of adjacent dims [first, last]: each run is one dispatch. */
function adjacentRuns(dims: readonly number[] | null, ndim: number): [number, number][] {
  if (dims === null) return [[0, ndim - 1]];
  const runs: [number, number][] = [];
  for (const d of dims) {
    const last = runs[runs.length - 1];
    if (last && last[1] === d - 1) last[1] = d;
    else runs.push([d, d]);
  }
  return runs;
}

export function recordReduce(op: string, x: Tensor, attrs: ReduceAttrs, mean: boolean): Tensor {
  requireFloat(op, x, 'the input');
  const dims = reduceDims(op, attrs.axis, x.ndim);
  const rt = x.runtime;
  const shape = reducedShape(x.shape, dims, attrs.keepdim);
  // Over an empty dim: the sum of nothing is 0 and the mean of nothing is NaN (0/0), as in PyTorch.
  if (reducedCount(x, dims) === 0) return filled(rt, shape, mean ? NaN : 0, 'float32', op);
  if (numel(shape) === 0) return output(rt, shape, 'float32', op);
  let src = denseInput(op, x);
  let current = [...x.shape];
  // The last run first; each pass keeps its dims as size 1, so the earlier runs' positions hold.
  const runs = adjacentRuns(dims, x.ndim).reverse();
  runs.forEach(([first, last], pass) => {
    const outer = numel(current.slice(0, first));
    const R = numel(current.slice(first, last + 1));
    const inner = numel(current.slice(last + 1));
    current = current.map((d, i) => (i >= first && i <= last ? 1 : d));
    // Size-1 dims do not move elements: the last pass writes the result's shape directly.
    const out = output(rt, pass === runs.length - 1 ? shape : current, 'float32', op);
    const outputs = outer * inner;
    // Few outputs over a long run: a workgroup per output; otherwise an invocation per output.
    const perGroup = R >= 512 && outputs <= 4096;
    rt.scheduler.record({
      kernel: perGroup ? reducePerGroupKernel : reducePerOutputKernel,
      params: new Params()
        .u(outer, R, inner)
        .f(mean ? 1 / R : 1)
        .done(),
      storages: [src.storage, out.storage],
      workgroups: perGroup ? grid1d(outputs, 1) : grid1d(outputs),
    });
    if (src !== x) src.dispose();
    src = out;
  });
  return src;
}

/** The gradient of a reduction: g put back on the reduced dims and broadcast over them, as a view. */
export function expandReduced(g: Tensor, x: Tensor, attrs: ReduceAttrs): Tensor {
  const dims = reduceDims('sum', attrs.axis, x.ndim);
  const kept = g.reshape(reducedShape(x.shape, dims, true));
  return kept.expand(x.shape);
}
