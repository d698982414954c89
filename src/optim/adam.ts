// optim.Adam and optim.AdamW with PyTorch's update rules (shaders/adam.wgsl), in place on the GPU.
// Adam adds weight decay to the gradient (L2); AdamW decays the weights directly (decoupled).

import { checkOptionNames, describeValue, showSetting } from '../arguments.js';
import { tensor, zeros } from '../creation.js';
import { ValueError } from '../errors.js';
import { grid1d, Params } from '../ops/common.js';
import { adamKernel, adamVec4Kernel } from '../ops/kernels.js';
import { checkTensors, FileSettings, type HostArray } from '../state_file.js';
import type { Tensor } from '../tensor.js';
import { Optimizer } from './optimizer.js';

/** Settings of optim.Adam and optim.AdamW, named and defaulted as in PyTorch. */
export interface AdamOptions {
  /** Learning rate (default 1e-3). */
  lr?: number;
  /** Decay rates of the first and second moment estimates, each in [0, 1) (default [0.9, 0.999]). */
  betas?: [number, number];
  /** Added to the denominator for numerical stability (default 1e-8). */
  eps?: number;
  /** Weight decay: an L2 term on the gradient for Adam, decoupled for AdamW (default 0; AdamW 0.01). */
  weightDecay?: number;
}

interface Moments {
  expAvg: Tensor;
  expAvgSq: Tensor;
  step: number;
}

