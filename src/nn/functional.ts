// nn.functional: the stateless functions behind the layers.

import { describeValue } from '../arguments.js';
import { apply } from '../autograd.js';
import { fmtShape, ShapeError, ValueError } from '../errors.js';
import { broadcastShapes } from '../ops/host.js';
import { Tensor, tensorArgument } from '../tensor.js';

/** Mean softmax cross-entropy of logits [N, C] against int32 labels [N] (PyTorch's CrossEntropyLoss). */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  return apply('crossEntropy', [tensorArgument('crossEntropy', 'logits', logits), tensorArgument('crossEntropy', 'labels', labels)], {});
}

/** max(x, 0); the gradient at exactly 0 is 0. */
export function relu(x: Tensor): Tensor {
  return tensorArgument('relu', 'x', x).relu();
}

/**
 * x · Wᵀ + b, with W of shape [out, in] as in PyTorch, in one dispatch (the bias add, and the ReLU
 * with `{ activation: 'relu' }`, run in the matmul's epilogue).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, options: { activation?: 'none' | 'relu' } = {}): Tensor {
  const inputs = [tensorArgument('linear', 'x', x), tensorArgument('linear', 'weight', weight)];
  if (bias !== null && bias !== undefined) {
    if (!(bias instanceof Tensor)) throw new ValueError(`linear: argument 'bias' must be a Tensor or null, got ${describeValue(bias)}.`);
    inputs.push(bias);
  }
  return apply('linear', inputs, { activation: options.activation ?? 'none' });
}

/** exp(x) / Σ exp(x) along `dim` (PyTorch's F.softmax; `dim` is required). */
export function softmax(x: Tensor, dim: number): Tensor {
  return tensorArgument('softmax', 'x', x).softmax(dim);
}

/** log(softmax(x)) along `dim`, stable (PyTorch's F.log_softmax). */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  return tensorArgument('logSoftmax', 'x', x).logSoftmax(dim);
}

/** How a loss combines its per-element values, as PyTorch's `reduction`. */
export type Reduction = 'mean' | 'sum' | 'none';

/** Checks a `reduction` option; the default is 'mean'. */
export function reductionOption(op: string, reduction: unknown = 'mean'): Reduction {
  if (reduction === 'mean' || reduction === 'sum' || reduction === 'none') return reduction;
  throw new ValueError(`${op}: reduction must be 'mean', 'sum' or 'none', got ${describeValue(reduction)}.`);
}

/**
 * The squared error (input − target)², averaged ('mean', the default), summed, or per element
 * ('none'), as PyTorch's F.mse_loss; shapes broadcast (PyTorch warns, but allows it).
 */
export function mseLoss(input: Tensor, target: Tensor, options: { reduction?: Reduction } = {}): Tensor {
  const reduction = reductionOption('mseLoss', options.reduction);
  const x = tensorArgument('mseLoss', 'input', input);
  const y = tensorArgument('mseLoss', 'target', target);
  if (!broadcastShapes(x.shape, y.shape)) {
    throw new ShapeError(`mseLoss: input ${fmtShape(x.shape)} and target ${fmtShape(y.shape)} do not broadcast.`);
  }
  const d = x.sub(y);
  const squared = d.mul(d);
  return reduction === 'none' ? squared : reduction === 'sum' ? squared.sum() : squared.mean();
}
