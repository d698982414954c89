// optim.SGD with PyTorch's exact update rule (shaders/sgd.wgsl), in place on the GPU:
//   d = g + weightDecay · p
//   momentum: buf = d (first step) or momentum · buf + (1 − dampening) · d; d = nesterov ? d + momentum · buf : buf
//   p = p − lr · d
import { Tensor } from '../tensor.js';
import { Storage } from '../runtime/scheduler.js';
import { ValueError } from '../errors.js';
import { sgdMomentumKernel, sgdMomentumMultiKernel, sgdPlainKernel, sgdPlainMultiKernel } from '../ops/kernels.js';
import { Params, grid1d } from '../ops/common.js';
import { Optimizer } from './optimizer.js';
import { prefersOneDispatchUpdate } from '../ops/adapter_choices.js';
import { tensor } from '../creation.js';
import { checkTensors } from '../io/checkpoint.js';
import type { HostArray } from '../io/safetensors.js';

/** Elements of one parameter that one workgroup of the multi-parameter update handles. */
const SGD_CHUNK = 1024;

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
    const updates: { index: number; p: Tensor; g: Tensor; buf: Tensor | null; first: boolean }[] = [];
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
    if (updates.length === 0) return;
    const rt = updates[0]!.p.runtime;
    // Four parameters per dispatch where that is faster (see adapter_choices.ts) and the device
    // binds enough storage buffers (8 for plain SGD — every device; 12 with momentum); the rest
    // one dispatch each. Parameters on their
    // first momentum step go together, as the flag is per dispatch.
    const perSlot = momentum === 0 ? 2 : 3;
    const multi = prefersOneDispatchUpdate(rt.ctx.adapter) && rt.ctx.limits.maxStorageBuffersPerShaderStage >= 4 * perSlot;
    for (const first of [true, false]) {
      const group = updates.filter((u) => u.first === first);
      let at = 0;
      for (; multi && at + 4 <= group.length; at += 4) this.recordMulti(group.slice(at, at + 4), first);
      for (; at < group.length; at++) this.recordSingle(group[at]!, first);
    }
  }

  /** For a captured step: whether momentum is still on (or off) as when the update was recorded. */
  private recordedWith(withMomentum: boolean): () => boolean {
    return () => (this.options.momentum !== 0) === withMomentum;
  }

  /** Words of the update's settings (the settings in force when called: a replay calls it again). */
  private settings(first: boolean): Params {
    const o = this.options;
    return new Params().u(first ? 1 : 0, o.nesterov ? 1 : 0, 0, 0).f(o.lr, o.momentum, o.dampening, o.weightDecay);
  }

  private recordSingle(u: { index: number; p: Tensor; g: Tensor; buf: Tensor | null }, first: boolean): void {
    const { p, g, buf, index } = u;
    const scheduler = p.runtime.scheduler;
    scheduler.currentLabel = `SGD.step (parameter ${index} [${p.shape.join(', ')}])`;
    const n = p.size;
    // A captured step replays this dispatch; refresh gives it the settings in force then (and,
    // for momentum, replays come after this first step, so the buffer is initialised by then).
    // One layout for both kernels of sgd.wgsl (the plain one reads lr and weight decay only).
    const o = this.options;
    const words = (isFirst: boolean): Uint32Array<ArrayBuffer> =>
      new Params().u(n, isFirst ? 1 : 0, o.nesterov ? 1 : 0, 0).f(o.lr, o.momentum, o.dampening, o.weightDecay).done();
    scheduler.record({
      kernel: buf ? sgdMomentumKernel : sgdPlainKernel,
      params: words(first),
      refresh: () => words(false),
      valid: this.recordedWith(buf !== null),
      storages: buf ? [p.storage, g.storage, buf.storage] : [p.storage, g.storage],
      workgroups: grid1d(n),
    });
  }

  private recordMulti(group: { index: number; p: Tensor; g: Tensor; buf: Tensor | null }[], first: boolean): void {
    const scheduler = group[0]!.p.runtime.scheduler;
    scheduler.currentLabel = `SGD.step (parameters ${group.map((u) => u.index).join(', ')})`;
    // Each parameter gets whole workgroups of SGD_CHUNK elements (see sgd_multi.wgsl).
    const sizes = group.map((u) => u.p.size);
    const groupEnds: number[] = [];
    let groups = 0;
    for (const n of sizes) {
      groups += Math.ceil(n / SGD_CHUNK);
      groupEnds.push(groups);
    }
    const words = (isFirst: boolean): Uint32Array<ArrayBuffer> => new Params().u(...sizes).u(...groupEnds).u(...this.settings(isFirst).raw()).done();
    const plain = group[0]!.buf === null;
    scheduler.record({
      kernel: plain ? sgdPlainMultiKernel : sgdMomentumMultiKernel,
      params: words(first),
      refresh: () => words(false),
      valid: this.recordedWith(!plain),
      storages: group.flatMap((u) => (plain ? [u.p.storage, u.g.storage] : [u.p.storage, u.g.storage, u.buf!.storage])),
      workgroups: grid1d(groups, 1),
    });
  }
}
