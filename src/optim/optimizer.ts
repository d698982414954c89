// The optimizer base: parameter list, zeroGrad(), and the end of a training step.

import { describeValue, isFiniteNonNegative, showSetting } from '../arguments.js';
import { apply, clearGradients, noGrad } from '../autograd.js';
import { DisposedError, DTypeError, fmtShape, ShapeError, ValueError } from '../errors.js';
import type { Storage } from '../runtime/scheduler.js';
import type { HostArray } from '../state_file.js';
import { Tensor } from '../tensor.js';

/** The update rule an optimizer applies; checkpoints name it so that a file loads only into its kind. */
export type OptimizerKind = 'SGD' | 'Adam' | 'AdamW';

/**
 * Base class of the optimizers: holds the parameters, clears their gradients and applies one
 * update per step(). Each step also ends the training step for memory: autograd intermediates
 * from the step before the previous one are released.
 */
export abstract class Optimizer {
  /**
   * The update rule, as written into checkpoints and error messages. A subclass keeps the kind of
   * the optimizer it extends (its state and settings are that optimizer's), and the name does
   * not depend on class names, which minifiers change.
   */
  abstract readonly kind: OptimizerKind;

  /** The parameters updated, in the order given (their indices name the state in checkpoints). */
  readonly params: Tensor[];

  constructor(params: Iterable<Tensor>) {
    // kind is a getter on each optimizer class, so it is already right here (unlike a class name after minification).
    const name = (this as { kind: OptimizerKind }).kind;
    if (params === null || typeof params !== 'object' || typeof (params as Partial<Iterable<Tensor>>)[Symbol.iterator] !== 'function') {
      throw new ValueError(`${name}: params must be an iterable of tensors (pass model.parameters()), got ${describeValue(params)}.`);
    }
    this.params = [...params];
    if (this.params.length === 0) throw new ValueError(`${name}: got an empty parameter list.`);
    this.params.forEach((p: unknown, i) => {
      if (!(p instanceof Tensor)) throw new ValueError(`${name}: parameter ${i} is not a Tensor (got ${describeValue(p)}).`);
      // As in PyTorch: the result of an op is recomputed every step, so updating it would be lost.
      if (p.gradFn) {
        throw new ValueError(
          `${name}: parameter ${i} (${p}) is the result of an op (${p.gradFn.op}), not a leaf: can't optimize a non-leaf tensor; optimize the tensors it is computed from.`,
        );
      }
      if (!p.requiresGrad) throw new ValueError(`${name}: parameter ${i} (${p}) does not require gradients.`);
      if (p.runtime !== this.params[0]!.runtime)
        throw new ValueError(`${name}: parameter ${i} (${p}) belongs to a different device than parameter 0 (tensors from two init() calls cannot be mixed).`);
      // Listed twice it would be updated twice per step (PyTorch warns and plans to refuse it).
      const first = this.params.indexOf(p);
      if (first !== i) throw new ValueError(`${name}: parameter ${i} (${p}) is the same tensor as parameter ${first}; list each parameter once.`);
      // Two views of one memory would be updated twice, by one dispatch that cannot bind it twice.
      const sharing = this.params.findIndex((q) => memoryOf(q.storage) === memoryOf(p.storage));
      if (sharing !== i) {
        throw new ValueError(
          `${name}: parameter ${i} (${p}) shares its memory with parameter ${sharing} (a view or detach() of it, or the same GPUBuffer); list the memory once.`,
        );
      }
    });
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    clearGradients(this.params);
  }

  /** Records the update of every parameter that has a gradient, then realises the step (one submit). */
  step(): void {
    this.validate();
    // The step runs where its parameters live (validate() checked they share one device).
    const rt = this.params[0]!.runtime;
    const mark = rt.scheduler.mark;
    const updated = this.params.filter((p) => p.grad !== null);
    const written = new Set([...this.params, ...this.stateTensors()].map((t) => memoryOf(t.storage)));
    const restoreViews = gradientsToRead(updated, written);
    try {
      this.recordUpdate();
      try {
        rt.scheduler.flush();
      } catch (err) {
        // Out of memory while realising the step: the update is taken back, so the parameters and
        // the optimizer state stay as they were and step() can be called again.
        rt.scheduler.rollbackTo(mark);
        this.undoUpdate();
        throw err;
      }
    } finally {
      restoreViews();
    }
    // Graphs that saved these parameters can no longer compute their gradients (see backward()).
    for (const p of updated) p.storage.version++;
    rt.endStep();
  }