/** Adam with PyTorch's update rule, in place on the GPU; weightDecay adds an L2 term to the gradient. */
export class Adam extends Optimizer {
  /** The settings in force, defaults filled in (lr changes when a schedule sets it). */
  readonly options: Required<AdamOptions>;
  private readonly state = new Map<Tensor, Moments>();
  private created: Tensor[] = [];
  private stepped: Moments[] = [];
  protected readonly decoupled: boolean = false;

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}, defaultWeightDecay = 0) {
    super(params);
    checkOptionNames(this.kind, options, ['lr', 'betas', 'eps', 'weightDecay']);
    const o = { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: defaultWeightDecay, ...options };
    const name = this.kind;
    this.checkLr(o.lr);
    this.checkSetting('eps', o.eps);
    const betas: unknown = o.betas;
    if (!Array.isArray(betas) || betas.length !== 2) {
      const shown = Array.isArray(betas) ? `[${betas.map(showSetting).join(', ')}]` : describeValue(betas);
      throw new ValueError(`${name}: betas must be a pair of numbers in [0, 1), got ${shown}.`);
    }
    betas.forEach((b: unknown, i) => {
      if (!(typeof b === 'number' && b >= 0 && b < 1)) throw new ValueError(`${name}: invalid beta${i + 1} ${showSetting(b)} (must be in [0, 1)).`);
    });
    this.checkSetting('weightDecay', o.weightDecay);
    // A copy: the caller's array changing later must not change the update.
    this.options = { ...o, betas: [o.betas[0], o.betas[1]] };
  }

  /** 'Adam' (AdamW overrides it); subclasses keep it (see Optimizer.kind). */
  get kind(): 'Adam' | 'AdamW' {
    return 'Adam';
  }

  exportState(): { tensors: [string, Tensor | number][]; settings: Record<string, string> } {
    const tensors: [string, Tensor | number][] = [];
    this.params.forEach((p, i) => {
      const s = this.state.get(p);
      if (!s) return;
      tensors.push([`state.${i}.exp_avg`, s.expAvg], [`state.${i}.exp_avg_sq`, s.expAvgSq], [`state.${i}.step`, s.step]);
    });
    const o = this.options;
    return {
      tensors,
      settings: { lr: String(o.lr), beta1: String(o.betas[0]), beta2: String(o.betas[1]), eps: String(o.eps), weight_decay: String(o.weightDecay) },
    };
  }

  importState(file: Map<string, HostArray>, settings: Record<string, string>): void {
    const what = `loadOptimizer(${this.kind})`;
    // Everything is checked before anything changes.
    const read = new FileSettings(what, settings, ['lr', 'beta1', 'beta2', 'eps', 'weight_decay']);
    const o = this.options;
    const inUnit = (v: number) => v >= 0 && v < 1;
    const next: Required<AdamOptions> = {
      lr: read.number('lr', o.lr, 'a finite number ≥ 0', (v) => v >= 0),
      betas: [read.number('beta1', o.betas[0], 'in [0, 1)', inUnit), read.number('beta2', o.betas[1], 'in [0, 1)', inUnit)],
      eps: read.number('eps', o.eps, 'a finite number ≥ 0', (v) => v >= 0),
      weightDecay: read.number('weight_decay', o.weightDecay, 'a finite number ≥ 0', (v) => v >= 0),
    };
    const names = (i: number) => ({ expAvg: `state.${i}.exp_avg`, expAvgSq: `state.${i}.exp_avg_sq`, step: `state.${i}.step` });
    const expected: [string, readonly number[]][] = [];
    this.params.forEach((p, i) => {
      const n = names(i);
      if (file.has(n.step)) expected.push([n.expAvg, p.shape], [n.expAvgSq, p.shape], [n.step, []]);
    });
    checkTensors(what, expected, file);
    const steps = this.params.map((_, i) => {
      const step = file.get(names(i).step)?.data[0];
      if (step !== undefined && !(Number.isInteger(step) && step >= 1)) {
        throw new ValueError(`${what}: ${names(i).step} is ${step}; a step count must be an integer ≥ 1.`);
      }
      return step;
    });
    // As PyTorch's load_state_dict: the file's state replaces the current one. Moments that exist
    // are overwritten in place (the same tensors and the same record), so a captured step that
    // binds them keeps replaying correctly.
    const created: [Tensor, Moments][] = [];
    try {
      this.params.forEach((p, i) => {
        const step = steps[i];
        if (step === undefined) return;
        const expAvg = file.get(names(i).expAvg)!.data;
        const expAvgSq = file.get(names(i).expAvgSq)!.data;
        const current = this.state.get(p);
        if (current) {
          current.expAvg.write(expAvg);
          current.expAvgSq.write(expAvgSq);
        } else {
          created.push([p, { expAvg: tensor(expAvg, { shape: p.shape }).pin(), expAvgSq: tensor(expAvgSq, { shape: p.shape }).pin(), step }]);
        }
      });
    } catch (err) {
      for (const [, m] of created) [m.expAvg, m.expAvgSq].forEach((t) => t.dispose());
      throw err;
    }
    this.params.forEach((p, i) => {
      const current = this.state.get(p);
      if (!current) return;
      const step = steps[i];
      if (step !== undefined) current.step = step;
      else {
        [current.expAvg, current.expAvgSq].forEach((t) => t.dispose());
        this.state.delete(p);
      }
    });
    for (const [p, m] of created) this.state.set(p, m);
    Object.assign(this.options, next);
  }

  protected stateTensors(): Tensor[] {
    return [...this.state.values()].flatMap((s) => [s.expAvg, s.expAvgSq]);
  }

  /** The moments and step count of a parameter (null before its first step). */
  moments(p: Tensor): Readonly<Moments> | null {
    return this.state.get(p) ?? null;
  }

  protected override undoUpdate(): void {
    for (const s of this.stepped) s.step--;
    for (const t of this.created) {
      for (const [p, s] of this.state) if (s.expAvg === t) this.state.delete(p);
      t.dispose();
    }
    this.created = [];
    this.stepped = [];
  }

  protected recordUpdate(): void {
    this.created = [];
    this.stepped = [];
    for (const [index, p] of this.params.entries()) {
      const g = p.grad;
      if (!g) continue;
      let s = this.state.get(p);
      if (!s) {
        s = { expAvg: zeros(p.shape).pin(), expAvgSq: zeros(p.shape).pin(), step: 0 };
        this.state.set(p, s);
        this.created.push(s.expAvg, s.expAvgSq);
      }
      s.step++;
      this.stepped.push(s);
      const state = s;
      // Four floats per invocation where the size allows (adamVec4Kernel); n counts vec4s then.
      const unit = p.size % 4 === 0 ? 4 : 1;
      const words = (): Uint32Array<ArrayBuffer> => {
        const {
          lr,
          betas: [beta1, beta2],
          eps,
          weightDecay,
        } = this.options;
        const stepSize = lr / (1 - beta1 ** state.step);
        const bc2Sqrt = Math.sqrt(1 - beta2 ** state.step);
        return new Params()
          .u(p.size / unit, this.decoupled ? 1 : 0, 0, 0)
          .f(lr, beta1, beta2, eps, weightDecay, stepSize, bc2Sqrt, 0)
          .done();
      };
      const scheduler = p.runtime.scheduler;
      scheduler.withLabel(
        () => `${this.kind}.step (parameter ${index} [${p.shape.join(', ')}])`,
        () =>
          scheduler.record({
            kernel: unit === 4 ? adamVec4Kernel : adamKernel,
            params: words(),
            // Each replay of a captured step is one more Adam step for this parameter.
            refresh: () => {
              state.step++;
              return words();
            },
            storages: [p.storage, g.storage, s.expAvg.storage, s.expAvgSq.storage],
            workgroups: grid1d(p.size / unit),
          }),
      );
    }
  }
}

/** Adam with decoupled weight decay (PyTorch's AdamW; its default weightDecay is 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  /** Always 'AdamW', also for subclasses (see Optimizer.kind). */
  override get kind(): 'AdamW' {
    return 'AdamW';
  }

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, options, 0.01);
  }
}
