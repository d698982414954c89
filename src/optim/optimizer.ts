// The optimizer base: parameter list, zeroGrad(), and the end of a training step.
import { Tensor } from '../tensor.js';
import type { HostArray } from '../io/safetensors.js';
import { ValueError } from '../errors.js';
import { describeValue, isFiniteNonNegative, showSetting } from '../arguments.js';
import { runtime } from '../runtime/runtime.js';
import { clearGradients } from '../autograd.js';

/**
 * Base class of the optimizers: holds the parameters, clears their gradients and applies one
 * update per step(). Each step also ends the training step for memory: autograd intermediates
 * from the step before the previous one are released.
 */
export abstract class Optimizer {
  /** The parameters updated, in the order given (their indices name the state in checkpoints). */
  readonly params: Tensor[];

  constructor(params: Iterable<Tensor>) {
    const name = new.target.name;
    if (params === null || typeof params !== 'object' || typeof (params as Partial<Iterable<Tensor>>)[Symbol.iterator] !== 'function') {
      throw new ValueError(`${name}: params must be an iterable of tensors (pass model.parameters()), got ${describeValue(params)}.`);
    }
    this.params = [...params];
    if (this.params.length === 0) throw new ValueError('optimizer got an empty parameter list.');
    this.params.forEach((p: unknown, i) => {
      if (!(p instanceof Tensor)) throw new ValueError(`${name}: parameter ${i} is not a Tensor (got ${describeValue(p)}).`);
      // As in PyTorch: the result of an op is recomputed every step, so updating it would be lost.
      if (p.gradFn) {
        throw new ValueError(`${name}: parameter ${i} (${p}) is the result of an op (${p.gradFn.op}), not a leaf: can't optimize a non-leaf tensor; optimize the tensors it is computed from.`);
      }
      if (!p.requiresGrad) throw new ValueError(`optimizer: parameter ${i} (${p}) does not require gradients.`);
    });
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    clearGradients(this.params);
  }

  /** Records the update of every parameter that has a gradient, then realises the step (one submit). */
  step(): void {
    this.validate();
    const rt = runtime();
    const mark = rt.scheduler.mark;
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
    rt.endStep();
  }

  /** Forgets state that recordUpdate() created for a step that was taken back. */
  protected undoUpdate(): void {}

  /** Checks everything the update needs, before anything is recorded: a failed step changes nothing. */
  protected validate(): void {
    this.params.forEach((p, i) => {
      p.assertLive(`${this.constructor.name}.step`);
      if (p.grad && p.grad.shape.join(',') !== p.shape.join(',')) {
        throw new ValueError(`${this.constructor.name}.step: parameter ${i} has shape [${p.shape}] but its gradient [${p.grad.shape}].`);
      }
    });
  }

  protected abstract recordUpdate(): void;

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
    if (!isFiniteNonNegative(value)) throw new ValueError(`${this.constructor.name}: invalid learning rate ${showSetting(value)}.`);
    return value;
  }

  /** Throws unless a numeric setting (momentum, eps, weightDecay, ...) is a finite number ≥ 0. */
  protected checkSetting(name: string, value: unknown): void {
    if (!isFiniteNonNegative(value)) throw new ValueError(`${this.constructor.name}: invalid ${name} ${showSetting(value)} (must be a finite number ≥ 0).`);
  }

  /** Takes the learning rate back from checkpoint settings, when they carry a valid one. */
  protected restoreLr(settings: Record<string, string>): void {
    if (settings.lr !== undefined && Number.isFinite(Number(settings.lr))) this.lr = Number(settings.lr);
  }

  /** @internal State for checkpoints: tensors and scalars by PyTorch-like names, and settings. */
  abstract exportState(): { tensors: [string, Tensor | number][]; settings: Record<string, string> };

  /** @internal Replaces the state from a checkpoint (validated first: on error nothing changes). */
  abstract importState(tensors: Map<string, HostArray>, settings: Record<string, string>): void;
}
