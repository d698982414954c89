// Batch normalisation: nn.functional.batchNorm (PyTorch's F.batch_norm, running statistics updated
// in place on the GPU) and the layers BatchNorm1d and BatchNorm2d with PyTorch's parameters,
// buffers and state_dict names (weight, bias, running_mean, running_var, num_batches_tracked).

import { describeValue } from '../arguments.js';
import { apply } from '../autograd.js';
import { tensor } from '../creation.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { batchNormLayout, recordBatchCount, recordRunningUpdate } from '../ops/batch_norm.js';
import { requireFloat } from '../ops/common.js';
import { type Tensor, tensorArgument } from '../tensor.js';
import { Module, parameter } from './module.js';

const optional = (op: string, name: string, value: Tensor | null | undefined): Tensor | null =>
  value === null || value === undefined ? null : tensorArgument(op, name, value);

/**
 * Batch normalisation of `input` [N, C, *] (torch.nn.functional.batch_norm): each channel becomes
 * (x − mean)/sqrt(var + eps), times weight and plus bias ([C] each) when given. With `training`,
 * mean and var are the batch's (the biased variance) and the running statistics, when given, are
 * updated in place: running ← (1 − momentum)·running + momentum·batch value, with the unbiased
 * variance, as PyTorch. Without it, the running statistics are used (and required). The update
 * runs on the GPU, so each replay of a captured step repeats it as the eager call would.
 *
 * ```ts
 * const y = nn.functional.batchNorm(x, runningMean, runningVar, weight, bias, true);
 * ```
 */
export function batchNorm(
  input: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  training = false,
  momentum = 0.1,
  eps = 1e-5,
): Tensor {
  const op = 'batchNorm';
  const x = tensorArgument(op, 'input', input);
  const rm = optional(op, 'runningMean', runningMean);
  const rv = optional(op, 'runningVar', runningVar);
  const w = optional(op, 'weight', weight);
  const b = optional(op, 'bias', bias);
  if (typeof training !== 'boolean') throw new ValueError(`${op}: training must be a boolean, got ${describeValue(training)}.`);
  if (typeof momentum !== 'number' || !Number.isFinite(momentum))
    throw new ValueError(`${op}: momentum must be a finite number, got ${describeValue(momentum)}.`);
  if ((rm === null) !== (rv === null)) throw new ValueError(`${op}: give both the running mean and the running variance, or neither.`);
  if (!training && rm === null) throw new ValueError(`${op}: evaluation mode (training = false) needs the running mean and variance.`);
  if (training && rm && rv) {
    // Written in place by a kernel that indexes them directly: they must be whole, dense tensors.
    const { C } = batchNormLayout(x.shape);
    for (const [t, what] of [
      [rm, 'running mean'],
      [rv, 'running variance'],
    ] as const) {
      requireFloat(op, t, `the ${what}`);
      if (t.ndim !== 1 || t.shape[0] !== C)
        throw new ShapeError(`${op}: the ${what} must have shape [${C}] (the input's channels, dim 1 of ${fmtShape(x.shape)}), got ${fmtShape(t.shape)}.`);
      if (!t.isContiguous || t.offset !== 0) throw new ValueError(`${op}: the ${what} is updated in place and must not be a view.`);
    }
    if (rm.storage === rv.storage)
      throw new ValueError(`${op}: the running mean and the running variance must be different tensors (both are updated in place).`);
  }
  const affine = [...(w ? [w] : []), ...(b ? [b] : [])];
  const attrs = { training, eps, weight: w !== null, bias: b !== null };
  const y = apply('batchNorm', training ? [x, ...affine] : [x, rm!, rv!, ...affine], attrs);
  if (training && rm && rv) recordRunningUpdate(x, rm, rv, momentum, eps);
  return y;
}

/** Options for nn.BatchNorm1d and nn.BatchNorm2d, as PyTorch's. */
export interface BatchNormOptions {
  /** Added to the variance before the square root (default 1e-5). */
  eps?: number;
  /** Weight of the batch's statistics in the running ones (default 0.1). */
  momentum?: number;
  /** Whether the layer has a learned weight (ones at first) and bias (zeros) (default true). */
  affine?: boolean;
  /** Whether the layer keeps running statistics for evaluation (default true); without them it always uses the batch's. */
  trackRunningStats?: boolean;
}

