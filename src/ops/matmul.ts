// matmul: C[M, N] = A[M, K] · B[K, N] for 2-D tensors. A transposed operand is a view with swapped
// strides and is read in place by the kernel, so the backward pass (G·Bᵀ, Aᵀ·G) copies nothing.
// Empty operands follow PyTorch: M or N of 0 gives an empty result, K of 0 a matrix of zeros (the
// sum of no products).

import { fmtShape, ShapeError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { checkBufferLimits, filled, output, requireFloat } from './common.js';
import { host } from './host.js';
import { matmulLaunch, matmulParams } from './matmul_tuning.js';
import type { OpDef } from './op.js';

function validate(a: Tensor, b: Tensor): void {
  requireFloat('matmul', a, 'the left operand');
  requireFloat('matmul', b, 'the right operand');
  if (a.ndim !== 2 || b.ndim !== 2) {
    throw new ShapeError(`matmul: both operands must be 2-D, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}.`);
  }
  if (a.shape[1] !== b.shape[0]) {
    throw new ShapeError(`matmul: inner dimensions differ: ${fmtShape(a.shape)} · ${fmtShape(b.shape)} (${a.shape[1]} ≠ ${b.shape[0]}).`);
  }
}

export function recordMatmul(a: Tensor, b: Tensor): Tensor {
  validate(a, b);
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1]!;
  const rt = a.runtime;
  checkBufferLimits(rt, 'matmul', [M, N]);
  if (K === 0) return filled(rt, [M, N], 0, 'float32', 'matmul');
  const out = output(rt, [M, N], 'float32', 'matmul');
  if (M * N === 0) return out;
  const params = matmulParams(a, b);
  // The kernel and workgroup shape this device was given (see matmul_tuning.ts).
  rt.scheduler.record({ ...matmulLaunch(rt, M, N, { bias: false }), params, storages: [a.storage, b.storage, out.storage] });
  return out;
}

export const matmul: OpDef<Record<string, never>> = {
  forward: ([a, b]) => recordMatmul(a!, b!),
  vjp: (g, { inputs: [a, b] }) => [a!.requiresGrad ? g.matmul(b!.transpose()) : null, b!.requiresGrad ? a!.transpose().matmul(g) : null],
  jvp: ([ta, tb], { inputs: [a, b] }) => {
    const da = ta ? ta.matmul(b!) : null;
    const db = tb ? a!.matmul(tb) : null;
    if (da && db) return da.add(db);
    return da ?? db;
  },
  reference: ([a, b]) => {
    const [M, K] = a!.shape as [number, number];
    const N = b!.shape[1]!;
    const c = host([M, N]);
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a!.data[i * K + k]! * b!.data[k * N + j]!;
        c.data[i * N + j] = s;
      }
    }
    return c;
  },
};
