// crossEntropy: mean softmax cross-entropy of logits [N, C] against int32 class labels [N],
// as PyTorch's nn.CrossEntropyLoss (reduction 'mean'). Exact for huge logits: each row's loss is
// log Σ exp(x − m) − (x_y − m), m the row max. Rows labelled `ignoreIndex` add nothing and the mean
// is over the K others, in the kernel itself: the result never depends on which labels the host
// happens to know. An empty batch (or none kept) gives NaN (the mean of no rows), as in PyTorch.
// Its gradient is (softmax − onehot) · g / K, 0 on ignored rows. While gradients are recorded, the forward
// kernel also writes that gradient for g = 1 (the usual case: backward() from the loss itself), so
// backward costs no dispatch; any other g scales it, and without a saved one a kernel computes it.

import { full } from '../creation.js';
import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { type HostTensor, host } from './host.js';
import {
  crossEntropyBackwardKernel,
  crossEntropyForwardGradKernel,
  crossEntropyForwardGradSerialKernel,
  crossEntropyForwardKernel,
  crossEntropyForwardSerialKernel,
} from './kernels.js';
import type { OpDef } from './op.js';
import { denseInput } from './reshape.js';

export interface CrossEntropyAttrs {
  /** Labels equal to it add nothing, and the mean is over the others (PyTorch's ignore_index). */
  ignoreIndex: number;
}

function validate(logits: Tensor, labels: Tensor, { ignoreIndex }: CrossEntropyAttrs): void {
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
  if (!Number.isInteger(ignoreIndex)) throw new ValueError(`crossEntropy: ignoreIndex must be an integer, got ${ignoreIndex}.`);
  const checkRange = (t: Tensor): void => {
    // An empty tensor's range is [+inf, −inf]: nothing to check.
    if (!t.hostRange || t.hostRange[0] > t.hostRange[1]) return;
    for (const v of t.hostRange) {
      if (v !== ignoreIndex && (v < 0 || v >= C)) {
        throw new ValueError(`crossEntropy: label ${v} is outside [0, ${C}) for logits ${fmtShape(logits.shape)} and is not ignoreIndex ${ignoreIndex}.`);
      }
    }
  };
  checkRange(labels);
  // In a captured step the labels are an input slot: every replay checks its new labels the same
  // way. A replay checks the whole argument, so only labels that are all of it (not a part, whose
  // range is unknown, as in the eager call) get the check.
  if (labels.coversStorage) labels.runtime.scheduler.addInputCheck(labels.storage, checkRange);
}

const contiguous = (t: Tensor): Tensor => denseInput('crossEntropy', t);

/** Up to this many rows, and logits in all, the loss runs in one invocation (see forward). */
const SERIAL_ROWS = 64;
const SERIAL_LOGITS = 8192;

/** The kernels' parameters: N, C, the zero NaN is made from, and ignoreIndex (two's-complement bits, read as i32). */
const params = (N: number, C: number, ignoreIndex: number): Uint32Array<ArrayBuffer> => new Params().u(N, C, 0, ignoreIndex).done();

/**
 * d loss / d logits = g · (softmax(logits) − onehot(labels)) / K, where g is the upstream scalar and
 * K the rows whose label is not ignoreIndex (their gradient rows are 0).
 */
