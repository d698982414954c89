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
 * x · Wᵀ + b, with x of shape [*, in] and W of shape [out, in] as in PyTorch, in one dispatch (the
 * bias add, and the ReLU with `{ activation: 'relu' }`, run in the matmul's epilogue).
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null, options: { activation?: 'none' | 'relu' } = {}): Tensor {
  const inputs = [tensorArgument('linear', 'x', x), tensorArgument('linear', 'weight', weight)];
  if (bias !== null && bias !== undefined) {
    if (!(bias instanceof Tensor)) throw new ValueError(`linear: argument 'bias' must be a Tensor or null, got ${describeValue(bias)}.`);
    inputs.push(bias);
  }
  return apply('linear', inputs, { activation: options.activation ?? 'none' });
}

/**
 * GELU: x·Φ(x) with the normal CDF Φ from erf (`approximate: 'none'`, float32 error about 1e-7
 * relative), or PyTorch's tanh approximation (`approximate: 'tanh'`).
 */
export function gelu(x: Tensor, options: { approximate?: 'none' | 'tanh' } = {}): Tensor {
  const approximate = options.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') {
    throw new ValueError(`gelu: argument 'approximate' must be 'none' or 'tanh', got ${describeValue(approximate)}.`);
  }
  return apply('gelu', [tensorArgument('gelu', 'x', x)], { approximate });
}

/** SiLU (swish): x·sigmoid(x). */
export function silu(x: Tensor): Tensor {
  return apply('silu', [tensorArgument('silu', 'x', x)], {});
}

/** log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold (PyTorch's defaults: beta 1, threshold 20). */
export function softplus(x: Tensor, options: { beta?: number; threshold?: number } = {}): Tensor {
  const input = tensorArgument('softplus', 'x', x);
  const { beta = 1, threshold = 20 } = options;
  for (const [name, v] of [
    ['beta', beta],
    ['threshold', threshold],
  ] as const) {
    if (typeof v !== 'number' || Number.isNaN(v)) throw new ValueError(`softplus: argument '${name}' must be a number, got ${describeValue(v)}.`);
  }
  if (beta === 0) throw new ValueError('softplus: argument beta must not be 0.');
  if (beta === 1) return apply('softplus', [input], { threshold });
  // softplus(x; beta) = softplus(beta·x; 1) / beta, with the threshold applied to beta·x as in PyTorch.
  return apply('softplus', [input.mul(beta)], { threshold }).div(beta);
}

/** Elementwise 1 / (1 + e⁻ˣ), computed without overflow. */
export function sigmoid(x: Tensor): Tensor {
  return tensorArgument('sigmoid', 'x', x).sigmoid();
}

/** Elementwise hyperbolic tangent. */
export function tanh(x: Tensor): Tensor {
  return tensorArgument('tanh', 'x', x).tanh();
}
