// nn.functional: the stateless functions behind the layers.
import type { Tensor } from '../tensor.js';
import { apply } from '../autograd.js';

/** Mean softmax cross-entropy of logits [N, C] against int32 labels [N] (PyTorch's CrossEntropyLoss). */
export function crossEntropy(logits: Tensor, labels: Tensor): Tensor {
  return apply('crossEntropy', [logits, labels], {});
}

/** max(x, 0); the gradient at exactly 0 is 0. */
export function relu(x: Tensor): Tensor {
  return x.relu();
}

/**
 * x · Wᵀ + b, with W of shape [out, in] as in PyTorch, in one dispatch (the bias add, and the ReLU
 * with `{ activation: 'relu' }`, run in the matmul's epilogue).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, options: { activation?: 'none' | 'relu' } = {}): Tensor {
  return apply('linear', bias ? [x, weight, bias] : [x, weight], { activation: options.activation ?? 'none' });
}