/** What BatchNorm1d and BatchNorm2d share: parameters, buffers, and the forward of PyTorch's _BatchNorm. */
abstract class BatchNormBase extends Module {
  /** Added to the variance before the square root. */
  readonly eps: number;
  /** Weight of each batch's statistics in the running ones. */
  readonly momentum: number;
  /** Ones at first, shape [numFeatures]; null without affine. */
  readonly weight: Tensor | null;
  /** Zeros at first, shape [numFeatures]; null without affine. */
  readonly bias: Tensor | null;

  constructor(
    /** The channels C of the [N, C, …] inputs. */
    readonly numFeatures: number,
    options: BatchNormOptions,
  ) {
    super();
    const name = this.constructor.name;
    if (!Number.isInteger(numFeatures) || numFeatures < 1)
      throw new ValueError(`${name}: numFeatures must be a positive integer, got ${describeValue(numFeatures)}.`);
    const { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true } = options;
    if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0)
      throw new ValueError(`${name}: eps must be a finite number ≥ 0, got ${describeValue(eps)}.`);
    if (typeof momentum !== 'number' || !Number.isFinite(momentum)) {
      // PyTorch's momentum=None (a cumulative average) needs the count on the host each step, which a captured step could not refresh.
      throw new ValueError(
        `${name}: momentum must be a finite number, got ${describeValue(momentum)} (a cumulative average, momentum None, is not supported).`,
      );
    }
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? parameter(tensor(new Float32Array(numFeatures).fill(1), { shape: [numFeatures] })) : null;
    this.bias = affine ? parameter(tensor(new Float32Array(numFeatures), { shape: [numFeatures] })) : null;
    const track = trackRunningStats !== false;
    this.registerBuffer('running_mean', track ? tensor(new Float32Array(numFeatures), { shape: [numFeatures] }) : null);
    this.registerBuffer('running_var', track ? tensor(new Float32Array(numFeatures).fill(1), { shape: [numFeatures] }) : null);
    this.registerBuffer('num_batches_tracked', track ? tensor(new Int32Array(1), { shape: [], dtype: 'int32' }) : null);
  }

  /** The running mean (buffer `running_mean`, zeros at first); null without trackRunningStats. */
  get runningMean(): Tensor | null {
    return (this as unknown as { running_mean: Tensor | null }).running_mean;
  }

  /** The running variance (buffer `running_var`, ones at first); null without trackRunningStats. */
  get runningVar(): Tensor | null {
    return (this as unknown as { running_var: Tensor | null }).running_var;
  }

  /** Training forwards seen so far (int32 buffer `num_batches_tracked`); null without trackRunningStats. */
  get numBatchesTracked(): Tensor | null {
    return (this as unknown as { num_batches_tracked: Tensor | null }).num_batches_tracked;
  }

  /** Throws unless x has the ranks this layer takes. */
  protected abstract checkInput(x: Tensor): void;

  /** Normalises x with the batch's statistics in training mode (updating the running ones), with the running ones after eval(). */
  forward(x: Tensor): Tensor {
    const input = tensorArgument(this.constructor.name, 'x', x);
    this.checkInput(input);
    const count = this.numBatchesTracked;
    // Without running statistics the batch's are used in evaluation too, as in PyTorch.
    const useBatch = this.training || this.runningMean === null;
    const y = batchNorm(input, this.runningMean, this.runningVar, this.weight, this.bias, useBatch, this.momentum, this.eps);
    if (this.training && count) recordBatchCount(count);
    return y;
  }
}

/**
 * Batch normalisation over [N, C] or [N, C, L] inputs (PyTorch's nn.BatchNorm1d).
 *
 * ```ts
 * const bn = new nn.BatchNorm1d(128);
 * const y = bn.forward(x); // x: [batch, 128]
 * ```
 */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) throw new ValueError(`BatchNorm1d: expected a 2-D or 3-D input, got shape ${fmtShape(x.shape)}.`);
  }
}

/**
 * Batch normalisation over [N, C, H, W] inputs (PyTorch's nn.BatchNorm2d): parameters `weight`
 * (ones) and `bias` (zeros), buffers `running_mean` (zeros), `running_var` (ones) and
 * `num_batches_tracked` (int32, +1 per training forward), named as PyTorch's state_dict.
 *
 * ```ts
 * const bn = new nn.BatchNorm2d(16);
 * const y = bn.forward(x); // x: [batch, 16, H, W]; bn.eval() switches to the running statistics
 * ```
 */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, options: BatchNormOptions = {}) {
    super(numFeatures, options);
  }

  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) throw new ValueError(`BatchNorm2d: expected a 4-D input [N, C, H, W], got shape ${fmtShape(x.shape)}.`);
  }
}
