// crossEntropy: mean softmax cross-entropy of logits [N, C] against int32 class labels [N],
// as PyTorch's nn.CrossEntropyLoss (reduction 'mean'). Exact for huge logits: each row's loss is
// log Σ exp(x − m) − (x_y − m), m the row max. An empty batch gives NaN (the mean of no rows), as
// in PyTorch. Its gradient is (softmax − onehot) · g / N. While gradients are recorded, the forward
// kernel also writes that gradient for g = 1 (the usual case: backward() from the loss itself), so
// backward costs no dispatch; any other g scales it, and without a saved one a kernel computes it.

import { full } from '../creation.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { type HostTensor, host } from './host.js';
import { crossEntropyBackwardKernel, crossEntropyForwardGradKernel, crossEntropyForwardKernel } from './kernels.js';
import type { OpDef } from './op.js';
import { denseInput } from './reshape.js';

function validate(logits: Tensor, labels: Tensor): void {
  requireFloat('crossEntropy', logits, 'the logits');
  if (labels.dtype !== 'int32') {
    throw new DTypeError(`crossEntropy: labels must be int32 class indices, got ${labels.dtype} (shape ${fmtShape(labels.shape)}).`);
  }
  if (logits.ndim !== 2) throw new ShapeError(`crossEntropy: logits must be 2-D [batch, classes], got ${fmtShape(logits.shape)}.`);
  if (labels.ndim !== 1) throw new ShapeError(`crossEntropy: labels must be 1-D [batch], got ${fmtShape(labels.shape)}.`);
  const [N, C] = logits.shape as [number, number];
  if (labels.shape[0] !== N) {
    throw new ShapeError(
      `crossEntropy: logits ${fmtShape(logits.shape)} and labels ${fmtShape(labels.shape)} have different batch sizes (${N} ≠ ${labels.shape[0]}).`,
    );
  }
  const checkRange = (t: Tensor): void => {
    if (t.hostRange && (t.hostRange[0] < 0 || t.hostRange[1] >= C)) {
      const bad = t.hostRange[0] < 0 ? t.hostRange[0] : t.hostRange[1];
      throw new ValueError(`crossEntropy: label ${bad} is outside [0, ${C}) for logits ${fmtShape(logits.shape)}.`);
    }
  };
  checkRange(labels);
  // In a captured step the labels are an input slot: every replay checks its new labels the same way.
  labels.runtime.scheduler.addInputCheck(labels.storage, checkRange);
}

const contiguous = (t: Tensor): Tensor => denseInput('crossEntropy', t);

/** d loss / d logits = g · (softmax(logits) − onehot(labels)) / N, where g is the upstream scalar. */
export function crossEntropyBackward(logits: Tensor, labels: Tensor, g: Tensor): Tensor {
  const [N, C] = logits.shape as [number, number];
  const x = contiguous(logits);
  const dx = output(logits.runtime, [N, C], 'float32', 'crossEntropy backward');
  if (N * C === 0) return dx;
  logits.runtime.scheduler.record({
    kernel: crossEntropyBackwardKernel,
    params: new Params().u(N, C).done(),
    storages: [x.storage, labels.storage, g.storage, dx.storage],
    workgroups: grid1d(N),
  });
  if (x !== logits) x.dispose();
  return dx;
}

function softmaxRow(x: Float64Array, base: number, C: number): Float64Array {
  let m = -Infinity;
  for (let c = 0; c < C; c++) m = Math.max(m, x[base + c]!);
  const p = new Float64Array(C);
  let s = 0;
  for (let c = 0; c < C; c++) s += p[c] = Math.exp(x[base + c]! - m);
  for (let c = 0; c < C; c++) p[c]! /= s;
  return p;
}

export function crossEntropyBackwardReference(logits: HostTensor, labels: HostTensor, g: number): HostTensor {
  const [N, C] = logits.shape as [number, number];
  const out = host([N, C]);
  for (let i = 0; i < N; i++) {
    const p = softmaxRow(logits.data, i * C, C);
    for (let c = 0; c < C; c++) out.data[i * C + c] = (g * (p[c]! - (labels.data[i] === c ? 1 : 0))) / N;
  }
  return out;
}

export const crossEntropy: OpDef<Record<string, never>> = {
  forward: ([logits, labels], _attrs, ctx) => {
    validate(logits!, labels!);
    const [N, C] = logits!.shape as [number, number];
    const rt = logits!.runtime;
    if (N * C === 0) {
      // No rows: the mean of nothing. No classes: every label (only GPU-made ones get here) is out
      // of range. Either way NaN; the gradient (backward's kernel path) has no elements.
      return filled(rt, [], NaN, 'float32', 'crossEntropy');
    }
    const x = contiguous(logits!);
    const loss = output(rt, []);
    if (ctx.recording) {
      // Kept for vjp: backward() from the loss itself then costs no dispatch.
      const unitGrad = output(rt, [N, C], 'float32', 'crossEntropy');
      rt.scheduler.record({
        kernel: crossEntropyForwardGradKernel,
        params: new Params().u(N, C).done(),
        storages: [x.storage, labels!.storage, loss.storage, unitGrad.storage],
        workgroups: [1, 1, 1],
      });
      ctx.save(unitGrad);
    } else {
      rt.scheduler.record({
        kernel: crossEntropyForwardKernel,
        params: new Params().u(N, C).done(),
        storages: [x.storage, labels!.storage, loss.storage],
        workgroups: [1, 1, 1],
      });
    }
    if (x !== logits) x.dispose();
    return loss;
  },
  vjp: (g, { inputs: [logits, labels], saved: [unitGrad], gradIsOnes }) => {
    if (!unitGrad || unitGrad.isDisposed) return [crossEntropyBackward(logits!, labels!, g), null];
    // A view, so whoever disposes the returned gradient leaves the saved one alone.
    return [gradIsOnes ? unitGrad.detach() : unitGrad.mul(g), null];
  },
  jvp: ([tLogits], { inputs: [logits, labels] }) => {
    if (!tLogits) return null;
    const one = full([], 1);
    return crossEntropyBackward(logits!, labels!, one).mul(tLogits).sum();
  },
  reference: ([logits, labels]) => {
    const [N, C] = logits!.shape as [number, number];
    let total = 0;
    for (let i = 0; i < N; i++) {
      const y = labels!.data[i]!;
      if (!(y >= 0 && y < C)) return host([], [NaN]);
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, logits!.data[i * C + c]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(logits!.data[i * C + c]! - m);
      total += Math.log(s) - (logits!.data[i * C + y]! - m);
    }
    return host([], [total / N]);
  },
};
