// matmul as PyTorch's torch.matmul: 1-D·1-D is a dot product, a 1-D operand on either side becomes
// a matrix (a row on the left, a column on the right) whose added dimension is removed from the
// result, and operands of 3 or more dimensions are stacks of matrices whose batch dimensions
// broadcast against each other ([B, H, T, D]·[B, H, D, T] in attention). One dispatch: the kernels
// index the batch themselves. A transposed operand is a view with swapped strides and is read in
// place, so the backward pass (G·Bᵀ, Aᵀ·G) copies nothing. Empty operands follow PyTorch: an empty
// M, N or batch gives an empty result, K of 0 zeros (the sum of no products).

import { fmtShape, ShapeError } from '../errors.js';
import { numel, Tensor } from '../tensor.js';
import { checkBufferLimits, filled, output, requireFloat } from './common.js';
import { recordUnary, sumToShape, UnaryOp } from './elementwise.js';
import { broadcastShapes, host } from './host.js';
import { type MatmulBatch, matmulLaunch } from './matmul_tuning.js';
import type { OpDef } from './op.js';

/** The shapes of a product: its broadcast batch, M, K, N, and the result's shape. */
export interface MatmulShapes {
  batch: number[];
  M: number;
  K: number;
  N: number;
  out: number[];
}

/** Checks the operands' shapes as torch.matmul does (`op` names the caller in errors). */
export function matmulShapes(a: readonly number[], b: readonly number[], op = 'matmul'): MatmulShapes {
  if (a.length === 0 || b.length === 0) {
    throw new ShapeError(`${op}: both operands must have at least 1 dimension, got ${fmtShape(a)} and ${fmtShape(b)}.`);
  }
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const [M, K] = a2.slice(-2) as [number, number];
  const [Kb, N] = b2.slice(-2) as [number, number];
  if (K !== Kb) throw new ShapeError(`${op}: inner dimensions differ: ${fmtShape(a)} · ${fmtShape(b)} (${K} ≠ ${Kb}).`);
  const batch = broadcastShapes(a2.slice(0, -2), b2.slice(0, -2));
  if (!batch) {
    throw new ShapeError(
      `${op}: batch dimensions ${fmtShape(a2.slice(0, -2))} and ${fmtShape(b2.slice(0, -2))} of ${fmtShape(a)} · ${fmtShape(b)} do not broadcast.`,
    );
  }
  const out = [...batch, ...(a.length === 1 ? [] : [M]), ...(b.length === 1 ? [] : [N])];
  return { batch, M, K, N, out };
}

/** torch.bmm's stricter rule: both operands 3-D with the same batch size and matching inner dimensions. Returns mat2. */
export function checkBmm(input: Tensor, mat2: Tensor): Tensor {
  const [a, b] = [input.shape, mat2.shape];
  if (a.length !== 3 || b.length !== 3) throw new ShapeError(`bmm: both operands must be 3-D, got ${fmtShape(a)} and ${fmtShape(b)}.`);
  if (a[0] !== b[0])
    throw new ShapeError(`bmm: batch sizes differ: ${fmtShape(a)} · ${fmtShape(b)} (${a[0]} ≠ ${b[0]}); matmul broadcasts them, bmm does not.`);
  if (a[2] !== b[1]) throw new ShapeError(`bmm: inner dimensions differ: ${fmtShape(a)} · ${fmtShape(b)} (${a[2]} ≠ ${b[1]}).`);
  return mat2;
}

/** A 1-D operand as the matrix torch.matmul makes of it (a row on the left, a column on the right), as a view. */
function asMatrix(t: Tensor, side: 'left' | 'right'): Tensor {
  if (t.ndim !== 1) return t;
  const [n, s] = [t.shape[0]!, t.strides[0]!];
  return side === 'left'
    ? new Tensor(t.runtime, t.storage, [1, n], t.dtype, [0, s], t.offset)
    : new Tensor(t.runtime, t.storage, [n, 1], t.dtype, [s, 0], t.offset);
}

/** Batch dimensions of size > 1 with each operand's stride (0 where broadcast), adjacent ones merged where both allow. */
function batchDims(batch: readonly number[], a: Tensor, b: Tensor): { size: number; a: number; b: number }[] {
  const strideOf = (t: Tensor, d: number): number => {
    const i = d - (batch.length - (t.ndim - 2));
    return i < 0 || t.shape[i] === 1 ? 0 : t.strides[i]!;
  };
  const dims: { size: number; a: number; b: number }[] = [];
  batch.forEach((size, d) => {
    if (size === 1) return;
    const cur = { size, a: strideOf(a, d), b: strideOf(b, d) };
    const prev = dims.at(-1);
    if (prev && prev.a === cur.a * size && prev.b === cur.b * size) dims[dims.length - 1] = { size: prev.size * size, a: cur.a, b: cur.b };
    else dims.push(cur);
  });
  return dims;
}

/** A contiguous copy of t broadcast to [...batch, rows, cols] (when batch strides cannot be indexed in two dimensions). */
function materialize(t: Tensor, batch: readonly number[]): Tensor {
  const lead = batch.length - (t.ndim - 2);
  const strides = batch.map((_size, d) => (d < lead || t.shape[d - lead] === 1 ? 0 : t.strides[d - lead]!));
  const view = new Tensor(t.runtime, t.storage, [...batch, ...t.shape.slice(-2)], t.dtype, [...strides, ...t.strides.slice(-2)], t.offset);
  const copy = recordUnary('matmul', UnaryOp.copy, view);
  view.dispose();
  return copy;
}

