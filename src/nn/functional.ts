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

/** x · Wᵀ + b, with W of shape [out, in] as in PyTorch; Wᵀ is a view, not a copy. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  const y = x.matmul(weight.transpose());
  return bias ? y.add(bias) : y;
}
