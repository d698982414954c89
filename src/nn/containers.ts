// Containers: ModuleList and ModuleDict hold sub-modules whose parameters are named by position
// (0.weight) or by key (encoder.weight), as PyTorch's; Flatten, the reshaping layer.

import { describeValue } from '../arguments.js';
import { ValueError } from '../errors.js';
import { type Tensor, tensorArgument } from '../tensor.js';
import { Module } from './module.js';

function checkModule(owner: string, what: string, value: unknown): Module {
  if (!(value instanceof Module)) throw new ValueError(`${owner}: ${what} must be a Module, got ${describeValue(value)}.`);
  return value;
}

/** A list of modules (no forward of its own); parameters are named 0.weight, 1.weight, … */
export class ModuleList extends Module implements Iterable<Module> {
  private readonly items: Module[] = [];

  constructor(modules: Iterable<Module> = []) {
    super();
    this.extend(modules);
  }

  /** Number of modules. */
  get length(): number {
    return this.items.length;
  }

  /** The module at `index` (negative counts from the end). */
  get(index: number): Module {
    const i = Number.isInteger(index) && index < 0 ? index + this.items.length : index;
    const m = Number.isInteger(i) ? this.items[i] : undefined;
    if (!m) throw new ValueError(`ModuleList.get: index ${String(index)} is out of range for a list of ${this.items.length}.`);
    return m;
  }

  /** Adds a module at the end; returns this. */
  append(module: Module): this {
    this.items.push(checkModule('ModuleList.append', 'the argument', module));
    return this;
  }

  /** Adds every module of `modules` at the end (all checked first); returns this. */
  extend(modules: Iterable<Module>): this {
    const added = [...modules].map((m, i) => checkModule('ModuleList', `item ${i}`, m));
    this.items.push(...added);
    return this;
  }

  /** The modules, in order. */
  [Symbol.iterator](): Iterator<Module> {
    return this.items[Symbol.iterator]();
  }

  protected override entries(): [string, Module | Tensor][] {
    return this.items.map((m, i) => [String(i), m]);
  }

  forward(): Tensor {
    throw new ValueError('ModuleList has no forward(): call its modules.');
  }
}

/** Modules by name, in insertion order; parameters are named key.weight, … */
export class ModuleDict extends Module implements Iterable<[string, Module]> {
  private readonly items = new Map<string, Module>();

  constructor(modules: Record<string, Module> | Iterable<[string, Module]> = {}) {
    super();
    const pairs = Symbol.iterator in modules ? [...(modules as Iterable<[string, Module]>)] : Object.entries(modules);
    // All checked before any is added, so a bad entry leaves the dict empty.
    for (const [key, m] of pairs) ModuleDict.check(key, m);
    for (const [key, m] of pairs) this.items.set(key, m);
  }

  private static check(key: unknown, module: unknown): void {
    if (typeof key !== 'string' || key === '' || key.includes('.')) {
      throw new ValueError(`ModuleDict: a key must be a non-empty string without '.', got ${describeValue(key)}.`);
    }
    checkModule('ModuleDict', `the value of '${key}'`, module);
  }

  /** Number of modules. */
  get length(): number {
    return this.items.size;
  }

  /** The module under `key`. */
  get(key: string): Module {
    const m = this.items.get(key);
    if (!m) throw new ValueError(`ModuleDict.get: no module named '${String(key)}' (keys: ${[...this.items.keys()].join(', ') || 'none'}).`);
    return m;
  }

  /** True if a module is stored under `key`. */
  has(key: string): boolean {
    return this.items.has(key);
  }

  /** Stores `module` under `key` (replacing one already there, in its place); returns this. */
  set(key: string, module: Module): this {
    ModuleDict.check(key, module);
    this.items.set(key, module);
    return this;
  }

  /** The keys, in insertion order. */
  keys(): string[] {
    return [...this.items.keys()];
  }

  /** The [key, module] pairs, in insertion order. */
  [Symbol.iterator](): Iterator<[string, Module]> {
    return this.items.entries();
  }

  protected override entries(): [string, Module | Tensor][] {
    return [...this.items.entries()];
  }

  forward(): Tensor {
    throw new ValueError('ModuleDict has no forward(): call its modules.');
  }
}

/** Flattens dims startDim..endDim into one (PyTorch's nn.Flatten: from dim 1, keeping the batch dim). */
export class Flatten extends Module {
  /**
   * @param startDim - First dim to flatten (default 1).
   * @param endDim - Last dim to flatten (default −1, the last).
   */
  constructor(
    /** First dim flattened. */
    readonly startDim = 1,
    /** Last dim flattened. */
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return tensorArgument('Flatten', 'x', x).flatten(this.startDim, this.endDim);
  }
}