/**
 * Records a·b (torch.matmul's shapes). `rowBias`: a dense [M] tensor at offset 0 added to every
 * row i of each product (a convolution's bias per output channel), in the matmul's epilogue.
 */
export function recordMatmul(a: Tensor, b: Tensor, op = 'matmul', rowBias?: Tensor): Tensor {
  requireFloat(op, a, 'the left operand');
  requireFloat(op, b, 'the right operand');
  const { batch, K, out: outShape } = matmulShapes(a.shape, b.shape, op);
  const rt = a.runtime;
  checkBufferLimits(rt, op, outShape);
  if (K === 0 && rowBias) throw new Error(`internal: ${op}: a row bias on a product with K = 0.`);
  if (K === 0) return filled(rt, outShape, 0, 'float32', op);
  const out = output(rt, outShape, 'float32', op);
  if (numel(outShape) === 0) return out;
  const temps: Tensor[] = [];
  let [a2, b2] = [asMatrix(a, 'left'), asMatrix(b, 'right')];
  for (const [t, m] of [
    [a, a2],
    [b, b2],
  ] as const)
    if (m !== t) temps.push(m);
  let dims = batchDims(batch, a2, b2);
  if (dims.length > 2) {
    [a2, b2] = [materialize(a2, batch), materialize(b2, batch)];
    temps.push(a2, b2);
    dims = batchDims(batch, a2, b2);
  }
  const layout: MatmulBatch = {
    count: numel(batch),
    inner: dims[1]?.size ?? 1,
    a: [dims[0]?.a ?? 0, dims[1]?.a ?? 0],
    b: [dims[0]?.b ?? 0, dims[1]?.b ?? 0],
  };
  // The kernel and workgroup shape this device was given (see matmul_tuning.ts).
  rt.scheduler.record({
    ...matmulLaunch(rt, a2, b2, { bias: rowBias !== undefined, biasPerRow: true }, layout),
    storages: rowBias ? [a2.storage, b2.storage, rowBias.storage, out.storage] : [a2.storage, b2.storage, out.storage],
  });
  for (const t of temps) t.dispose();
  return out;
}

/** The gradient of a broadcast/1-D operand: summed over the batch dimensions it was broadcast along, in its shape. */
function toOperand(g: Tensor, matrixShape: readonly number[], shape: readonly number[]): Tensor {
  const r = sumToShape(g, matrixShape);
  return r.ndim === shape.length ? r : r.reshape(shape);
}

export const matmul: OpDef<Record<string, never>> = {
  forward: ([a, b]) => recordMatmul(a!, b!),
  vjp: (g, { inputs: [a, b] }) => {
    // As matrices: a 1-D operand, and g, get back the dimension of size 1 the forward removed.
    const a2 = a!.ndim === 1 ? a!.reshape([1, a!.shape[0]!]) : a!;
    const b2 = b!.ndim === 1 ? b!.reshape([b!.shape[0]!, 1]) : b!;
    const { batch, M, N } = matmulShapes(a!.shape, b!.shape);
    const g2 = a!.ndim === 1 || b!.ndim === 1 ? g.reshape([...batch, M, N]) : g;
    return [
      a!.requiresGrad ? toOperand(g2.matmul(b2.transpose(-2, -1)), a2.shape, a!.shape) : null,
      b!.requiresGrad ? toOperand(a2.transpose(-2, -1).matmul(g2), b2.shape, b!.shape) : null,
    ];
  },
  jvp: ([ta, tb], { inputs: [a, b] }) => {
    const da = ta ? ta.matmul(b!) : null;
    const db = tb ? a!.matmul(tb) : null;
    if (da && db) return da.add(db);
    return da ?? db;
  },
  reference: ([a, b]) => {
    const { batch, M, K, N, out: outShape } = matmulShapes(a!.shape, b!.shape);
    const c = host(outShape);
    // Row-major offset of batch index `i` (of `batch`) in an operand whose batch shape is `own`.
    const batchOffset = (own: readonly number[], i: number, matrix: number): number => {
      let off = 0;
      let stride = matrix;
      for (let d = batch.length - 1, rest = i; d >= 0; d--) {
        const idx = rest % batch[d]!;
        rest = Math.floor(rest / batch[d]!);
        const od = d - (batch.length - own.length);
        if (od < 0) continue;
        if (own[od] !== 1) off += idx * stride;
        stride *= own[od]!;
      }
      return off;
    };
    const aBatch = a!.shape.length > 2 ? a!.shape.slice(0, -2) : [];
    const bBatch = b!.shape.length > 2 ? b!.shape.slice(0, -2) : [];
    for (let p = 0; p < numel(batch); p++) {
      const ao = batchOffset(aBatch, p, M * K);
      const bo = batchOffset(bBatch, p, K * N);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 0;
          for (let k = 0; k < K; k++) s += a!.data[ao + i * K + k]! * b!.data[bo + k * N + j]!;
          c.data[p * M * N + i * N + j] = s;
        }
      }
    }
    return c;
  },
};
