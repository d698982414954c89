// Recording of the reduction kernel (shaders/reduce.wgsl) shared by sum and mean, over one dim,
// several, or all of them; and the row layout the other reductions (max, var, norm, logsumexp)
// use to run over a list of dims with their one-dim row kernels.

import { ShapeError } from '../errors.js';
import { contiguousStrides, numel, Tensor } from '../tensor.js';
import { filled, grid1d, normAxis, output, Params, requireFloat } from './common.js';
import { type HostTensor, hostNumel, unravel } from './host.js';
import { reducePerGroupKernel, reducePerOutputKernel } from './kernels.js';
import { contiguousCopy, denseInput } from './reshape.js';

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

/** The dims a reduction runs over, non-negative and ascending; null for all. A dim listed twice is an error, as in PyTorch. */
export function reduceDims(op: string, axis: ReduceDims, ndim: number): number[] | null {
  if (axis === null || typeof axis === 'number') {
    const a = reduceAxis(op, axis, ndim);
    return a === null ? null : [a];
  }
  if (!Array.isArray(axis)) throw new ShapeError(`${op}: dim must be an integer, a list of integers or null, got ${String(axis)}.`);
  // A 0-d tensor has one dim to name (0 or -1), as in PyTorch: naming it twice is still an error.
  const dims = axis.map((a) => {
    if (ndim > 0) return normAxis(op, a, ndim);
    reduceAxis(op, a, 0);
    return 0;
  });
  const sorted = dims.sort((a, b) => a - b);
  const repeated = sorted.find((d, i) => sorted[i - 1] === d);
  if (repeated !== undefined) throw new ShapeError(`${op}: dim ${repeated} appears more than once in the dims ${JSON.stringify(axis)}.`);
  return ndim === 0 || sorted.length === 0 ? null : sorted;
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
    // On CPU adapters the workgroup's barriers cost more than the sums (the MLP's bias gradient at
    // batch 512, 128 column sums of 512: 67 ms on SwiftShader), so there only a handful of sums
    // along the contiguous axis (a whole tensor's) get workgroups.
    const perGroup = R >= 512 && outputs <= 4096 && (rt.profile.cheapBarriers || (inner === 1 && outputs < 8));
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

/**
 * How a reduction over `axis` reads its input as rows [outer, R, inner]: adjacent reduced dims (or
 * all) are rows of the input as it lies; otherwise the input is read in the order [kept dims…,
 * reduced dims…] (`order`), so each output's R elements are one contiguous run.
 */
export interface RowLayout {
  dims: number[] | null;
  outer: number;
  R: number;
  inner: number;
  order: number[] | null;
}

export function rowLayout(op: string, shape: readonly number[], axis: ReduceDims): RowLayout {
  const dims = reduceDims(op, axis, shape.length);
  if (dims === null) return { dims, outer: 1, R: hostNumel(shape), inner: 1, order: null };
  const first = dims[0]!;
  const last = dims[dims.length - 1]!;
  const size = (ds: readonly number[]): number => hostNumel(ds.map((d) => shape[d]!));
  if (last - first + 1 === dims.length) {
    return { dims, outer: hostNumel(shape.slice(0, first)), R: size(dims), inner: hostNumel(shape.slice(last + 1)), order: null };
  }
  const kept = shape.map((_, i) => i).filter((i) => !dims.includes(i));
  return { dims, outer: size(kept), R: size(dims), inner: 1, order: [...kept, ...dims] };
}

/** x's elements dense in the layout's order: x itself when it already is, else a copy (the caller disposes it). */
export function rowsInput(op: string, x: Tensor, layout: RowLayout): Tensor {
  const { order } = layout;
  if (!order) return denseInput(op, x);
  const reordered = new Tensor(
    x.runtime,
    x.storage,
    order.map((d) => x.shape[d]!),
    x.dtype,
    order.map((d) => x.strides[d]!),
    x.offset,
  );
  const dense = contiguousCopy(op, reordered);
  reordered.dispose();
  return dense;
}

/** A tensor of x's size written in the layout's order, seen in x's shape (a view; t is handed over). */
export function fromRows(t: Tensor, x: Tensor, layout: RowLayout): Tensor {
  const { order } = layout;
  if (!order) return t;
  const dense = contiguousStrides(order.map((d) => x.shape[d]!));
  const strides = new Array<number>(x.ndim);
  order.forEach((d, i) => {
    strides[d] = dense[i]!;
  });
  const view = new Tensor(t.runtime, t.storage, x.shape, t.dtype, strides, 0);
  t.dispose();
  return view;
}

/**
 * For references: the values each output of a reduction over `dims` (null: all) reads, in x's
 * row-major order, and the output's shape. Independent of the row layout the kernels use.
 */
export function hostGroups(x: HostTensor, dims: number[] | null, keepdim: boolean): { shape: number[]; groups: number[][] } {
  const reduced = dims ?? x.shape.map((_, i) => i);
  const keptShape = x.shape.map((d, i) => (reduced.includes(i) ? 1 : d));
  const groups = Array.from({ length: hostNumel(keptShape) }, (): number[] => []);
  for (let i = 0; i < x.data.length; i++) {
    const idx = unravel(i, x.shape);
    let flat = 0;
    for (let d = 0; d < idx.length; d++) flat = flat * keptShape[d]! + (reduced.includes(d) ? 0 : idx[d]!);
    groups[flat]!.push(x.data[i]!);
  }
  return { shape: reducedShape(x.shape, dims, keepdim), groups };
}
