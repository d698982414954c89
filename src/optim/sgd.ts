// optim.SGD with PyTorch's exact update rule, in place on the GPU (shaders/sgd.wgsl, recorded by
// ops/sgd_update.ts):
//   d = g + weightDecay · p
//   momentum: buf = d (first step) or momentum · buf + (1 − dampening) · d; d = nesterov ? d + momentum · buf : buf
//   p = p − lr · d
import { Tensor } from '../tensor.js';
import { Storage } from '../runtime/scheduler.js';
import { ValueError } from '../errors.js';
import { recordSgdUpdates, type SgdParameterUpdate } from '../ops/sgd_update.js';
import { Optimizer } from './optimizer.js';
import { tensor } from '../creation.js';
import { checkTensors } from '../io/checkpoint.js';
import type { HostArray } from '../io/safetensors.js';

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
    const o = { momentum: 0, dampening: 0, nesterov: false, weightDecay: 0, ...options };
    this.checkLr(o.lr);
    if (!(o.momentum >= 0)) throw new ValueError(`SGD: invalid momentum ${o.momentum}.`);
    if (!(o.weightDecay >= 0)) throw new ValueError(`SGD: invalid weightDecay ${o.weightDecay}.`);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new ValueError(`SGD: nesterov momentum needs momentum > 0 and dampening 0 (got momentum ${o.momentum}, dampening ${o.dampening}).`);
    }
    this.options = o;
  }

  exportState(): { tensors: [string, Tensor | number][]; settings: Record<string, string> } {
    const tensors: [string, Tensor][] = [];
    this.params.forEach((p, i) => {
      const buf = this.momentumBuffers.get(p);
      if (buf) tensors.push([`state.${i}.momentum_buffer`, buf]);
    });
    const o = this.options;
    return { tensors, settings: { lr: String(o.lr), momentum: String(o.momentum), dampening: String(o.dampening), nesterov: String(o.nesterov), weight_decay: String(o.weightDecay) } };
  }

  importState(file: Map<string, HostArray>, settings: Record<string, string>): void {
    const expected: [string, readonly number[]][] = [];
    this.params.forEach((p, i) => {
      if (file.has(`state.${i}.momentum_buffer`)) expected.push([`state.${i}.momentum_buffer`, p.shape]);
    });
    checkTensors('loadOptimizer(SGD)', expected, file);
    this.params.forEach((p, i) => {
      const t = file.get(`state.${i}.momentum_buffer`);
      this.momentumBuffers.get(p)?.dispose();
      this.momentumBuffers.delete(p);
      if (t) this.momentumBuffers.set(p, tensor(t.data, { shape: p.shape }).pin());
    });
    this.restoreLr(settings);
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
