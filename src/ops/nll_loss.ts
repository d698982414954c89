// nllLoss: the negative log-likelihood of log-probabilities [N, C] or [N, C, d1, …] against int32
// labels [N] or [N, d1, …], as PyTorch's nll_loss: `ignoreIndex` (default −100) drops a label,
// `labelSmoothing` ε mixes in the uniform distribution as cross_entropy's does, and `reduction`
// is 'mean' (over the labels not ignored; none kept gives NaN), 'sum' or 'none'. A label outside
// [0, C) that is not ignoreIndex is an error when the labels came from the host, NaN otherwise.
// The forward kernel keeps the count of labels kept, so the mean's gradient costs one dispatch.

import { DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Tensor } from '../tensor.js';
import { filled, grid1d, output, Params, requireFloat } from './common.js';
import { host, hostNumel } from './host.js';
import { nllLossBackwardKernel, nllLossKernel, nllLossReduceKernel } from './kernels.js';
import type { OpDef } from './op.js';
import { denseInput } from './reshape.js';

export interface NllLossAttrs {
  ignoreIndex: number;
  labelSmoothing: number;
  reduction: 'mean' | 'sum' | 'none';
}

const REDUCTION_CODE = { none: 0, sum: 1, mean: 2 } as const;

/** [N, C, inner] of the log-probabilities. */
function layout(shape: readonly number[]): { N: number; C: number; inner: number } {
  return { N: shape[0]!, C: shape[1]!, inner: hostNumel(shape.slice(2)) };
}

