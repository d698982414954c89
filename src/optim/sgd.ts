// optim.SGD with PyTorch's exact update rule, in place on the GPU (shaders/sgd.wgsl, recorded by
// ops/sgd_update.ts):
//   d = g + weightDecay · p
//   momentum: buf = d (first step) or momentum · buf + (1 − dampening) · d; d = nesterov ? d + momentum · buf : buf
//   p = p − lr · d

import { checkOptionNames, describeValue } from '../arguments.js';
import { tensor } from '../creation.js';
import { ValueError } from '../errors.js';
import { recordSgdUpdates, type SgdParameterUpdate } from '../ops/sgd_update.js';
import { Storage } from '../runtime/scheduler.js';
import { checkTensors, FileSettings, type HostArray } from '../state_file.js';
import { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';

/** Settings of optim.SGD, named and defaulted as in PyTorch. */
export interface SGDOptions {
  /** Learning rate (required). */
  lr: number;
  /** Momentum factor (default 0: plain gradient descent). */
  momentum?: number;
  /** Dampening of the gradient added to the momentum buffer (default 0). */
  dampening?: number;
  /** Nesterov momentum (default false); needs momentum > 0 and dampening 0. */
  nesterov?: boolean;
  /** L2 penalty added to the gradient: d = g + weightDecay · p (default 0). */
  weightDecay?: number;
}

/**
 * Stochastic gradient descent with optional momentum, Nesterov and weight decay — PyTorch's
 * update rule, applied in place on the GPU.
 *
 * ```ts
 * const opt = new optim.SGD(model.parameters(), { lr: 0.1, momentum: 0.9 });
 * const lossFn = new nn.CrossEntropyLoss();
 * for (const [x, y] of loader) {
 *   opt.zeroGrad();
 *   lossFn.forward(model.forward(x), y).backward();
 *   opt.step();
 * }
 * ```
 */
export class SGD extends Optimizer {
  /** The settings in force, defaults filled in (lr changes when a schedule sets it). */
  readonly options: Required<SGDOptions>;
  /** Momentum buffers, one per parameter, created on its first update. */
  private readonly momentumBuffers = new Map<Tensor, Tensor>();

  constructor(params: Iterable<Tensor>, options: SGDOptions) {
    super(params);
    checkOptionNames('SGD', options, ['lr', 'momentum', 'dampening', 'nesterov', 'weightDecay']);
    const o = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...options };
    this.checkLr(o.lr);
    this.checkSetting('momentum', o.momentum);
    this.checkSetting('dampening', o.dampening);
    this.checkSetting('weightDecay', o.weightDecay);
    if (typeof o.nesterov !== 'boolean') throw new ValueError(`SGD: nesterov must be true or false, got ${describeValue(o.nesterov)}.`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new ValueError(`SGD: nesterov momentum needs momentum > 0 and dampening 0 (got momentum ${o.momentum}, dampening ${o.dampening}).`);
    }
    this.options = o;
  }

  /** Always 'SGD', also for subclasses (see Optimizer.kind). */
  get kind(): 'SGD' {
    return 'SGD';
  }

  exportState(): { tensors: [string, Tensor | number][]; settings: Record<string, string> } {
    const tensors: [string, Tensor][] = [];
    this.params.forEach((p, i) => {
      const buf = this.momentumBuffers.get(p);
      if (buf) tensors.push([`state.${i}.momentum_buffer`, buf]);
    });
    const o = this.options;
    return {
      tensors,
      settings: {
        lr: String(o.lr),
        momentum: String(o.momentum),
        dampening: String(o.dampening),
        nesterov: String(o.nesterov),
        weight_decay: String(o.weightDecay),
      },
    };
  }

  importState(file: Map<string, HostArray>, settings: Record<string, string>): void {
    const what = `loadOptimizer(${this.kind})`;
    // Everything is checked before anything changes.
    const read = new FileSettings(what, settings, ['lr', 'momentum', 'dampening', 'nesterov', 'weight_decay']);
    const o = this.options;
    const next: Required<SGDOptions> = {
      lr: read.number('lr', o.lr, 'a finite number ≥ 0', (v) => v >= 0),
      momentum: read.number('momentum', o.momentum, 'a finite number ≥ 0', (v) => v >= 0),
      dampening: read.number('dampening', o.dampening, 'a finite number ≥ 0', (v) => v >= 0),
      nesterov: read.boolean('nesterov', o.nesterov),
      weightDecay: read.number('weight_decay', o.weightDecay, 'a finite number ≥ 0', (v) => v >= 0),
    };
    if (next.nesterov && (next.momentum <= 0 || next.dampening !== 0)) {
      throw new ValueError(
        `${what}: nesterov momentum needs momentum > 0 and dampening 0 (the file gives momentum ${next.momentum}, dampening ${next.dampening}).`,
      );
    }
    const name = (i: number) => `state.${i}.momentum_buffer`;
    const expected: [string, readonly number[]][] = [];
    this.params.forEach((p, i) => {
      if (file.has(name(i))) expected.push([name(i), p.shape]);
    });
    checkTensors(what, expected, file);
    // As PyTorch's load_state_dict: the file's state replaces the current one. A buffer that
    // exists is overwritten in place, so a captured step that binds it keeps replaying correctly.
    const created: [Tensor, Tensor][] = [];
    try {
      this.params.forEach((p, i) => {
        const values = file.get(name(i))?.data;
        const buf = this.momentumBuffers.get(p);
        if (values && buf) buf.write(values);
        else if (values) created.push([p, tensor(values, { shape: p.shape }).pin()]);
      });
    } catch (err) {
      for (const [, buf] of created) buf.dispose();
      throw err;
    }
    this.params.forEach((p, i) => {
      const buf = this.momentumBuffers.get(p);
      if (buf && !file.has(name(i))) {
        buf.dispose();
        this.momentumBuffers.delete(p);
      }
    });
    for (const [p, buf] of created) this.momentumBuffers.set(p, buf);
    Object.assign(this.options, next);
  }

  protected stateTensors(): Tensor[] {
    return [...this.momentumBuffers.values()];
  }

  /** The momentum buffer of a parameter (null before its first step, or without momentum). */
  momentumBuffer(p: Tensor): Tensor | null {
    return this.momentumBuffers.get(p) ?? null;
  }

  /** Momentum buffers created by the step being recorded (taken back if it fails). */
  private created: Tensor[] = [];

  protected override undoUpdate(): void {
    for (const buf of this.created) {
      for (const [p, b] of this.momentumBuffers) if (b === buf) this.momentumBuffers.delete(p);
      buf.dispose();
    }
    this.created = [];
  }

  protected recordUpdate(): void {
    this.created = [];
    const { momentum } = this.options;
    const updates: SgdParameterUpdate[] = [];
    for (const [index, p] of this.params.entries()) {
      const g = p.grad;
      if (!g) continue;
      let buf = this.momentumBuffers.get(p) ?? null;
      const first = momentum !== 0 && !buf;
      if (momentum !== 0 && !buf) {
        // Written by the first update (buf = d), so it needs no initial fill.
        buf = new Tensor(p.runtime, new Storage(Math.max(4, p.size * 4)), p.shape, 'float32').pin();
        this.momentumBuffers.set(p, buf);
        this.created.push(buf);
      }
      updates.push({ index, p, g, buf, first });
    }
    // How many parameters share a dispatch is the ops layer's choice (sgd_update.ts); the settings
    // are read again on each replay of a captured step.
    recordSgdUpdates(updates, () => this.options);
  }
}
