// nn.utils: helpers around training steps (gradient clipping).

import { describeValue } from '../arguments.js';
import { noGrad } from '../autograd.js';
import { tensor } from '../creation.js';
import { ValueError } from '../errors.js';
import { tidy } from '../runtime/runtime.js';
import { Tensor } from '../tensor.js';

/**
 * Rescales the gradients of `parameters` in place (on the GPU, no readback) so that their joint
 * `normType`-norm is at most `maxNorm`, as PyTorch's clip_grad_norm_: every gradient is multiplied
 * by min(1, maxNorm / (total + 1e-6)). Parameters without a gradient are skipped. Returns the total
 * norm before clipping, a 0-d tensor. `normType` is a positive number or Infinity (largest |g|).
 */
export function clipGradNorm(parameters: Iterable<Tensor> | Tensor, maxNorm: number, normType = 2): Tensor {
  const list = (parameters instanceof Tensor ? [parameters] : [...checkIterable(parameters)]).map((p, i) => {
    if (!(p instanceof Tensor)) throw new ValueError(`clipGradNorm: parameters[${i}] must be a Tensor, got ${describeValue(p)}.`);
    return p;
  });
  if (typeof maxNorm !== 'number' || !(maxNorm >= 0))
    throw new ValueError(`clipGradNorm: maxNorm must be a non-negative number, got ${describeValue(maxNorm)}.`);
  if (typeof normType !== 'number' || !(normType > 0))
    throw new ValueError(`clipGradNorm: normType must be a positive number or Infinity, got ${describeValue(normType)}.`);
  const grads = list.flatMap((p) => (p.grad ? [p.grad] : []));
  for (const g of grads) g.assertLive('clipGradNorm (a gradient)');
  if (grads.length === 0) return tensor(0);
  return noGrad(() => {
    // Partial sums and squares are released as soon as the scope ends, before anything runs:
    // fusion can then keep them in registers instead of writing each one.
    const [total, scale] = tidy(() => {
      const norm = totalNorm(grads, normType);
      return [norm, norm.add(1e-6).pow(-1).mul(maxNorm).clamp(null, 1)] as const;
    });
    for (const p of list) {
      const g = p.grad;
      if (!g) continue;
      // A new gradient tensor, pinned as backward() pins the ones it makes; the old one is released.
      p.grad = g.mul(scale).pin();
      g.dispose();
    }
    scale.dispose();
    return total;
  });
}

/** The norm of all gradients together: (Σ |g|^p)^(1/p), or max |g| for p = Infinity. */
function totalNorm(grads: Tensor[], p: number): Tensor {
  if (p === Number.POSITIVE_INFINITY) return grads.map((g) => (g.size === 0 ? tensor(0) : g.abs().max())).reduce((a, b) => a.maximum(b));
  if (p === 2)
    return grads
      .map((g) => g.square().sum())
      .reduce((a, b) => a.add(b))
      .sqrt();
  return grads
    .map((g) => g.abs().pow(p).sum())
    .reduce((a, b) => a.add(b))
    .pow(1 / p);
}

function checkIterable(value: unknown): Iterable<unknown> {
  if (value !== null && typeof value === 'object' && Symbol.iterator in value) return value as Iterable<unknown>;
  throw new ValueError(`clipGradNorm: parameters must be a Tensor or an iterable of Tensors, got ${describeValue(value)}.`);
}