function validate(op: string, logp: Tensor, labels: Tensor, { ignoreIndex, labelSmoothing, reduction }: NllLossAttrs): void {
  requireFloat(op, logp, 'the input');
  if (labels.dtype !== 'int32') throw new DTypeError(`${op}: labels must be int32 class indices, got ${labels.dtype} (shape ${fmtShape(labels.shape)}).`);
  const expected = [logp.shape[0], ...logp.shape.slice(2)];
  if (logp.ndim < 2 || labels.ndim !== expected.length || labels.shape.some((d, i) => d !== expected[i])) {
    throw new ShapeError(
      `${op}: input ${fmtShape(logp.shape)} must be [N, C] or [N, C, d1, …] with labels [N] or [N, d1, …], got labels ${fmtShape(labels.shape)}.`,
    );
  }
  if (!Number.isInteger(ignoreIndex)) throw new ValueError(`${op}: ignoreIndex must be an integer, got ${ignoreIndex}.`);
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1)) throw new ValueError(`${op}: labelSmoothing must be in [0, 1], got ${labelSmoothing}.`);
  if (!(reduction in REDUCTION_CODE)) throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${String(reduction)}.`);
  const C = logp.shape[1]!;
  const checkRange = (t: Tensor): void => {
    // An empty tensor's range is [+inf, −inf]: nothing to check.
    if (!t.hostRange || t.hostRange[0] > t.hostRange[1]) return;
    for (const v of t.hostRange) {
      if (v !== ignoreIndex && (v < 0 || v >= C)) {
        throw new ValueError(`${op}: label ${v} is outside [0, ${C}) and is not ignoreIndex ${ignoreIndex}, for input ${fmtShape(logp.shape)}.`);
      }
    }
  };
  checkRange(labels);
  // In a captured step the labels are an input slot: every replay checks its new labels the same
  // way (the whole argument: only for labels that are all of it, as the eager call checks them).
  if (labels.coversStorage) labels.runtime.scheduler.addInputCheck(labels.storage, checkRange);
}

function params({ N, C, inner }: { N: number; C: number; inner: number }, attrs: NllLossAttrs): Uint32Array<ArrayBuffer> {
  // ignoreIndex goes in as its two's-complement bits: the shader reads an i32.
  return new Params().u(N, C, inner, REDUCTION_CODE[attrs.reduction]).u(attrs.ignoreIndex).f(attrs.labelSmoothing).u(0).done();
}

const contiguous = denseInput;

/** d loss / d logp for the upstream gradient g (shape of the loss); `count` is the forward's count of labels kept. */
function nllLossBackward(logp: Tensor, labels: Tensor, g: Tensor, count: Tensor | null, attrs: NllLossAttrs): Tensor {
  const dims = layout(logp.shape);
  const dx = output(logp.runtime, logp.shape, 'float32', 'nllLoss backward');
  if (dx.size === 0) return dx;
  const grad = contiguous('nllLoss backward', g);
  const y = contiguous('nllLoss backward', labels);
  logp.runtime.scheduler.record({
    kernel: nllLossBackwardKernel,
    params: params(dims, attrs),
    storages: [y.storage, grad.storage, (count ?? grad).storage, dx.storage],
    workgroups: grid1d(dims.N * dims.inner),
  });
  if (grad !== g) grad.dispose();
  if (y !== labels) y.dispose();
  return dx;
}

function record(logp: Tensor, labels: Tensor, attrs: NllLossAttrs): { loss: Tensor; count: Tensor | null } {
  validate('nllLoss', logp, labels, attrs);
  const rt = logp.runtime;
  const dims = layout(logp.shape);
  const M = dims.N * dims.inner;
  if (attrs.reduction === 'none') {
    const loss = output(rt, labels.shape, 'float32', 'nllLoss');
    if (M === 0) return { loss, count: null };
    const src = contiguous('nllLoss', logp);
    const y = contiguous('nllLoss', labels);
    rt.scheduler.record({ kernel: nllLossKernel, params: params(dims, attrs), storages: [src.storage, y.storage, loss.storage], workgroups: grid1d(M) });
    if (src !== logp) src.dispose();
    if (y !== labels) y.dispose();
    return { loss, count: null };
  }
  // No elements: the sum of nothing is 0, the mean NaN, as in PyTorch.
  if (M === 0) return { loss: filled(rt, [], attrs.reduction === 'sum' ? 0 : NaN, 'float32', 'nllLoss'), count: null };
  const loss = output(rt, [], 'float32', 'nllLoss');
  const count = output(rt, [], 'float32', 'nllLoss');
  const src = contiguous('nllLoss', logp);
  // The kernels read labels from the start of their storage: a view (a batch narrowed out of more) is made dense.
  const y = contiguous('nllLoss', labels);
  rt.scheduler.record({
    kernel: nllLossReduceKernel,
    params: params(dims, attrs),
    storages: [src.storage, y.storage, loss.storage, count.storage],
    workgroups: [1, 1, 1],
  });
  if (src !== logp) src.dispose();
  if (y !== labels) y.dispose();
  return { loss, count };
}

export const nllLoss: OpDef<NllLossAttrs> = {
  forward: ([logp, labels], attrs, ctx) => {
    const { loss, count } = record(logp!, labels!, attrs);
    if (count && ctx.recording) ctx.save(count);
    else count?.dispose();
    return loss;
  },
  vjp: (g, { inputs: [logp, labels], attrs, saved }) => [nllLossBackward(logp!, labels!, g, saved[0] ?? null, attrs), null],
  // The loss is linear in logp: its tangent is Σ over classes (and elements) of (d loss / d logp) · t.
  jvp: ([t], { inputs: [logp, labels], output: loss, attrs }) => {
    if (!t) return null;
    const ones = filled(logp!.runtime, loss.shape, 1, 'float32', 'nllLoss');
    // The mean's count: recomputed by a forward pass, as jvp keeps nothing from the forward.
    const { loss: again, count } = attrs.reduction === 'mean' ? record(logp!, labels!, attrs) : { loss: null, count: null };
    again?.dispose();
    const slope = nllLossBackward(logp!, labels!, ones, count, attrs);
    ones.dispose();
    count?.dispose();
    const product = slope.mul(t);
    return attrs.reduction === 'none' ? product.sum(1) : product.sum();
  },
  reference: ([logp, labels], attrs) => {
    const { N, C, inner } = layout(logp!.shape);
    const losses = new Float64Array(N * inner);
    let kept = 0;
    for (let i = 0; i < N * inner; i++) {
      const y = labels!.data[i]!;
      if (y === attrs.ignoreIndex) continue;
      kept++;
      const at = (c: number): number => logp!.data[(Math.floor(i / inner) * C + c) * inner + (i % inner)]!;
      let smooth = 0;
      for (let c = 0; c < C; c++) smooth += at(c);
      losses[i] = y >= 0 && y < C ? -(1 - attrs.labelSmoothing) * at(y) - (attrs.labelSmoothing / C) * smooth : NaN;
    }
    if (attrs.reduction === 'none') return host(labels!.shape, losses);
    const total = losses.reduce((a, b) => a + b, 0);
    return host([], [attrs.reduction === 'sum' ? total : total / kept]);
  },
};
