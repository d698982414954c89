// softmax and logSoftmax along one dimension (any; negative counts from the end) and logsumexp
// over one dimension or a list of them (an empty list: all, as in PyTorch), each one fused
// dispatch (shaders/softmax.wgsl) that works relative to the row's max, so huge logits stay exact
// and −inf entries give exactly 0 (log-softmax: −inf). As in PyTorch: NaN in a row makes it NaN;
// softmax of a row with +inf, or of only −inf, is NaN; logsumexp of a row with +inf is +inf
// and of only −inf (or of nothing) is −inf. A 0-d tensor takes dim 0 or -1 (softmax of it is 1).

import type { Kernel } from '../runtime/pipelines.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { type HostTensor, host, hostNumel } from './host.js';
import { logSoftmaxKernel, logsumexpKernel, softmaxKernel } from './kernels.js';
import type { OpDef } from './op.js';
import { inversePermutation } from './permute.js';
import { hostGroups, type ReduceDims, type RowLayout, reduceAxis, reduceDims, reducedShape, rowLayout, rowsInput } from './reduce.js';

export interface SoftmaxAttrs {
  dim: number;
}

export interface LogsumexpAttrs {
  dim: number | readonly number[];
  keepdim: boolean;
}

/** The row layout [outer, R, inner] of x along `dim` (a 0-d tensor is one row of one). */
function rows(op: string, x: { shape: readonly number[] }, dim: number): RowLayout {
  const axis = reduceAxis(op, dim, x.shape.length);
  if (axis === null) return { dims: null, outer: 1, R: 1, inner: 1, order: null };
  return { dims: [axis], outer: hostNumel(x.shape.slice(0, axis)), R: x.shape[axis]!, inner: hostNumel(x.shape.slice(axis + 1)), order: null };
}

function record(op: string, kernel: Kernel, x: Tensor, layout: RowLayout, outShape: readonly number[]): Tensor {
  requireFloat(op, x, 'the input');
  const { outer, R, inner } = layout;
  const rt = x.runtime;
  // logsumexp over nothing is log 0 = −inf; softmax over nothing has no elements to write.
  if (R === 0) return filled(rt, outShape, -Infinity, 'float32', op);
  const out = output(rt, outShape, 'float32', op);
  if (outer * inner === 0) return out;
  const src = rowsInput(op, x, layout);
  rt.scheduler.record({
    kernel,
    params: new Params().u(outer, R, inner).done(),
    storages: [src.storage, out.storage],
    workgroups: grid1d(outer * inner),
  });
  if (src !== x) src.dispose();
  return out;
}

/** Σ over dim, kept as size 1 so it broadcasts back over the row. */
const rowSum = (t: Tensor, dim: number): Tensor => t.sum(dim, true);

/** The reference's loop over rows: `visit` gets a row's values, its flat positions in x, and its index. */
function hostRows(x: HostTensor, dim: number, visit: (row: number[], at: (r: number) => number, index: number) => void): void {
  const { outer, R, inner } = rows('reference', x, dim);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = (r: number): number => (o * R + r) * inner + j;
      visit(
        Array.from({ length: R }, (_, r) => x.data[at(r)]!),
        at,
        o * inner + j,
      );
    }
  }
}

/** The row's shift (its max; for logsumexp only when finite) and Σ exp(x − shift), in float64. */
function shifted(row: number[], finiteShiftOnly: boolean): { shift: number; sum: number } {
  let m = -Infinity;
  for (const v of row) if (Number.isNaN(v) || v > m) m = v;
  const shift = finiteShiftOnly && !Number.isFinite(m) ? 0 : m;
  return { shift, sum: row.reduce((s, v) => s + Math.exp(v - shift), 0) };
}

/** A reference of x's shape: `f` maps a row to its outputs. */
function hostRowMap(x: HostTensor, dim: number, f: (row: number[]) => number[]): HostTensor {
  const out = host(x.shape);
  hostRows(x, dim, (row, at) => {
    f(row).forEach((v, r) => {
      out.data[at(r)] = v;
    });
  });
  return out;
}

export const softmax: OpDef<SoftmaxAttrs> = {
  forward: ([x], { dim }) => record('softmax', softmaxKernel, x!, rows('softmax', x!, dim), x!.shape),
  // dx = y · (g − Σ g·y): the Jacobian of softmax applied to g.
  vjp: (g, { output: y, attrs: { dim } }) => [y.mul(g.sub(rowSum(g.mul(y), dim)))],
  jvp: ([tx], { output: y, attrs: { dim } }) => (tx ? y.mul(tx.sub(rowSum(tx.mul(y), dim))) : null),
  reference: ([x], { dim }) =>
    hostRowMap(x!, dim, (row) => {
      const { shift, sum } = shifted(row, false);
      return row.map((v) => Math.exp(v - shift) / sum);
    }),
};

export const logSoftmax: OpDef<SoftmaxAttrs> = {
  forward: ([x], { dim }) => record('logSoftmax', logSoftmaxKernel, x!, rows('logSoftmax', x!, dim), x!.shape),
  // dx = g − softmax(x) · Σ g.
  vjp: (g, { inputs: [x], attrs: { dim } }) => [g.sub(x!.softmax(dim).mul(rowSum(g, dim)))],
  jvp: ([tx], { inputs: [x], attrs: { dim } }) => (tx ? tx.sub(rowSum(x!.softmax(dim).mul(tx), dim)) : null),
  reference: ([x], { dim }) =>
    hostRowMap(x!, dim, (row) => {
      const { shift, sum } = shifted(row, false);
      return row.map((v) => v - shift - Math.log(sum));
    }),
};

/**
 * softmax over the reduced dims (logsumexp's gradient): through the fused softmax, on rows made by
 * moving the reduced dims last, since exp(x − logsumexp) loses precision next to huge values.
 */
function softmaxOver(x: Tensor, dim: ReduceDims): Tensor {
  const dims = reduceDims('logsumexp', dim, x.ndim) ?? x.shape.map((_, i) => i);
  if (dims.length === 1) return x.softmax(dims[0]!);
  const order = [...x.shape.map((_, i) => i).filter((i) => !dims.includes(i)), ...dims];
  const reordered = order.map((d) => x.shape[d]!);
  const kept = reordered.slice(0, reordered.length - dims.length);
  const rows = x.permute(order).reshape([...kept, hostNumel(dims.map((d) => x.shape[d]!))]);
  return rows.softmax(-1).reshape(reordered).permute(inversePermutation(order));
}

export const logsumexp: OpDef<LogsumexpAttrs> = {
  forward: ([x], { dim, keepdim }) => {
    const layout = rowLayout('logsumexp', x!.shape, dim);
    return record('logsumexp', logsumexpKernel, x!, layout, reducedShape(x!.shape, layout.dims, keepdim));
  },
  // dx = g · softmax(x) over the reduced dims, g put back on them.
  vjp: (g, { inputs: [x], attrs: { dim } }) => [softmaxOver(x!, dim).mul(g.reshape(reducedShape(x!.shape, reduceDims('logsumexp', dim, x!.ndim), true)))],
  jvp: ([tx], { inputs: [x], attrs: { dim, keepdim } }) => (tx ? softmaxOver(x!, dim).mul(tx).sum(dim, keepdim) : null),
  reference: ([x], { dim, keepdim }) => {
    const { shape, groups } = hostGroups(x!, reduceDims('logsumexp', dim, x!.shape.length), keepdim);
    const out = host(shape);
    groups.forEach((row, i) => {
      const { shift, sum } = shifted(row, true);
      out.data[i] = Math.log(sum) + shift;
    });
    return out;
  },
};
