// Functional helpers over reverse mode: grad(fn) and valueAndGrad(fn).
import type { Tensor } from './tensor.js';
import { AutogradError } from './errors.js';

function leaves(inputs: readonly Tensor[]): Tensor[] {
  return inputs.map((x) => {
    const leaf = x.detach();
    leaf.requiresGrad = x.dtype === 'float32';
    return leaf;
  });
}

/**
 * valueAndGrad(fn)(...inputs) → [fn(...inputs), [d fn / d input_i]] for a scalar-valued fn. The
 * inputs are not modified (gradients go to fresh leaves); int32 inputs get a null gradient.
 */
export function valueAndGrad(fn: (...inputs: Tensor[]) => Tensor): (...inputs: Tensor[]) => [Tensor, (Tensor | null)[]] {
  return (...inputs) => {
    const xs = leaves(inputs);
    const value = fn(...xs);
    if (value.size !== 1) throw new AutogradError(`grad: fn must return a scalar, got shape [${value.shape.join(', ')}].`);
    value.backward();
    const grads = xs.map((x) => {
      const g = x.grad;
      x.grad = null;
      x.dispose();
      return g ? g.unpin() : null;
    });
    return [value.detach(), grads];
  };
}

/** grad(fn)(...inputs) → the gradients of a scalar-valued fn with respect to each input. */
export function grad(fn: (...inputs: Tensor[]) => Tensor): (...inputs: Tensor[]) => (Tensor | null)[] {
  const vg = valueAndGrad(fn);
  return (...inputs) => {
    const [value, grads] = vg(...inputs);
    value.dispose();
    return grads;
  };
}
