// nn.functional: the stateless functions behind the layers.

import { describeValue } from '../arguments.js';
import { apply } from '../autograd.js';
import { ValueError } from '../errors.js';
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