export function crossEntropyBackward(logits: Tensor, labels: Tensor, g: Tensor, ignoreIndex = -100): Tensor {
  const [N, C] = logits.shape as [number, number];
  const dx = output(logits.runtime, [N, C], 'float32', 'crossEntropy backward');
  if (N * C === 0) return dx;
  const x = contiguous(logits);
  const y = contiguous(labels);
  logits.runtime.scheduler.record({
    kernel: crossEntropyBackwardKernel,
    params: params(N, C, ignoreIndex),
    storages: [x.storage, y.storage, g.storage, dx.storage],
    workgroups: grid1d(N),
  });
  if (x !== logits) x.dispose();
  if (y !== labels) y.dispose();
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

export function crossEntropyBackwardReference(logits: HostTensor, labels: HostTensor, g: number, ignoreIndex = -100): HostTensor {
  const [N, C] = logits.shape as [number, number];
  const out = host([N, C]);
  const kept = labels.data.filter((y) => y !== ignoreIndex).length;
  for (let i = 0; i < N; i++) {
    if (labels.data[i] === ignoreIndex) continue;
    const p = softmaxRow(logits.data, i * C, C);
    for (let c = 0; c < C; c++) out.data[i * C + c] = (g * (p[c]! - (labels.data[i] === c ? 1 : 0))) / kept;
  }
  return out;
}

export const crossEntropy: OpDef<CrossEntropyAttrs> = {
  forward: ([logits, labels], attrs, ctx) => {
    validate(logits!, labels!, attrs);
    const [N, C] = logits!.shape as [number, number];
    const rt = logits!.runtime;
    if (N * C === 0) {
      // No rows: the mean of nothing. No classes: every label (only GPU-made ones get here) is out
      // of range. Either way NaN; the gradient (backward's kernel path) has no elements.
      return filled(rt, [], NaN, 'float32', 'crossEntropy');
    }
    const x = contiguous(logits!);
    // The kernels read labels from the start of their storage: a view (a batch narrowed out of more) is made dense.
    const y = contiguous(labels!);
    const loss = output(rt, []);
    // Small batches: one invocation in order (kernels.ts, the serial kernels); the rows are few
    // enough that walking them costs less than a wide workgroup's barriers, on any adapter.
    const serial = N <= SERIAL_ROWS && N * C <= SERIAL_LOGITS;
    if (ctx.recording) {
      // Kept for vjp: backward() from the loss itself then costs no dispatch.
      const unitGrad = output(rt, [N, C], 'float32', 'crossEntropy');
      rt.scheduler.record({
        kernel: serial ? crossEntropyForwardGradSerialKernel : crossEntropyForwardGradKernel,
        params: params(N, C, attrs.ignoreIndex),
        storages: [x.storage, y.storage, loss.storage, unitGrad.storage],
        workgroups: [1, 1, 1],
      });
      ctx.save(unitGrad);
    } else {
      rt.scheduler.record({
        kernel: serial ? crossEntropyForwardSerialKernel : crossEntropyForwardKernel,
        params: params(N, C, attrs.ignoreIndex),
        storages: [x.storage, y.storage, loss.storage],
        workgroups: [1, 1, 1],
      });
    }
    if (x !== logits) x.dispose();
    if (y !== labels) y.dispose();
    return loss;
  },
  vjp: (g, { inputs: [logits, labels], attrs, saved: [unitGrad], gradIsOnes }) => {
    if (!unitGrad || unitGrad.isDisposed) return [crossEntropyBackward(logits!, labels!, g, attrs.ignoreIndex), null];
    // A view, so whoever disposes the returned gradient leaves the saved one alone.
    return [gradIsOnes ? unitGrad.detach() : unitGrad.mul(g), null];
  },
  jvp: ([tLogits], { inputs: [logits, labels], attrs }) => {
    if (!tLogits) return null;
    const one = full([], 1);
    return crossEntropyBackward(logits!, labels!, one, attrs.ignoreIndex).mul(tLogits).sum();
  },
  reference: ([logits, labels], attrs) => {
    const [N, C] = logits!.shape as [number, number];
    let total = 0;
    let kept = 0;
    for (let i = 0; i < N; i++) {
      const y = labels!.data[i]!;
      if (y === attrs.ignoreIndex) continue;
      kept++;
      if (!(y >= 0 && y < C)) return host([], [NaN]);
      let m = -Infinity;
      for (let c = 0; c < C; c++) m = Math.max(m, logits!.data[i * C + c]!);
      let s = 0;
      for (let c = 0; c < C; c++) s += Math.exp(logits!.data[i * C + c]! - m);
      total += Math.log(s) - (logits!.data[i * C + y]! - m);
    }
    return host([], [total / kept]);
  },
};
