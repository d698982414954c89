// Functional helpers over reverse mode: grad(fn) and valueAndGrad(fn).

import { describeValue } from './arguments.js';
import { AutogradError, fmtShape, ValueError } from './errors.js';
import { Tensor } from './tensor.js';

function leaves(name: string, inputs: readonly unknown[]): Tensor[] {
  inputs.forEach((x, i) => {
    if (!(x instanceof Tensor)) throw new ValueError(`${name}: input ${i} is not a Tensor (got ${describeValue(x)}).`);
  });
  return (inputs as readonly Tensor[]).map((x) => {
    const leaf = x.detach();
    leaf.requiresGrad = x.dtype === 'float32';
    return leaf;
  });
}

/** valueAndGrad under the name its errors carry (grad() shares it). */
function differentiate(name: string, fn: (...inputs: Tensor[]) => Tensor): (...inputs: Tensor[]) => [Tensor, (Tensor | null)[]] {
  if (typeof fn !== 'function') throw new ValueError(`${name}: fn must be a function, got ${describeValue(fn)}.`);
  return (...inputs) => {
    const xs = leaves(name, inputs);
    try {
      const value: unknown = fn(...xs);
      if (!(value instanceof Tensor)) throw new AutogradError(`${name}: fn must return a scalar Tensor, got ${describeValue(value)}.`);
      if (value.size !== 1) throw new AutogradError(`${name}: fn must return a scalar, got a tensor of shape ${fmtShape(value.shape)}.`);
      value.backward();
      const grads = xs.map((x) => {
        // Taken, not cleared: clearing .grad would release the gradient returned.
        const g = x.swapGrad(null);
        return g ? g.unpin() : null;
      });
      return [value.detach(), grads];
    } finally {
      // The fresh leaves are this call's own; on an error their gradients go with them.
      xs.forEach((x) => x.dispose());
    }
  };
}

/**
 * valueAndGrad(fn)(...inputs) → [fn(...inputs), [d fn / d input_i]] for a scalar-valued fn. The
 * inputs are not modified (gradients go to fresh leaves); int32 inputs get a null gradient.
 */
export function valueAndGrad(fn: (...inputs: Tensor[]) => Tensor): (...inputs: Tensor[]) => [Tensor, (Tensor | null)[]] {
  return differentiate('valueAndGrad', fn);
}

/** grad(fn)(...inputs) → the gradients of a scalar-valued fn with respect to each input. */
export function grad(fn: (...inputs: Tensor[]) => Tensor): (...inputs: Tensor[]) => (Tensor | null)[] {
  const vg = differentiate('grad', fn);
  return (...inputs) => {
    const [value, grads] = vg(...inputs);
    value.dispose();
    return grads;
  };
}
