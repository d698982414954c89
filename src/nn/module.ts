// nn.Module: a tree of layers whose parameters and buffers are found by walking the fields, so a
// subclass that assigns `this.fc1 = new nn.Linear(784, 128)` gets PyTorch's dotted names
// (fc1.weight, fc1.bias), and a BatchNorm2d's running statistics are named bn.running_mean, ….

import { describeValue } from '../arguments.js';
import { clearGradients } from '../autograd.js';
import { ValueError } from '../errors.js';
import { Tensor } from '../tensor.js';

const PARAMETER = Symbol('webgrad.parameter');
const BUFFER = Symbol('webgrad.buffer');

/** Marks a leaf tensor as a trainable parameter: it requires gradients and no scope ever releases it. */
export function parameter(t: Tensor): Tensor {
  t.requiresGrad = true;
  t.pin();
  (t as Tensor & { [PARAMETER]?: true })[PARAMETER] = true;
  return t;
}

/** True for a tensor marked by parameter(), the ones Module.parameters() finds. */
export function isParameter(value: unknown): value is Tensor {
  return value instanceof Tensor && (value as Tensor & { [PARAMETER]?: true })[PARAMETER] === true;
}

/**
 * Marks a tensor as a module buffer, PyTorch's word for state that is not trained: it is saved
 * and loaded with the parameters (running statistics, counters) but no optimizer sees it, and no
 * scope ever releases it.
 */
export function buffer(t: Tensor): Tensor {
  t.pin();
  (t as Tensor & { [BUFFER]?: true })[BUFFER] = true;
  return t;
}

/** True for a tensor marked by buffer(), the ones Module.buffers() finds. */
export function isBuffer(value: unknown): value is Tensor {
  return value instanceof Tensor && (value as Tensor & { [BUFFER]?: true })[BUFFER] === true;
}

/**
 * Base class for layers and models. Parameters and sub-modules assigned to fields are found
 * automatically and named by field, as in PyTorch.
 *
 * ```ts
 * class Net extends nn.Module {
 *   fc1 = new nn.Linear(784, 128);
 *   fc2 = new nn.Linear(128, 10);
 *   forward(x: Tensor): Tensor {
 *     return this.fc2.forward(this.fc1.forward(x).relu());
 *   }
 * }
 * ```
 */
export abstract class Module {
  /** True in training mode (the default), false after eval(). */
  training = true;

  /** Applies the module. */
  abstract forward(...inputs: Tensor[]): Tensor;

  /** Direct sub-modules, parameters and buffers, in field order: [name, value]. */
  protected entries(): [string, Module | Tensor][] {
    const out: [string, Module | Tensor][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Module || isParameter(value) || isBuffer(value)) out.push([key, value]);
    }
    return out;
  }

  /**
   * Adds a buffer named `name` (PyTorch's register_buffer): the tensor becomes the field
   * `this[name]`, is saved and loaded by save()/load() after the parameters, and is not in
   * parameters(). `null` declares the field without a tensor (it is then not saved). Returns the tensor.
   */
  registerBuffer(name: string, tensor: Tensor | null): Tensor | null {
    if (typeof name !== 'string' || name === '' || name.includes('.')) {
      throw new ValueError(`registerBuffer: the name must be a non-empty string without '.', got ${describeValue(name)}.`);
    }
    const fields = this as unknown as Record<string, unknown>;
    const current = fields[name];
    if (name in this && current !== null && !isBuffer(current))
      throw new ValueError(`registerBuffer: '${name}' is already a field of ${this.constructor.name}.`);
    if (tensor !== null && !(tensor instanceof Tensor))
      throw new ValueError(`registerBuffer: the buffer '${name}' must be a Tensor or null, got ${describeValue(tensor)}.`);
    if (isParameter(tensor)) throw new ValueError(`registerBuffer: the buffer '${name}' is a parameter; a tensor is one or the other.`);
    fields[name] = tensor === null ? null : buffer(tensor);
    return tensor;
  }

  /**
   * Every parameter with its dotted name, e.g. ['fc1.weight', W] — the names of PyTorch's
   * state_dict(). A parameter or module reachable twice (`Sequential(l, l)`, tied weights, a
   * cycle) is listed once, under the first name found, so an optimizer updates it once per step.
   * With `removeDuplicate = false` (as PyTorch's named_parameters) a shared one is listed under
   * every name it has, as PyTorch's state_dict() lists it; only a cycle is not followed again.
   */
  namedParameters(prefix = '', removeDuplicate = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    this.walk(prefix, removeDuplicate, (name, value) => {
      if (!isParameter(value) || (removeDuplicate && seen.has(value))) return;
      seen.add(value);
      out.push([name, value]);
    });
    return out;
  }

  /** Every buffer with its dotted name, e.g. ['bn.running_mean', t], as namedParameters() lists parameters. */
  namedBuffers(prefix = '', removeDuplicate = true): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const seen = new Set<Tensor>();
    this.walk(prefix, removeDuplicate, (name, value) => {
      if (!isBuffer(value) || (removeDuplicate && seen.has(value))) return;
      seen.add(value);
      out.push([name, value]);
    });
    return out;
  }

  /** Every buffer of this module and its sub-modules, in namedBuffers() order. */
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  /**
   * What PyTorch's state_dict() lists, in its order: for this module and then each sub-module
   * (depth first), its own parameters, then its own buffers. A shared tensor is listed under
   * every name it has; only a cycle is not followed again. save() writes these.
   */
  stateDict(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    const path = new Set<Module>();
    const visit = (module: Module, at: string): void => {
      path.add(module);
      const own = module.entries();
      const named = (key: string): string => (at ? `${at}.${key}` : key);
      for (const [key, value] of own) if (isParameter(value)) out.push([named(key), value]);
      for (const [key, value] of own) if (isBuffer(value)) out.push([named(key), value]);
      for (const [key, value] of own) if (value instanceof Module && !path.has(value)) visit(value, named(key));
      path.delete(module);
    };
    visit(this, prefix);
    return out;
  }

  /** Every parameter of this module and its sub-modules, in namedParameters() order (for an optimizer). */
  parameters(): Tensor[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** This module and its sub-modules, depth first, with their dotted names; each module once. */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    this.walk(prefix, true, (name, value) => {
      if (value instanceof Module) out.push([name, value]);
    });
    return out;
  }

  /**
   * Visits the sub-modules and parameters below this module in field order, depth first. With
   * `once`, each module is walked once (as PyTorch's memo set does): shared modules and cycles are
   * not walked again; without it a shared module is walked under each name, and only a module on
   * the current path (a cycle) is skipped.
   */
  private walk(prefix: string, once: boolean, visit: (name: string, value: Module | Tensor) => void): void {
    const seen = new Set<Module>([this]);
    const visitChildren = (module: Module, path: string): void => {
      for (const [key, value] of module.entries()) {
        if (value instanceof Module && seen.has(value)) continue;
        const name = path ? `${path}.${key}` : key;
        visit(name, value);
        if (value instanceof Module) {
          seen.add(value);
          visitChildren(value, name);
          if (!once) seen.delete(value);
        }
      }
    };
    visitChildren(this, prefix);
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    clearGradients(this.parameters());
  }

  /** Sets training mode (or evaluation mode with false) on this module and every sub-module; returns this. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Switches this module and every sub-module to evaluation mode: train(false). */
  eval(): this {
    return this.train(false);
  }
}
