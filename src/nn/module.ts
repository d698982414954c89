// nn.Module: a tree of layers whose parameters are found by walking the fields, so a subclass that
// assigns `this.fc1 = new nn.Linear(784, 128)` gets PyTorch's dotted names (fc1.weight, fc1.bias).
import { Tensor } from '../tensor.js';

const PARAMETER = Symbol('webgrad.parameter');

/** Marks a leaf tensor as a trainable parameter: it requires gradients and no scope ever releases it. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  t.pin();
  (t as Tensor & { [PARAMETER]?: true })[PARAMETER] = true;
  return t;
}

export function isParameter(value: unknown): value is Tensor {
  return value instanceof Tensor && (value as Tensor & { [PARAMETER]?: true })[PARAMETER] === true;
}

export abstract class Module {
  /** True in training mode (the default), false after eval(). */
  training = true;

  /** Applies the module. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** Direct sub-modules and parameters, in field order: [name, value]. */
  protected entries(): [string, Module | Tensor][] {
    const out: [string, Module | Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module || isParameter(value)) out.push([key, value]);
    }
    return out;
  }

  /** Every parameter with its dotted name, e.g. ['fc1.weight', W] — the names of PyTorch's state_dict(). */
  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [key, value] of this.entries()) {
      const name = prefix ? `${prefix}.${key}` : key;
      if (value instanceof Module) out.push(...value.namedParameters(name));
      else out.push([name, value]);
    }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Sub-modules, depth first, with their dotted names. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [key, value] of this.entries()) {
      if (value instanceof Module) out.push(...value.namedModules(prefix ? `${prefix}.${key}` : key));
    }
    return out;
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }
}
