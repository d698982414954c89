// optim.Adam and optim.AdamW with PyTorch's update rules (shaders/adam.wgsl), in place on the GPU.
// Adam adds weight decay to the gradient (L2); AdamW decays the weights directly (decoupled).
import type { Tensor } from '../tensor.js';
import { zeros } from '../creation.js';
import { ValueError } from '../errors.js';
import { adamKernel } from '../ops/kernels.js';
import { Params, grid1d } from '../ops/common.js';
import { Optimizer } from './optimizer.js';
import { tensor } from '../creation.js';
import { checkTensors } from '../io/checkpoint.js';
import type { HostArray } from '../io/safetensors.js';

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
    const o = { lr: 1e-3, betas: [0.9, 0.999] as [number, number], eps: 1e-8, weightDecay: defaultWeightDecay, ...options };
    const name = this.constructor.name;
    this.checkLr(o.lr);
    if (!(o.eps >= 0)) throw new ValueError(`${name}: invalid eps ${o.eps}.`);
    o.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new ValueError(`${name}: invalid beta${i + 1} ${b} (must be in [0, 1)).`);
    });
    if (!(o.weightDecay >= 0)) throw new ValueError(`${name}: invalid weightDecay ${o.weightDecay}.`);
    this.options = o;
  }

  exportState(): { tensors: [string, Tensor | number][]; settings: Record<string, string> } {
    const tensors: [string, Tensor | number][] = [];
    this.params.forEach((p, i) => {
      const s = this.state.get(p);
      if (!s) return;
      tensors.push([`state.${i}.exp_avg`, s.expAvg], [`state.${i}.exp_avg_sq`, s.expAvgSq], [`state.${i}.step`, s.step]);
    });
    const o = this.options;
    return { tensors, settings: { lr: String(o.lr), beta1: String(o.betas[0]), beta2: String(o.betas[1]), eps: String(o.eps), weight_decay: String(o.weightDecay) } };
  }

  importState(file: Map<string, HostArray>, settings: Record<string, string>): void {
    const name = `loadOptimizer(${this.constructor.name})`;
    const expected: [string, readonly number[]][] = [];
    this.params.forEach((p, i) => {
      if (!file.has(`state.${i}.step`)) return;
      expected.push([`state.${i}.exp_avg`, p.shape], [`state.${i}.exp_avg_sq`, p.shape], [`state.${i}.step`, []]);
    });
    checkTensors(name, expected, file);
    this.params.forEach((p, i) => {
      const step = file.get(`state.${i}.step`);
      const old = this.state.get(p);
      if (old) [old.expAvg, old.expAvgSq].forEach((t) => t.dispose());
      this.state.delete(p);
      if (!step) return;
      this.state.set(p, {
        expAvg: tensor(file.get(`state.${i}.exp_avg`)!.data, { shape: p.shape }).pin(),
        expAvgSq: tensor(file.get(`state.${i}.exp_avg_sq`)!.data, { shape: p.shape }).pin(),
        step: step.data[0]!,
      });
    });
    this.restoreLr(settings);
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
      const words = (): Uint32Array<ArrayBuffer> => {
        const { lr, betas: [beta1, beta2], eps, weightDecay } = this.options;
        const stepSize = lr / (1 - beta1 ** state.step);
        const bc2Sqrt = Math.sqrt(1 - beta2 ** state.step);
        return new Params().u(p.size, this.decoupled ? 1 : 0, 0, 0).f(lr, beta1, beta2, eps, weightDecay, stepSize, bc2Sqrt, 0).done();
      };
      p.runtime.scheduler.currentLabel = `${this.constructor.name}.step (parameter ${index} [${p.shape.join(', ')}])`;
      p.runtime.scheduler.record({
        kernel: adamKernel,
        params: words(),
        // Each replay of a captured step is one more Adam step for this parameter.
        refresh: () => {
          state.step++;
          return words();
        },
        storages: [p.storage, g.storage, s.expAvg.storage, s.expAvgSq.storage],
        workgroups: grid1d(p.size),
      });
    }
  }
}

/** Adam with decoupled weight decay (PyTorch's AdamW; its default weightDecay is 0.01). */
export class AdamW extends Adam {
  protected override readonly decoupled: boolean = true;

  constructor(params: Iterable<Tensor>, options: AdamOptions = {}) {
    super(params, options, 0.01);
  }
}