  /** Forgets state that recordUpdate() created for a step that was taken back. */
  protected undoUpdate(): void {}

  /**
   * Checks every parameter and gradient the update needs before anything is recorded, so a failed
   * step changes no parameter and no optimizer state.
   */
  protected validate(): void {
    const name = `${this.kind}.step`;
    this.params.forEach((p, i) => {
      const which = `parameter ${i} (shape ${fmtShape(p.shape)})`;
      if (p.isDisposed) throw new DisposedError(`${name}: ${which} was released (dispose()); an optimizer needs its parameters for life.`);
      const g = p.grad;
      if (!g) return;
      if (g.isDisposed) {
        throw new DisposedError(`${name}: the gradient of ${which} was released; run backward() again, or keep() a gradient you assign yourself.`);
      }
      if (g.dtype !== 'float32') throw new DTypeError(`${name}: the gradient of ${which} is ${g.dtype}, not float32.`);
      if (g.shape.join(',') !== p.shape.join(',')) throw new ShapeError(`${name}: ${which} has a gradient of shape ${fmtShape(g.shape)}.`);
      if (g.runtime !== p.runtime) throw new ValueError(`${name}: the gradient of ${which} belongs to a different device.`);
    });
  }

  protected abstract recordUpdate(): void;

  /** The state tensors the update writes in place besides the parameters (momentum buffers, moments). */
  protected abstract stateTensors(): Tensor[];

  /** The settings in force, defaults filled in (the learning rate changes when a schedule sets it). */
  abstract readonly options: {
    /** The learning rate. */
    lr: number;
  };

  /** The learning rate; schedules set it between steps. */
  get lr(): number {
    return this.options.lr;
  }

  /** Sets the learning rate used from the next step on; must be finite and ≥ 0. */
  set lr(value: number) {
    this.options.lr = this.checkLr(value);
  }

  /** Returns a valid learning rate, or throws naming the optimizer and the value. */
  protected checkLr(value: number): number {
    if (!isFiniteNonNegative(value)) throw new ValueError(`${this.kind}: invalid learning rate ${showSetting(value)}.`);
    return value;
  }

  /** Throws unless a numeric setting (momentum, eps, weightDecay, ...) is a finite number ≥ 0. */
  protected checkSetting(name: string, value: unknown): void {
    if (!isFiniteNonNegative(value)) throw new ValueError(`${this.kind}: invalid ${name} ${showSetting(value)} (must be a finite number ≥ 0).`);
  }

  /** @internal State for checkpoints: tensors and scalars by PyTorch-like names, and settings. */
  abstract exportState(): { tensors: [string, Tensor | number][]; settings: Record<string, string> };

  /**
   * @internal Replaces the state and settings from a checkpoint. Everything is validated first
   * (on error nothing changes); a setting the file does not carry keeps its current value.
   */
  abstract importState(tensors: Map<string, HostArray>, settings: Record<string, string>): void;
}

/** The device memory a storage stands for: several storages may wrap one application buffer (fromGPUBuffer). */
function memoryOf(s: Storage): object {
  return s.external && s.buffer ? s.buffer : s;
}

/**
 * The update kernels read a gradient as a flat array, so one stored as a view (transposed,
 * expanded, offset) is replaced by a contiguous copy for the step. So is one sharing memory with
 * a tensor the update writes (`p.grad = p.detach()`, another parameter, a momentum buffer): a
 * dispatch cannot bind one buffer for reading and writing, and the copy gives the gradient's
 * value before the step. Returns what puts the assigned gradients back (and releases the copies
 * once the recorded update no longer needs them).
 */
function gradientsToRead(params: readonly Tensor[], written: ReadonlySet<object>): () => void {
  const swapped: [Tensor, Tensor, Tensor][] = [];
  for (const p of params) {
    const g = p.grad!;
    if (g.isContiguous && g.offset === 0 && !written.has(memoryOf(g.storage))) continue;
    const copy = noGrad(() => apply('reshape', [g], { shape: g.shape, forceCopy: true }));
    // Swapped, not assigned: assigning would release the gradient put back afterwards.
    p.swapGrad(copy);
    swapped.push([p, g, copy]);
  }
  return () => {
    for (const [p, view, copy] of swapped) {
      p.swapGrad(view);
      copy.dispose();
    }
  };
}
