// Assembling a tensor from pieces along one dimension, zeros where no piece lies: cat and stack
// (pieces side by side), narrow's gradient (one piece), and backward's sum of the gradients of
// disjoint narrows of one tensor (autograd.ts: q, k and v cut from one projection). One dispatch
// places up to MAX_ASSEMBLED pieces and writes every element once; more pieces take further
// dispatches, each reading the partial result as its first piece. Pieces are read through their
// strides (a permuted gradient needs no copy first).

import { type DType, numel, Tensor } from '../tensor.js';
import { filled } from './common.js';
import { recordMap } from './elementwise.js';
import { ASSEMBLE_PARAMS, assembleKernels, MAX_ASSEMBLED } from './index_kernels.js';

/** A piece: `t` lies at start … start + t.shape[d] − 1 of the result's dimension d. */
export interface Piece {
  t: Tensor;
  start: number;
}

/**
 * How pieces combine. 'copy' (cat, stack, one narrow's gradient) copies their bits: −0 and NaN
 * payloads survive. 'sum' (float32 only) is what adding the zero-padded pieces gives, as PyTorch
 * sums the gradients of several narrows: each element is its piece's value + 0, so −0 becomes +0.
 */
export type AssembleMode = 'copy' | 'sum';

/**
 * The tensor of `shape` (and `dtype`, the pieces' own) holding each piece at its place along d and
 * zeros elsewhere. Pieces must be in order of `start` and must not overlap; empty ones are skipped.
 */
export function assemble(
  op: string,
  rt: Tensor['runtime'],
  pieces: readonly Piece[],
  shape: readonly number[],
  d: number,
  dtype: DType,
  mode: AssembleMode = 'copy',
): Tensor {
  const rest = pieces.filter((p) => p.t.shape[d]! > 0);
  if (rest.length === 0 || numel(shape) === 0) return filled(rt, [...shape], 0, dtype, op);
  // Every dtype here is 32 bits wide: copying words copies float32 bits exactly.
  const kernels = mode === 'sum' ? assembleKernels.f32Sum : assembleKernels.words;
  const [inner, size] = [numel(shape.slice(d + 1)), shape[d]!];
  let partial: Tensor | null = null;
  let covered = 0;
  while (rest.length > 0) {
    // After the first dispatch, the partial result is piece 0: it holds everything before `covered`.
    const batch: { t: Tensor; start: number; len: number }[] = partial ? [{ t: partial, start: 0, len: covered }] : [];
    // A storage is bound once per dispatch: a piece that shares one with another in the batch (views
    // of one tensor, one gradient handed to two slices) waits for the next dispatch.
    while (rest.length > 0 && batch.length < MAX_ASSEMBLED && !batch.some((b) => b.t.storage === rest[0]!.t.storage)) {
      const p = rest.shift()!;
      batch.push({ ...p, len: p.t.shape[d]! });
    }
    const extra: Record<string, number> = { inner, size };
    const shifted = batch.map(({ t, start, len }, k) => {
      extra[`start${k}`] = start;
      extra[`len${k}`] = len;
      // The piece seen in the full shape: its offset moved back by `start` steps along d.
      return new Tensor(rt, t.storage, shape, dtype, t.strides, t.offset - start * t.strides[d]!);
    });
    const next = recordMap(
      op,
      kernels[batch.length - 1]!,
      ASSEMBLE_PARAMS[batch.length - 1]!,
      shifted.map((t, k) => [`g${k}`, t] as [string, Tensor]),
      shape,
      dtype,
      0,
      extra,
    );
    for (const t of shifted) t.dispose();
    partial?.dispose();
    partial = next;
    const last = batch.at(-1)!;
    covered = last.start + last.len;
  }
  return partial!;
}
